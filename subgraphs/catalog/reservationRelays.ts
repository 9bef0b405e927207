// The two relays around the store's inventory writer (docs/reservations.md):
// - the router re-keys the orders topic by store: a placement becomes a ReservationRequested,
//   a cancel or delivery a ReservationEnded, an item not found an ItemNotFoundReported, all on
//   catalog.inventory, so the one consumer of a store's partition sees them in one order with
//   the store's reports;
// - the outcome relay publishes what that writer decided, read from its view once the view has
//   applied the request, on catalog.reservations (keyed by store).
// Both are at least once; the inventory fold decides an order once whatever is repeated, and the
// orders fold takes the first decision only.
import {
  CATALOG_INVENTORY_TOPIC,
  CATALOG_RESERVATIONS_TOPIC,
  createEvent,
  ORDERS_TOPIC,
  type CatalogInventoryEvent,
  type Envelope,
  type OrdersEvent,
} from '../../schema/events';
import { startRelay, type RelayHandle } from '../runtime/relay';
import type { SubgraphRuntime, View } from '../runtime/subgraphRuntime';
import { isLevel, isReservation, levelEntityId, reservationEntityId, type InventoryEntity } from './projection';

/** How long the outcome relay waits for the inventory view to apply a request before retrying the batch. */
const VIEW_WAIT_MS = 30_000;

/** The router's events for one orders event (none for most status changes). */
export function routedEvents(e: OrdersEvent): Envelope<string, unknown>[] {
  const p = e.payload;
  switch (e.type) {
    case 'OrderPlaced':
      return [
        createEvent(CATALOG_INVENTORY_TOPIC, 'ReservationRequested', {
          storeId: p.storeId,
          orderId: p.orderId,
          customerId: e.payload.customerId,
          totalCents: e.payload.totalCents,
          items: e.payload.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
        }),
      ];
    case 'OrderStatusChanged': {
      const s = e.payload;
      if (s.notFound !== undefined)
        return [createEvent(CATALOG_INVENTORY_TOPIC, 'ItemNotFoundReported', { storeId: s.storeId, productId: s.notFound, orderId: s.orderId })];
      if (s.to === 'CANCELED' || s.to === 'DELIVERED')
        return [
          createEvent(CATALOG_INVENTORY_TOPIC, 'ReservationEnded', {
            storeId: s.storeId,
            orderId: s.orderId,
            outcome: s.to === 'CANCELED' ? 'RELEASED' : 'CONSUMED',
            productIds: [...new Set(s.productIds ?? [])],
          }),
        ];
      return [];
    }
    default:
      return [];
  }
}

/** The outcome events for inventory events the view has applied, read from the view's states. */
export function outcomeEvents(
  events: readonly CatalogInventoryEvent[],
  states: ReadonlyMap<string, InventoryEntity | undefined>,
): Envelope<string, unknown>[] {
  const levelsOf = (storeId: string, productIds: readonly string[]) =>
    [...new Set(productIds)].map((productId) => {
      const l = states.get(levelEntityId(storeId, productId));
      return { productId, available: isLevel(l) ? l.available : 0 };
    });
  return events.flatMap((e): Envelope<string, unknown>[] => {
    switch (e.type) {
      case 'ReservationRequested': {
        const res = states.get(reservationEntityId(e.payload.storeId, e.payload.orderId));
        if (!isReservation(res) || res.items.length === 0) return [];
        return [
          createEvent(CATALOG_RESERVATIONS_TOPIC, 'ReservationDecided', {
            storeId: res.storeId,
            orderId: res.orderId,
            customerId: res.customerId,
            totalCents: res.totalCents,
            items: res.items.map((i) => ({ productId: i.productId, quantity: i.quantity, reserved: i.reserved })),
            levels: levelsOf(res.storeId, res.items.map((i) => i.productId)),
          }),
        ];
      }
      case 'ReservationEnded':
      case 'ItemNotFoundReported':
      case 'InventoryReported': {
        const ids = e.type === 'ReservationEnded' ? e.payload.productIds : [e.payload.productId];
        if (ids.length === 0) return [];
        return [createEvent(CATALOG_RESERVATIONS_TOPIC, 'AvailabilityChanged', { storeId: e.payload.storeId, levels: levelsOf(e.payload.storeId, ids) })];
      }
      default:
        return [];
    }
  });
}

/** The entities outcomeEvents reads for `events`. */
function outcomeReads(events: readonly CatalogInventoryEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    switch (e.type) {
      case 'ReservationRequested':
        ids.add(reservationEntityId(e.payload.storeId, e.payload.orderId));
        for (const i of e.payload.items) ids.add(levelEntityId(e.payload.storeId, i.productId));
        break;
      case 'ReservationEnded':
        for (const p of e.payload.productIds) ids.add(levelEntityId(e.payload.storeId, p));
        break;
      case 'ItemNotFoundReported':
      case 'InventoryReported':
        ids.add(levelEntityId(e.payload.storeId, e.payload.productId));
        break;
    }
  }
  return [...ids];
}

/** Starts the router and the outcome relay of the catalog's reservations. */
export async function startReservationRelays(runtime: SubgraphRuntime, inventory: View<InventoryEntity>, sessionTimeoutMs?: number): Promise<RelayHandle> {
  const inventoryTopic = runtime.topic(CATALOG_INVENTORY_TOPIC);
  const reservationsTopic = runtime.topic(CATALOG_RESERVATIONS_TOPIC);
  const router = await startRelay({
    runtime,
    name: 'reservationRouter',
    sessionTimeoutMs,
    from: ORDERS_TOPIC,
    types: ['OrderPlaced', 'OrderStatusChanged'],
    handle: async (events) => {
      // In log order: a partition's placements and ends reach each store's partition in that order.
      await runtime.producer.publishMany(inventoryTopic, events.flatMap((r) => routedEvents(r.event)));
    },
  });
  try {
    const outcomes = await startRelay({
      runtime,
      name: 'reservationOutcomes',
      sessionTimeoutMs,
      from: CATALOG_INVENTORY_TOPIC,
      types: ['ReservationRequested', 'ReservationEnded', 'ItemNotFoundReported', 'InventoryReported'],
      handle: async (events, at) => {
        // The decision is the view's: read only once the store's writer has applied these records.
        await inventory.handle.waitFor(at.partition, events[events.length - 1].offset, VIEW_WAIT_MS);
        const ids = outcomeReads(events.map((r) => r.event));
        const states = await inventory.reader.getMany(ids);
        const out = outcomeEvents(
          events.map((r) => r.event),
          new Map(ids.map((id, i) => [id, states[i]])),
        );
        await runtime.producer.publishMany(reservationsTopic, out);
      },
    });
    return {
      stop: async () => {
        await Promise.all([router.stop(), outcomes.stop()]);
      },
    };
  } catch (e) {
    await router.stop();
    throw e;
  }
}

