// The orders domain's views, as pure folds: orders by id (with a per-customer index), and
// the orders team's own copies of what the catalog publishes: product prices and store ids.
import {
  CATALOG_INVENTORY_TOPIC,
  CATALOG_PRODUCTS_CDC_TOPIC,
  CATALOG_RESERVATIONS_TOPIC,
  ORDERS_TOPIC,
  productRecordKey,
  type OrdersEvent,
  type OrderStatus,
} from '../../schema/events';
import type { Projection } from '../runtime/projection';
import { DECIDED_STATUSES, isLegalTransition, sameStage } from './transitions';

export interface OrderItemState {
  readonly productId: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
  /** Units the store's inventory holds for the item; absent until its decision. */
  readonly reserved?: number;
  /** A shopper did not find it in the aisle: the whole item is short. */
  readonly notFound?: boolean;
}

export interface OrderState {
  readonly id: string;
  readonly customerId: string;
  readonly storeId: string;
  readonly items: readonly OrderItemState[];
  readonly status: OrderStatus;
  /** eventId lets a command tell its own transition from a concurrent one. */
  readonly statusHistory: ReadonlyArray<{ readonly status: OrderStatus; readonly at: string; readonly eventId: string }>;
  readonly totalCents: number;
  readonly placedAt: string;
  readonly updatedAt: string;
  readonly version: number;
  /** The latest delivery estimate; absent until the first one. */
  readonly estimatedDeliveryAt?: string;
  /** When the store's inventory decided the reservation; absent until then (docs/reservations.md). */
  readonly reservedAt?: string;
}

/** Units of an item not held for the order: null before the decision. */
export function shortOf(item: OrderItemState): number | null {
  if (item.notFound) return item.quantity;
  return item.reserved === undefined ? null : item.quantity - item.reserved;
}

/** A store the catalog has published: orders are only placed at stores that exist. */
export interface KnownStore {
  readonly id: string;
}

export interface ProductPrice {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
  /** The catalog database's log position (LSN) of the change this price comes from. */
  readonly sourceLsn: number;
}

/** Orders by id; `customer:<id>` lists a customer's orders newest first (score = -placedAt). */
export const ordersProjection: Projection<typeof ORDERS_TOPIC, OrderState> = {
  name: 'orders.orders',
  topic: ORDERS_TOPIC,
  reads: (e) => [e.payload.orderId],
  recordKeyOf: (id) => id,
  apply(view, e: OrdersEvent) {
    const id = e.payload.orderId;
    const cur = view.get(id);
    switch (e.type) {
      case 'OrderPlaced': {
        if (cur) return new Map(); // a replayed or duplicated placement changes nothing
        const p = e.payload;
        return new Map([
          [
            id,
            {
              id,
              customerId: p.customerId,
              storeId: p.storeId,
              items: p.items,
              status: 'PLACED' as const,
              statusHistory: [{ status: 'PLACED' as const, at: e.occurredAt, eventId: e.eventId }],
              totalCents: p.totalCents,
              placedAt: e.occurredAt,
              updatedAt: e.occurredAt,
              version: 1,
            },
          ],
        ]);
      }
      case 'OrderStatusChanged': {
        if (!cur) throw new Error(`status change for unknown order ${id}`);
        const p = e.payload;
        if (p.notFound !== undefined) return markNotFound(cur, p.notFound, e.occurredAt);
        if (p.reservation !== undefined) return decide(cur, p.to, p.reservation, e);
        // Lost a race with another transition (both checked the same state): nothing changes,
        // and the command that emitted it reports INVALID_TRANSITION. A confirmation in between
        // is no such race: the shopper's step still applies.
        if (!sameStage(cur.status, p.from) || DECIDED_STATUSES.includes(p.to) || !isLegalTransition(cur.status, p.to)) return new Map();
        return new Map([
          [
            id,
            {
              ...cur,
              status: p.to,
              statusHistory: [...cur.statusHistory, { status: p.to, at: e.occurredAt, eventId: e.eventId }],
              updatedAt: e.occurredAt,
              version: cur.version + 1,
            },
          ],
        ]);
      }
      case 'OrderEtaUpdated': {
        if (!cur) throw new Error(`delivery estimate for unknown order ${id}`);
        // A finished order has no delivery ahead of it; a repeat of the same estimate is no change.
        if (cur.status === 'DELIVERED' || cur.status === 'CANCELED' || cur.estimatedDeliveryAt === e.payload.estimatedDeliveryAt) return new Map();
        return new Map([[id, { ...cur, estimatedDeliveryAt: e.payload.estimatedDeliveryAt, updatedAt: e.occurredAt, version: cur.version + 1 }]]);
      }
    }
  },
  indexes: (_id, s) => [{ index: `customer:${s.customerId}`, score: -Date.parse(s.placedAt) }],
};

/**
 * The store inventory's decision (relayed at least once): the first one sets what each item
 * holds and, if the order is still PLACED, confirms it; a repeat changes nothing.
 */
