// The reservation steps of the inventory fold and likelihoodInStock, with plain objects: no Kafka, no Redis.
import { CATALOG_INVENTORY_TOPIC, createEvent, type CatalogInventoryEvent } from '../../schema/events';
import { foldAll } from '../runtime/projection';
import { inventoryProjection, levelEntityId, reservationEntityId, type InventoryEntity, type InventoryLevelState, type ReservationState } from './projection';
import { likelihoodInStock } from './reservations';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const report = (productId: string, quantity: number, m = 0) =>
  createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: 's', productId, quantity }, { occurredAt: iso(m) });
const request = (orderId: string, items: Array<[string, number]>, m = 0) =>
  createEvent(
    CATALOG_INVENTORY_TOPIC,
    'ReservationRequested',
    { storeId: 's', orderId, customerId: 'c', totalCents: 100, items: items.map(([productId, quantity]) => ({ productId, quantity })) },
    { occurredAt: iso(m) },
  );
const end = (orderId: string, outcome: 'RELEASED' | 'CONSUMED', productIds: string[], m = 0) =>
  createEvent(CATALOG_INVENTORY_TOPIC, 'ReservationEnded', { storeId: 's', orderId, outcome, productIds }, { occurredAt: iso(m) });
const notFound = (orderId: string, productId: string, m = 0) =>
  createEvent(CATALOG_INVENTORY_TOPIC, 'ItemNotFoundReported', { storeId: 's', orderId, productId }, { occurredAt: iso(m) });

const fold = (events: CatalogInventoryEvent[]) =>
  foldAll(
    inventoryProjection,
    events.map((event, offset) => ({ event, at: { partition: 0, offset, occurredAt: event.occurredAt } })),
  );
const level = (view: Map<string, InventoryEntity>, productId = 'bread') => view.get(levelEntityId('s', productId)) as InventoryLevelState;
const reservation = (view: Map<string, InventoryEntity>, orderId: string) => view.get(reservationEntityId('s', orderId)) as ReservationState;

describe('reservations in the inventory fold', () => {
  it('reserves what is available in log order: the last loaf goes to the first request, once', () => {
    const view = fold([report('bread', 1), request('o1', [['bread', 1]]), request('o2', [['bread', 1]]), request('o1', [['bread', 1]])]);
    expect(reservation(view, 'o1').items).toEqual([{ productId: 'bread', quantity: 1, reserved: 1 }]);
    expect(reservation(view, 'o2').items).toEqual([{ productId: 'bread', quantity: 1, reserved: 0 }]);
    expect(level(view)).toMatchObject({ quantity: 1, reserved: 1, available: 0, status: 'OUT_OF_STOCK', version: 2 });
  });

  it('50 requests for 10 units hold exactly 10, whatever is repeated', () => {
    const events: CatalogInventoryEvent[] = [report('bread', 10)];
    for (let i = 0; i < 50; i++) events.push(request(`o${i}`, [['bread', 1]]));
    for (let i = 0; i < 50; i += 3) events.push(request(`o${i}`, [['bread', 1]])); // a router re-read
    const view = fold(events);
    const held = [...view.values()].filter((e): e is ReservationState => e.kind === 'reservation').reduce((a, r) => a + r.items[0].reserved, 0);
    expect(held).toBe(10);
    expect(level(view)).toMatchObject({ reserved: 10, available: 0 });
  });

  it('reserves part of an item, and a product the store never reported is short', () => {
    const view = fold([report('bread', 3), request('o1', [['bread', 5], ['milk', 1]])]);
    expect(reservation(view, 'o1').items).toEqual([
      { productId: 'bread', quantity: 5, reserved: 3 },
      { productId: 'milk', quantity: 1, reserved: 0 },
    ]);
    expect(view.has(levelEntityId('s', 'milk'))).toBe(false);
  });

  it('cancel releases, delivery consumes, each once; a request after the end reserves nothing', () => {
    const base = [report('bread', 10), request('o1', [['bread', 4]]), request('o2', [['bread', 2]])];
    const canceled = fold([...base, end('o1', 'RELEASED', ['bread']), end('o1', 'RELEASED', ['bread']), request('o1', [['bread', 4]])]);
    expect(level(canceled)).toMatchObject({ quantity: 10, reserved: 2, available: 8 });
    expect(reservation(canceled, 'o1').state).toBe('RELEASED');
    const delivered = fold([...base, end('o2', 'CONSUMED', ['bread']), end('o2', 'CONSUMED', ['bread'])]);
    expect(level(delivered)).toMatchObject({ quantity: 8, reserved: 4, available: 4 });
    // An end before any request (an order from before reservations) blocks a late re-sent request.
    const early = fold([report('bread', 10), end('o9', 'RELEASED', ['bread']), request('o9', [['bread', 1]])]);
    expect(level(early)).toMatchObject({ reserved: 0, available: 10 });
  });

  it("the store's next report sets the shelf count; units still held stay held", () => {
    const view = fold([report('bread', 10), request('o1', [['bread', 4]]), report('bread', 6, 60)]);
    expect(level(view)).toMatchObject({ quantity: 6, reserved: 4, available: 2, reservedSinceReport: 0, reportedAt: iso(60) });
  });

  it('an item not found is out of stock until the next report and lets go of the order’s hold', () => {
    const view = fold([report('bread', 10), request('o1', [['bread', 2]]), notFound('o1', 'bread', 5), request('o2', [['bread', 1]])]);
    expect(level(view)).toMatchObject({ reserved: 0, available: 0, status: 'OUT_OF_STOCK', outSinceReport: true });
    expect(reservation(view, 'o1').items[0].reserved).toBe(0);
    expect(reservation(view, 'o2').items[0].reserved).toBe(0);
    const after = fold([report('bread', 10), request('o1', [['bread', 2]]), notFound('o1', 'bread', 5), report('bread', 7, 10)]);
    expect(level(after)).toMatchObject({ quantity: 7, reserved: 0, available: 7, outSinceReport: false });
    // Delivering the order later consumes nothing for the item not found.
    const delivered = fold([report('bread', 10), request('o1', [['bread', 2]]), notFound('o1', 'bread', 5), report('bread', 7, 10), end('o1', 'CONSUMED', ['bread'])]);
    expect(level(delivered)).toMatchObject({ quantity: 7, available: 7 });
  });
});

