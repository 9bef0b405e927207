// Relays the store inventory's decisions (catalog.reservations) onto the orders topic as the
// order's confirmation: CONFIRMED when every unit is held, PARTIALLY_CONFIRMED otherwise, with
// the per-item reservation. At least once: the orders fold takes an order's first decision only.
import { CATALOG_RESERVATIONS_TOPIC, createEvent, ORDERS_TOPIC, type CatalogReservationsEvent, type Envelope } from '../../schema/events';
import { startRelay, type RelayHandle } from '../runtime/relay';
import type { SubgraphRuntime } from '../runtime/subgraphRuntime';

/** Who the confirmations are by, in the order's status history events. */
export const INVENTORY_ACTOR = 'catalog.inventory';

/** The orders event for one decision (none for other outcome events). */
export function confirmationOf(e: CatalogReservationsEvent): Envelope<string, unknown>[] {
  if (e.type !== 'ReservationDecided') return [];
  const p = e.payload;
  const full = p.items.every((i) => i.reserved === i.quantity);
  return [
    createEvent(ORDERS_TOPIC, 'OrderStatusChanged', {
      orderId: p.orderId,
      customerId: p.customerId,
      storeId: p.storeId,
      totalCents: p.totalCents,
      from: 'PLACED',
      to: full ? 'CONFIRMED' : 'PARTIALLY_CONFIRMED',
      by: INVENTORY_ACTOR,
      reservation: p.items,
    }),
  ];
}

export function startReservationRelay(runtime: SubgraphRuntime, sessionTimeoutMs?: number): Promise<RelayHandle> {
  const topic = runtime.topic(ORDERS_TOPIC);
  return startRelay({
    runtime,
    name: 'reservationConfirmations',
    sessionTimeoutMs,
    from: CATALOG_RESERVATIONS_TOPIC,
    types: ['ReservationDecided'],
    handle: async (events) => {
      await runtime.producer.publishMany(topic, events.flatMap((r) => confirmationOf(r.event)));
    },
  });
}
