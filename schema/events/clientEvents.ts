// The contract of the `client-events` topic: what web and mobile apps do (open the app, search,
// view a product, add to or remove from the cart), sent through the gateway's POST /events and
// checked there against this contract before anything reaches Kafka. The customers team owns the
// data product (it folds it into Customer 360); the gateway is the edge that writes it.
//
// Records are keyed by an actor: `customer:<id>` for a signed-in customer (the id comes from the
// token, never from the body) or `device:<id>` for an anonymous device, so one actor's events
// stay in order on one partition.
import { defineTopic } from './contract';
import type { EventOf } from './envelope';
import { int, isoTime, obj, optional, str } from './validate';

/** The event names clients send (`type` on the wire), and the contract type each becomes. */
export const CLIENT_EVENT_TYPES = {
  app_open: 'AppOpened',
  search: 'Searched',
  product_view: 'ProductViewed',
  add_to_cart: 'CartItemAdded',
  remove_from_cart: 'CartItemRemoved',
} as const;
export type ClientEventName = keyof typeof CLIENT_EVENT_TYPES;

const CUSTOMER_ACTOR = 'customer:';
const DEVICE_ACTOR = 'device:';
/** The record key of a signed-in customer's events. */
export const customerActor = (customerId: string) => `${CUSTOMER_ACTOR}${customerId}`;
/** The record key of an anonymous device's events. */
export const deviceActor = (deviceId: string) => `${DEVICE_ACTOR}${deviceId}`;

const id = str({ min: 1, max: 128 });
/** What every client event carries besides its own fields. */
// The fields a client sends come first, so a client hears about its own mistake before one in
// what the gateway derives from it (the actor is built from the device id).
const common = {
  deviceId: id,
  /** The client's clock when it happened: shown, never trusted for ordering (occurredAt is the gateway's). */
  clientTimestamp: isoTime(),
  app: str({ min: 1, max: 64 }),
  appVersion: str({ min: 1, max: 64 }),
  /** Set from the caller's token; absent for anonymous devices. */
  customerId: optional(id),
  actor: str({ min: 1, max: 140 }),
};

export const CLIENT_EVENTS_TOPIC = defineTopic({
  name: 'client-events',
  // More partitions than the domain topics: this is the high-volume one, and a view's partitions
  // are folded in parallel.
  partitions: 12,
  cleanupPolicy: 'delete',
  // Kept forever like every topic the views fold, so Customer 360 can be rebuilt by replay.
  retentionMs: -1,
  keyedBy: 'actor',
  owner: 'customers',
  events: {
    AppOpened: { version: 1, payload: obj({ ...common }) },
    Searched: { version: 1, payload: obj({ ...common, query: str({ min: 1, max: 200 }) }) },
    ProductViewed: { version: 1, payload: obj({ ...common, productId: id }) },
    CartItemAdded: { version: 1, payload: obj({ ...common, productId: id, quantity: int({ min: 1, max: 99 }) }) },
    CartItemRemoved: { version: 1, payload: obj({ ...common, productId: id, quantity: optional(int({ min: 1, max: 99 })) }) },
    // Written by the gateway (not sent by clients) the first time it sees a signed-in customer
    // on a device, keyed by the device: the device's earlier anonymous activity joins that customer.
    DeviceSignedIn: { version: 1, payload: obj({ actor: str({ min: 1, max: 140 }), deviceId: id, customerId: id }) },
  },
});

export type ClientEvent = EventOf<typeof CLIENT_EVENTS_TOPIC>;