describe('likelihoodInStock', () => {
  const at = (minutes: number) => T0 + minutes * 60_000;

  it('is high for a fresh report with stock, and falls as the report ages', () => {
    const view = fold([report('bread', 20)]);
    const fresh = likelihoodInStock(level(view), at(1));
    expect(fresh).toBeGreaterThan(0.95);
    expect(likelihoodInStock(level(view), at(48 * 60))).toBeLessThan(fresh);
    expect(likelihoodInStock(level(view), at(48 * 60))).toBeGreaterThanOrEqual(0.5);
  });

  it('falls after not-found reports and recovers after a report', () => {
    const events = [report('bread', 20), request('o1', [['bread', 1]], 1)];
    const before = likelihoodInStock(level(fold(events)), at(10));
    const missing = fold([...events, notFound('o1', 'bread', 5)]);
    expect(likelihoodInStock(level(missing), at(10))).toBe(0);
    const reported = fold([...events, notFound('o1', 'bread', 5), report('bread', 20, 8)]);
    const recovered = likelihoodInStock(level(reported), at(10));
    expect(recovered).toBeGreaterThan(0.5);
    // A recent not-found still counts against it, less so once a week has passed.
    expect(recovered).toBeLessThan(before);
    const twice = fold([...events, notFound('o1', 'bread', 5), report('bread', 20, 8), request('o2', [['bread', 1]], 9), notFound('o2', 'bread', 9), report('bread', 20, 9)]);
    expect(likelihoodInStock(level(twice), at(10))).toBeLessThan(recovered);
    // After a week the not-found report no longer counts: like a level that never had one.
    const clean = fold([...events, report('bread', 20, 8)]);
    expect(likelihoodInStock(level(reported), at(8 * 24 * 60))).toBe(likelihoodInStock(level(clean), at(8 * 24 * 60)));
  });

  it('falls as reservations take the stock quickly, and is 0 with nothing available', () => {
    const calm = fold([report('bread', 11, 0), request('o1', [['bread', 1]], 50)]);
    const rush = fold([report('bread', 30, 0), request('o1', [['bread', 20]], 50)]);
    expect(level(calm).available).toBe(level(rush).available);
    expect(likelihoodInStock(level(rush), at(60))).toBeLessThan(likelihoodInStock(level(calm), at(60)));
    expect(likelihoodInStock(level(fold([report('bread', 1), request('o1', [['bread', 1]])])), at(1))).toBe(0);
  });
});
