// The payload contract of every event type, per topic: the one place producers,
// projections and tests learn what an event carries.
import { array, int, isoTime, obj, oneOf, optional, str, type Checked } from './validate';

export const CUSTOMER_TIERS = ['STANDARD', 'PLUS'] as const;
export const ORDER_STATUSES = [
  'PLACED',
  'SHOPPER_ASSIGNED',
  'PICKING',
  'OUT_FOR_DELIVERY',
  'DELIVERED',
  'CANCELED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export type CustomerTier = (typeof CUSTOMER_TIERS)[number];

const id = str({ min: 1, max: 128 });
const cents = int({ min: 0, max: 1_000_000_000 });

/** Payload checks per event type, grouped by the topic the type is published on. */
export const PAYLOADS = {
  customers: {
    CustomerRegistered: obj({
      customerId: id,
      name: str({ max: 200 }),
      email: str({ max: 320 }),
      tier: oneOf(CUSTOMER_TIERS),
    }),
    CustomerUpdated: obj({
      customerId: id,
      name: optional(str({ max: 200 })),
      email: optional(str({ max: 320 })),
      tier: optional(oneOf(CUSTOMER_TIERS)),
    }),
  },
  catalogProducts: {
    ProductUpserted: obj({
      productId: id,
      name: str({ max: 300 }),
      brand: optional(str({ max: 200 })),
      category: str({ max: 100 }),
      priceCents: cents,
    }),
  },
  catalogInventory: {
    StoreUpserted: obj({
      storeId: id,
      name: str({ max: 200 }),
    }),
    InventoryReported: obj({
      storeId: id,
      productId: id,
      quantity: int({ min: 0, max: 10_000_000 }),
    }),
  },
  orders: {
    OrderPlaced: obj({
      orderId: id,
      customerId: id,
      storeId: id,
      items: array(
        obj({
          productId: id,
          quantity: int({ min: 1, max: 1000 }),
          unitPriceCents: cents,
        }),
        { min: 1, max: 200 },
      ),
      totalCents: cents,
    }),
    // Carries the order's customer, store and total so that other domains' views (customer
    // 360, a store's order board) can fold it without keeping their own copy of every order.
    OrderStatusChanged: obj({
      orderId: id,
      customerId: id,
      storeId: id,
      totalCents: cents,
      from: oneOf(ORDER_STATUSES),
      to: oneOf(ORDER_STATUSES),
      by: optional(str({ min: 1, max: 200 })),
    }),
    // The shopper's latest estimate of the delivery time: while an order is under way this is
    // its most frequent change (a courier's app updates it every few seconds).
    OrderEtaUpdated: obj({
      orderId: id,
      customerId: id,
      storeId: id,
      estimatedDeliveryAt: isoTime(),
      by: optional(str({ min: 1, max: 200 })),
    }),
  },
} as const;

type Payloads = typeof PAYLOADS;
/** The topic keys that carry events, as in TOPICS. */
export type EventTopicKey = keyof Payloads;
/** Event type names published on a topic. */
export type EventTypeOf<K extends EventTopicKey> = keyof Payloads[K] & string;
/** The payload of event type T on topic K. */
export type PayloadOf<K extends EventTopicKey, T extends EventTypeOf<K>> = Checked<Payloads[K][T]>;
