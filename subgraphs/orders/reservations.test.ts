// The orders fold's side of reservations, and the relay's mapping of a decision, with plain objects.
import { CATALOG_RESERVATIONS_TOPIC, createEvent, ORDERS_TOPIC, type OrdersEvent } from '../../schema/events';
import { foldAll } from '../runtime/projection';
import { availabilityId, availabilityProjection, ordersProjection, shortOf } from './projection';
import { confirmationOf } from './reservationRelay';

const at = (offset: number) => ({ partition: 0, offset, occurredAt: `2026-01-01T00:00:0${offset}.000Z` });
const base = { orderId: 'o1', customerId: 'c1', storeId: 's1', totalCents: 700 };
const placed = createEvent(ORDERS_TOPIC, 'OrderPlaced', {
  ...base,
  items: [
    { productId: 'loaf', quantity: 2, unitPriceCents: 200 },
    { productId: 'eggs', quantity: 1, unitPriceCents: 300 },
  ],
});
const decision = (loaf: number, eggs: number) =>
  confirmationOf(
    createEvent(CATALOG_RESERVATIONS_TOPIC, 'ReservationDecided', {
      storeId: 's1',
      orderId: 'o1',
      customerId: 'c1',
      totalCents: 700,
      items: [
        { productId: 'loaf', quantity: 2, reserved: loaf },
        { productId: 'eggs', quantity: 1, reserved: eggs },
      ],
      levels: [
        { productId: 'loaf', available: 0 },
        { productId: 'eggs', available: 4 },
      ],
    }),
  )[0] as OrdersEvent;
const change = (from: string, to: string, extra: Record<string, unknown> = {}) =>
  createEvent(ORDERS_TOPIC, 'OrderStatusChanged', { ...base, from: from as never, to: to as never, ...extra });
const fold = (...events: OrdersEvent[]) => foldAll(ordersProjection, events.map((event, i) => ({ event, at: at(i) }))).get('o1')!;

describe('reservations in the orders fold', () => {
  it('confirms a fully reserved order and partially confirms a short one, with the short items', () => {
    expect(fold(placed, decision(2, 1))).toMatchObject({ status: 'CONFIRMED', version: 2 });
    const partial = fold(placed, decision(1, 1));
    expect(partial.status).toBe('PARTIALLY_CONFIRMED');
    expect(partial.items.map(shortOf)).toEqual([1, 0]);
    expect(partial.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'PARTIALLY_CONFIRMED']);
  });

  it('takes the first decision only: a re-relayed one changes nothing', () => {
    const twice = fold(placed, decision(1, 1), decision(2, 1));
    expect(twice).toMatchObject({ status: 'PARTIALLY_CONFIRMED', version: 2 });
    expect(twice.items.map((i) => i.reserved)).toEqual([1, 1]);
  });

  it('a shopper’s step checked against PLACED still applies after the confirmation; a decision after it keeps the status', () => {
    expect(fold(placed, decision(2, 1), change('PLACED', 'SHOPPER_ASSIGNED'))).toMatchObject({ status: 'SHOPPER_ASSIGNED', version: 3 });
    const late = fold(placed, change('PLACED', 'SHOPPER_ASSIGNED'), decision(1, 1));
    expect(late).toMatchObject({ status: 'SHOPPER_ASSIGNED', version: 3 });
    expect(late.items.map(shortOf)).toEqual([1, 0]);
    // Canceled before the decision: it stays canceled.
    expect(fold(placed, change('PLACED', 'CANCELED'), decision(2, 1)).status).toBe('CANCELED');
    // Nobody sets CONFIRMED by hand.
    expect(fold(placed, change('PLACED', 'CONFIRMED')).status).toBe('PLACED');
  });

  it('an item not found is short whatever was reserved, once', () => {
    const o = fold(placed, decision(2, 1), change('CONFIRMED', 'CONFIRMED', { notFound: 'eggs' }), change('CONFIRMED', 'CONFIRMED', { notFound: 'eggs' }));
    expect(o).toMatchObject({ status: 'CONFIRMED', version: 3 });
    expect(o.items.map(shortOf)).toEqual([0, 1]);
    expect(o.items[1]).toMatchObject({ notFound: true, reserved: 0 });
  });

  it('shows nothing short before the decision', () => {
    expect(fold(placed).items.map(shortOf)).toEqual([null, null]);
  });
});

describe('availabilityProjection', () => {
  it('keeps the latest availability the catalog published per store and product', () => {
    const view = foldAll(availabilityProjection, [
      { event: createEvent(CATALOG_RESERVATIONS_TOPIC, 'AvailabilityChanged', { storeId: 's:1', levels: [{ productId: 'loaf', available: 3 }] }), at: at(0) },
      { event: createEvent(CATALOG_RESERVATIONS_TOPIC, 'AvailabilityChanged', { storeId: 's:1', levels: [{ productId: 'loaf', available: 0 }] }), at: at(1) },
    ]);
    expect(view.get(availabilityId('s:1', 'loaf'))).toEqual({ storeId: 's:1', productId: 'loaf', available: 0 });
    expect(availabilityProjection.recordKeyOf(availabilityId('s:1', 'loaf'))).toBe('s:1');
  });
});