function decide(
  cur: OrderState,
  to: OrderStatus,
  reservation: ReadonlyArray<{ productId: string; quantity: number; reserved: number }>,
  e: { occurredAt: string; eventId: string },
): Map<string, OrderState> {
  if (cur.reservedAt !== undefined || !DECIDED_STATUSES.includes(to)) return new Map();
  // Items in the order given; an order may name a product twice, each taking its own line.
  const left = reservation.map((r) => ({ ...r }));
  const items = cur.items.map((item) => {
    const line = left.find((r) => r.productId === item.productId && r.quantity === item.quantity);
    if (line) left.splice(left.indexOf(line), 1);
    return { ...item, reserved: item.notFound ? 0 : (line?.reserved ?? 0) };
  });
  const confirm = cur.status === 'PLACED';
  return new Map([
    [
      cur.id,
      {
        ...cur,
        items,
        reservedAt: e.occurredAt,
        ...(confirm ? { status: to, statusHistory: [...cur.statusHistory, { status: to, at: e.occurredAt, eventId: e.eventId }] } : {}),
        updatedAt: e.occurredAt,
        version: cur.version + 1,
      },
    ],
  ]);
}

/** An item the shopper did not find: short on the order, whatever was reserved for it. */
function markNotFound(cur: OrderState, productId: string, at: string): Map<string, OrderState> {
  if (cur.status === 'DELIVERED' || cur.status === 'CANCELED') return new Map();
  if (!cur.items.some((i) => i.productId === productId && !i.notFound)) return new Map();
  const items = cur.items.map((i) => (i.productId === productId ? { ...i, notFound: true, reserved: 0 } : i));
  return new Map([[cur.id, { ...cur, items, updatedAt: at, version: cur.version + 1 }]]);
}

/** What the orders team knows of a store's stock: the units still available, as the catalog last published. */
export interface KnownAvailability {
  readonly storeId: string;
  readonly productId: string;
  readonly available: number;
}

export const availabilityId = (storeId: string, productId: string) => `${encodeURIComponent(storeId)}:${encodeURIComponent(productId)}`;

/**
 * The orders team's copy of each stock level's availability, from the catalog's reservation
 * outcomes (keyed by store, so a store's levels live in its partition): placeOrder refuses an
 * item this view already shows unavailable. It can be behind; the store's writer still decides.
 */
export const availabilityProjection: Projection<typeof CATALOG_RESERVATIONS_TOPIC, KnownAvailability> = {
  name: 'orders.availability',
  topic: CATALOG_RESERVATIONS_TOPIC,
  reads: (e) => e.payload.levels.map((l) => availabilityId(e.payload.storeId, l.productId)),
  recordKeyOf: (id) => decodeURIComponent(id.split(':')[0]),
  notify: false,
  apply(view, e) {
    const out = new Map<string, KnownAvailability>();
    for (const l of e.payload.levels) {
      const id = availabilityId(e.payload.storeId, l.productId);
      if (view.get(id)?.available !== l.available) out.set(id, { storeId: e.payload.storeId, productId: l.productId, available: l.available });
    }
    return out;
  },
};

/**
 * The orders team's own copy of product names and prices, folded from the catalog database's
 * change stream (the same CDC topic the catalog's view reads): a deleted product has no price,
 * so it cannot be ordered. Re-sent changes (at least once) are skipped by their LSN.
 */
export const productPricesProjection: Projection<typeof CATALOG_PRODUCTS_CDC_TOPIC, ProductPrice> = {
  name: 'orders.productPrices',
  topic: CATALOG_PRODUCTS_CDC_TOPIC,
  reads: (e) => [e.payload.id],
  recordKeyOf: productRecordKey,
  notify: false,
  alreadyApplied: (view, e) => {
    const cur = view.get(e.payload.id);
    return cur !== undefined && typeof cur.sourceLsn === 'number' && e.payload.lsn <= cur.sourceLsn;
  },
  apply(view, e) {
    const p = e.payload;
    if (p.op === 'd') return new Map([[p.id, undefined]]);
    const cur = view.get(p.id);
    if (cur && cur.name === p.row.name && cur.priceCents === p.row.price_cents) return new Map();
    return new Map([[p.id, { id: p.id, name: p.row.name, priceCents: p.row.price_cents, sourceLsn: p.lsn }]]);
  },
};

/**
 * The ids of the stores the catalog has published (StoreUpserted on catalog.inventory), so
 * placeOrder can refuse an unknown store without asking the catalog. Stock reports, the
 * topic's most frequent events, change nothing here and are passed over unparsed.
 */
export const knownStoresProjection: Projection<typeof CATALOG_INVENTORY_TOPIC, KnownStore> = {
  name: 'orders.stores',
  topic: CATALOG_INVENTORY_TOPIC,
  reads: (e) => (e.type === 'StoreUpserted' ? [e.payload.storeId] : []),
  recordKeyOf: (id) => id,
  notify: false,
  types: ['StoreUpserted'],
  apply(view, e) {
    // A rename is no change to a store's existence; a stock report (a record without the
    // event-type header) names no store to learn.
    if (e.type !== 'StoreUpserted' || view.get(e.payload.storeId)) return new Map();
    return new Map([[e.payload.storeId, { id: e.payload.storeId }]]);
  },
};
