// The catalog relays' pure parts: what the router writes for each orders event, and the outcome
// events read back from the inventory view's states.
import { CATALOG_INVENTORY_TOPIC, createEvent, ORDERS_TOPIC, type CatalogInventoryEvent } from '../../schema/events';
import { foldAll } from '../runtime/projection';
import { inventoryProjection } from './projection';
import { outcomeEvents, routedEvents } from './reservationRelays';

const base = { orderId: 'o1', customerId: 'c1', storeId: 's1', totalCents: 900 };
const status = (to: string, extra: Record<string, unknown> = {}) =>
  createEvent(ORDERS_TOPIC, 'OrderStatusChanged', { ...base, from: 'PICKING', to: to as never, ...extra });

describe('the router', () => {
  it('re-keys placements, ends and items not found by store, and passes over the rest', () => {
    const placed = createEvent(ORDERS_TOPIC, 'OrderPlaced', { ...base, items: [{ productId: 'loaf', quantity: 2, unitPriceCents: 450 }] });
    expect(routedEvents(placed).map((e) => [e.type, e.key, e.payload])).toEqual([
      ['ReservationRequested', 's1', { storeId: 's1', orderId: 'o1', customerId: 'c1', totalCents: 900, items: [{ productId: 'loaf', quantity: 2 }] }],
    ]);
    expect(routedEvents(status('CANCELED', { productIds: ['loaf', 'loaf'] }))[0].payload).toEqual({ storeId: 's1', orderId: 'o1', outcome: 'RELEASED', productIds: ['loaf'] });
    expect(routedEvents(status('DELIVERED', { productIds: ['loaf'] }))[0].payload).toMatchObject({ outcome: 'CONSUMED' });
    expect(routedEvents(status('PICKING', { notFound: 'loaf' }))[0]).toMatchObject({ type: 'ItemNotFoundReported', payload: { storeId: 's1', productId: 'loaf', orderId: 'o1' } });
    expect(routedEvents(status('OUT_FOR_DELIVERY'))).toEqual([]);
  });
});

describe('the outcome relay', () => {
  it('publishes the decision as the view holds it, and availability after other changes', () => {
    const events: CatalogInventoryEvent[] = [
      createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: 's1', productId: 'loaf', quantity: 1 }),
      createEvent(CATALOG_INVENTORY_TOPIC, 'ReservationRequested', { storeId: 's1', orderId: 'o1', customerId: 'c1', totalCents: 900, items: [{ productId: 'loaf', quantity: 2 }] }),
    ];
    const view = foldAll(inventoryProjection, events.map((event, offset) => ({ event, at: { partition: 0, offset, occurredAt: event.occurredAt } })));
    const out = outcomeEvents(events, view);
    expect(out.map((e) => [e.type, e.key, e.payload])).toEqual([
      ['AvailabilityChanged', 's1', { storeId: 's1', levels: [{ productId: 'loaf', available: 0 }] }],
      [
        'ReservationDecided',
        's1',
        { storeId: 's1', orderId: 'o1', customerId: 'c1', totalCents: 900, items: [{ productId: 'loaf', quantity: 2, reserved: 1 }], levels: [{ productId: 'loaf', available: 0 }] },
      ],
    ]);
    // A repeat of the request reads the same decision.
    expect(outcomeEvents([events[1]], view)[0].payload).toEqual(out[1].payload);
  });
});
