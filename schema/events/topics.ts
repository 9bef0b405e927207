// The shared topic contracts of the product: each topic's Kafka settings, record key, event
// types (version and payload check) and owning team, as values. Readers locate a key's
// partition with the declared partition count, so a count changes here or nowhere.
//
// All keep their records forever: Kafka is the system of record and every view must be
// rebuildable by replaying its topics from the start.
import { defineTopic } from './contract';
import type { EventOf } from './envelope';
import { array, int, isoTime, obj, oneOf, optional, str } from './validate';

export const CUSTOMER_TIERS = ['STANDARD', 'PLUS'] as const;
export const ORDER_STATUSES = [
  'PLACED',
  // The store's inventory reserved every unit (CONFIRMED) or fell short on some (PARTIALLY_CONFIRMED):
  // see docs/reservations.md. Added values only: older events still validate.
  'CONFIRMED',
  'PARTIALLY_CONFIRMED',
  'SHOPPER_ASSIGNED',
  'PICKING',
  'OUT_FOR_DELIVERY',
  'DELIVERED',
  'CANCELED',
] as const;
/** How a reservation ends: the order was canceled (units go back) or delivered (units leave the store). */
export const RESERVATION_ENDINGS = ['RELEASED', 'CONSUMED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export type CustomerTier = (typeof CUSTOMER_TIERS)[number];

const id = str({ min: 1, max: 128 });
const cents = int({ min: 0, max: 1_000_000_000 });
/** Six partitions, kept forever: what every shared topic uses. */
const KEPT_FOREVER = { partitions: 6, cleanupPolicy: 'delete', retentionMs: -1 } as const;

export const CUSTOMERS_TOPIC = defineTopic({
  name: 'customers',
  ...KEPT_FOREVER,
  keyedBy: 'customerId',
  owner: 'customers',
  events: {
    CustomerRegistered: {
      version: 1,
      payload: obj({ customerId: id, name: str({ max: 200 }), email: str({ max: 320 }), tier: oneOf(CUSTOMER_TIERS) }),
    },
    CustomerUpdated: {
      version: 1,
      payload: obj({
        customerId: id,
        name: optional(str({ max: 200 })),
        email: optional(str({ max: 320 })),
        tier: optional(oneOf(CUSTOMER_TIERS)),
      }),
    },
  },
});

export const CATALOG_PRODUCTS_TOPIC = defineTopic({
  name: 'catalog.products',
  ...KEPT_FOREVER,
  keyedBy: 'productId',
  owner: 'catalog',
  events: {
    ProductUpserted: {
      version: 1,
      payload: obj({
        productId: id,
        name: str({ max: 300 }),
        brand: optional(str({ max: 200 })),
        category: str({ max: 100 }),
        priceCents: cents,
      }),
    },
  },
});

export const CATALOG_INVENTORY_TOPIC = defineTopic({
  name: 'catalog.inventory',
  ...KEPT_FOREVER,
  keyedBy: 'storeId',
  owner: 'catalog',
  events: {
    StoreUpserted: { version: 1, payload: obj({ storeId: id, name: str({ max: 200 }) }) },
    InventoryReported: { version: 1, payload: obj({ storeId: id, productId: id, quantity: int({ min: 0, max: 10_000_000 }) }) },
    // The catalog's reservation router re-keys the orders topic by store (docs/reservations.md),
    // so the store's one inventory writer folds placements, ends and reports in one order.
    ReservationRequested: {
      version: 1,
      payload: obj({
        storeId: id,
        orderId: id,
        // Carried through to the outcome, so the orders team can relay it without a lookup.
        customerId: id,
        totalCents: cents,
        items: array(obj({ productId: id, quantity: int({ min: 1, max: 1000 }) }), { min: 1, max: 200 }),
      }),
    },
    ReservationEnded: {
      version: 1,
      payload: obj({ storeId: id, orderId: id, outcome: oneOf(RESERVATION_ENDINGS), productIds: array(id, { max: 200 }) }),
    },
    ItemNotFoundReported: { version: 1, payload: obj({ storeId: id, productId: id, orderId: id }) },
  },
});

export const ORDERS_TOPIC = defineTopic({
  name: 'orders',
  ...KEPT_FOREVER,
  keyedBy: 'orderId',
  owner: 'orders',
  events: {
    OrderPlaced: {
      version: 1,
      payload: obj({
        orderId: id,
        customerId: id,
        storeId: id,
        items: array(obj({ productId: id, quantity: int({ min: 1, max: 1000 }), unitPriceCents: cents }), { min: 1, max: 200 }),
        totalCents: cents,
      }),
    },
    // Carries the order's customer, store and total so that other domains' views (customer
    // 360, a store's order board) can fold it without keeping their own copy of every order.
    OrderStatusChanged: {
      version: 1,
      payload: obj({
        orderId: id,
        customerId: id,
        storeId: id,
        totalCents: cents,
        from: oneOf(ORDER_STATUSES),
        to: oneOf(ORDER_STATUSES),
        by: optional(str({ min: 1, max: 200 })),
        // The order's product ids, so the store's inventory can release or consume their
        // reservations without a copy of every order. Absent on events written before reservations.
        productIds: optional(array(id, { max: 200 })),
        // With to CONFIRMED or PARTIALLY_CONFIRMED: the store inventory's decision, per item the
        // units it holds (relayed from catalog.reservations; docs/reservations.md).
        reservation: optional(array(obj({ productId: id, quantity: int({ min: 1, max: 1000 }), reserved: int({ min: 0, max: 1000 }) }), { min: 1, max: 200 })),
        // A shopper did not find this product in the aisle: the item is short on the order. The
        // status does not move (from equals to).
        notFound: optional(id),
      }),
    },
    // The shopper's latest estimate of the delivery time: while an order is under way this is
    // its most frequent change (a courier's app updates it every few seconds).
    OrderEtaUpdated: {
      version: 1,
      payload: obj({
        orderId: id,
        customerId: id,
        storeId: id,
        estimatedDeliveryAt: isoTime(),
        by: optional(str({ min: 1, max: 200 })),
      }),
    },
  },
});

export type CustomersEvent = EventOf<typeof CUSTOMERS_TOPIC>;
export type CatalogProductsEvent = EventOf<typeof CATALOG_PRODUCTS_TOPIC>;
export type CatalogInventoryEvent = EventOf<typeof CATALOG_INVENTORY_TOPIC>;
export type OrdersEvent = EventOf<typeof ORDERS_TOPIC>;
