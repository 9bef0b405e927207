// The catalog's reservation outcomes: what the store's inventory writer decided for each order,
// and each stock level's availability after every change. Keyed by store, so one store's
// outcomes are in the order they were decided. The orders team folds it (its availability
// view for early refusals) and relays each decision onto the orders topic (docs/reservations.md).
import { defineTopic } from './contract';
import type { EventOf } from './envelope';
import { array, int, obj, str } from './validate';

const id = str({ min: 1, max: 128 });
const level = obj({ productId: id, available: int({ min: 0, max: 10_000_000 }) });

export const CATALOG_RESERVATIONS_TOPIC = defineTopic({
  name: 'catalog.reservations',
  partitions: 6,
  cleanupPolicy: 'delete',
  retentionMs: -1,
  keyedBy: 'storeId',
  owner: 'catalog',
  events: {
    // Made once per order, by the first request for it in the store's log; a repeat carries the same decision.
    ReservationDecided: {
      version: 1,
      payload: obj({
        storeId: id,
        orderId: id,
        customerId: id,
        totalCents: int({ min: 0, max: 1_000_000_000 }),
        items: array(obj({ productId: id, quantity: int({ min: 1, max: 1000 }), reserved: int({ min: 0, max: 1000 }) }), { min: 1, max: 200 }),
        levels: array(level, { max: 200 }),
      }),
    },
    // Availability after a report, a release, a consumption or an item not found.
    AvailabilityChanged: { version: 1, payload: obj({ storeId: id, levels: array(level, { min: 1, max: 200 }) }) },
  },
});

export type CatalogReservationsEvent = EventOf<typeof CATALOG_RESERVATIONS_TOPIC>;
