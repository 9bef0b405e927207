// The orders folds with plain objects: no Kafka, no Redis.
import { CATALOG_INVENTORY_TOPIC, CATALOG_PRODUCTS_CDC_TOPIC, createEvent, debeziumRecord, ORDERS_TOPIC, parseRecord } from '../../schema/events';
import { foldAll } from '../runtime/projection';
import { knownStoresProjection, ordersProjection, productPricesProjection } from './projection';
import { isLegalTransition } from './transitions';

const at = (offset: number) => ({ partition: 0, offset, occurredAt: `2026-01-01T00:00:0${offset}.000Z` });
const placed = createEvent(
  ORDERS_TOPIC,
  'OrderPlaced',
  { orderId: 'o1', customerId: 'c1', storeId: 's1', items: [{ productId: 'p', quantity: 2, unitPriceCents: 100 }], totalCents: 200 },
  { occurredAt: '2026-01-01T00:00:00.000Z' },
);
const change = (from: string, to: string, occurredAt = '2026-01-01T00:00:05.000Z') =>
  createEvent(ORDERS_TOPIC, 'OrderStatusChanged', { orderId: 'o1', customerId: 'c1', storeId: 's1', totalCents: 200, from: from as never, to: to as never }, { occurredAt });

const eta = (estimatedDeliveryAt: string, occurredAt = '2026-01-01T00:00:09.000Z') =>
  createEvent(ORDERS_TOPIC, 'OrderEtaUpdated', { orderId: 'o1', customerId: 'c1', storeId: 's1', estimatedDeliveryAt }, { occurredAt });

describe('ordersProjection', () => {
  it('takes each new delivery estimate as a change while the order is under way, and none after it is over', () => {
    const view = foldAll(ordersProjection, [
      { event: placed, at: at(0) },
      { event: eta('2026-01-01T01:00:00.000Z'), at: at(1) },
      { event: eta('2026-01-01T01:00:00.000Z'), at: at(2) }, // the same estimate again: no change
      { event: eta('2026-01-01T01:05:00.000Z'), at: at(3) },
    ]);
    expect(view.get('o1')).toMatchObject({ version: 3, estimatedDeliveryAt: '2026-01-01T01:05:00.000Z', updatedAt: '2026-01-01T00:00:09.000Z' });
    const over = foldAll(ordersProjection, [
      { event: placed, at: at(0) },
      { event: change('PLACED', 'CANCELED'), at: at(1) },
      { event: eta('2026-01-01T01:00:00.000Z'), at: at(2) },
    ]);
    expect(over.get('o1')).toMatchObject({ version: 2, status: 'CANCELED' });
    expect(over.get('o1')!.estimatedDeliveryAt).toBeUndefined();
    expect(() => foldAll(ordersProjection, [{ event: eta('2026-01-01T01:00:00.000Z'), at: at(0) }])).toThrow(/unknown order/);
  });


  it('places an order at version 1 and bumps the version with each legal change', () => {
    const view = foldAll(ordersProjection, [
      { event: placed, at: at(0) },
      { event: change('PLACED', 'SHOPPER_ASSIGNED'), at: at(1) },
      { event: change('SHOPPER_ASSIGNED', 'PICKING'), at: at(2) },
    ]);
    const o = view.get('o1')!;
    expect(o).toMatchObject({ status: 'PICKING', version: 3, totalCents: 200, placedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:05.000Z' });
    expect(o.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'SHOPPER_ASSIGNED', 'PICKING']);
  });

  it('ignores a duplicate placement and a transition that lost a race', () => {
    const view = foldAll(ordersProjection, [
      { event: placed, at: at(0) },
      { event: placed, at: at(1) },
      { event: change('PLACED', 'SHOPPER_ASSIGNED'), at: at(2) },
      { event: change('PLACED', 'CANCELED'), at: at(3) }, // checked against PLACED, but it moved on
    ]);
    expect(view.get('o1')).toMatchObject({ status: 'SHOPPER_ASSIGNED', version: 2 });
  });

  it('throws on a change to an unknown order (the runtime dead-letters it)', () => {
    expect(() => foldAll(ordersProjection, [{ event: change('PLACED', 'PICKING'), at: at(0) }])).toThrow(/unknown order o1/);
  });

  it('indexes orders per customer, newest first', () => {
    const state = foldAll(ordersProjection, [{ event: placed, at: at(0) }]).get('o1')!;
    expect(ordersProjection.indexes!('o1', state)).toEqual([{ index: 'customer:c1', score: -Date.parse('2026-01-01T00:00:00.000Z') }]);
  });
});

describe('productPricesProjection', () => {
  const change = (op: 'c' | 'u' | 'd', lsn: number, priceCents = 0) => {
    const row = { id: 'p', name: 'Pear', brand: null, category: 'fruit', price_cents: priceCents, updated_at: '2026-01-01T00:00:00Z' };
    const rec = debeziumRecord({ key: { id: 'p' }, op, lsn, ...(op === 'd' ? { before: row } : { after: row }) });
    return parseRecord(CATALOG_PRODUCTS_CDC_TOPIC, rec.key, rec.value)!;
  };

  it('keeps the latest price of each product from the catalog database\'s changes', () => {
    const view = foldAll(productPricesProjection, [{ event: change('c', 10, 100), at: at(0) }, { event: change('u', 20, 120), at: at(1) }]);
    expect(view.get('p')).toEqual({ id: 'p', name: 'Pear', priceCents: 120, sourceLsn: 20 });
  });

  it('forgets a deleted product and knows re-sent changes by their LSN', () => {
    const view = foldAll(productPricesProjection, [{ event: change('c', 10, 100), at: at(0) }, { event: change('d', 30), at: at(1) }]);
    expect(view.has('p')).toBe(false);
    const held = new Map([['p', { id: 'p', name: 'Pear', priceCents: 120, sourceLsn: 20 }]]);
    expect(productPricesProjection.alreadyApplied!(held, change('u', 20, 120))).toBe(true);
    expect(productPricesProjection.alreadyApplied!(held, change('u', 21, 130))).toBe(false);
  });
});

it('knows each store the catalog published, once, and learns nothing from stock reports', () => {
  const store = (storeId: string, name: string) => createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId, name });
  const stock = createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: 's-9', productId: 'p', quantity: 3 });
  const view = foldAll(knownStoresProjection, [
    { event: store('s-1', 'Corner'), at: at(0) },
    { event: stock, at: at(1) },
    { event: store('s-1', 'Corner renamed'), at: at(2) },
    { event: store('s-2', 'Market'), at: at(3) },
  ]);
  expect([...view]).toEqual([['s-1', { id: 's-1' }], ['s-2', { id: 's-2' }]]);
  expect(knownStoresProjection.reads(stock)).toEqual([]);
  expect(knownStoresProjection.apply(new Map([['s-1', { id: 's-1' }]]), store('s-1', 'Again'), at(4)).size).toBe(0);
});

it('allows exactly the lifecycle transitions of the contract', () => {
  const legal = ['PLACED>SHOPPER_ASSIGNED', 'SHOPPER_ASSIGNED>PICKING', 'PICKING>OUT_FOR_DELIVERY', 'OUT_FOR_DELIVERY>DELIVERED', 'PLACED>CANCELED', 'SHOPPER_ASSIGNED>CANCELED', 'PICKING>CANCELED'];
  const all = ['PLACED', 'SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED', 'CANCELED'] as const;
  for (const from of all) for (const to of all) expect(isLegalTransition(from, to)).toBe(legal.includes(`${from}>${to}`));
});
