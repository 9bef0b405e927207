// Pure unit tests of the customers folds: plain objects in, plain objects out, no Kafka or Redis.
import { createEvent, CUSTOMERS_TOPIC, ORDERS_TOPIC, type OrdersEvent } from '../../schema/events';
import { foldAll, type EventPosition } from '../runtime/projection';
import {
  ALL_CUSTOMERS_INDEX,
  combineCustomer360,
  customer360Id,
  customer360Projection,
  customersProjection,
  NO_ORDERS,
  orderMarkId,
  type Customer360,
  type CustomerProfile,
} from './projection';

const at = (offset: number, partition = 0, occurredAt = '2026-01-01T00:00:00.000Z'): EventPosition => ({ partition, offset, occurredAt });
const seq = <E>(events: E[], partition = 0) => events.map((event, i) => ({ event, at: at(i, partition) }));

const registered = (customerId: string, occurredAt = '2026-01-01T10:00:00.000Z', name = 'Ada') =>
  createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId, name, email: `${customerId}@example.com`, tier: 'STANDARD' }, { occurredAt });
const updated = (customerId: string, changes: { name?: string; email?: string; tier?: 'STANDARD' | 'PLUS' }) =>
  createEvent(CUSTOMERS_TOPIC, 'CustomerUpdated', { customerId, ...changes });

const placed = (orderId: string, customerId: string, totalCents: number, occurredAt: string) =>
  createEvent(
    ORDERS_TOPIC,
    'OrderPlaced',
    { orderId, customerId, storeId: 's1', items: [{ productId: 'p1', quantity: 1, unitPriceCents: totalCents }], totalCents },
    { occurredAt },
  );
const changed = (orderId: string, customerId: string, totalCents: number, from: 'PLACED' | 'PICKING', to: 'PICKING' | 'CANCELED' | 'OUT_FOR_DELIVERY') =>
  createEvent(ORDERS_TOPIC, 'OrderStatusChanged', { orderId, customerId, storeId: 's1', totalCents, from, to });

describe('customersProjection', () => {
  it('registers a customer with its registration time as createdAt and version 1', () => {
    const view = foldAll(customersProjection, seq([registered('c1', '2026-03-01T08:00:00.000Z')]));
    expect(view.get('c1')).toEqual({
      id: 'c1',
      name: 'Ada',
      email: 'c1@example.com',
      tier: 'STANDARD',
      createdAt: '2026-03-01T08:00:00.000Z',
      version: 1,
    });
  });

  it('ignores a second registration of an existing id', () => {
    const first = registered('c1', '2026-03-01T08:00:00.000Z', 'Ada');
    const again = registered('c1', '2026-03-02T08:00:00.000Z', 'Someone else');
    const view = foldAll(customersProjection, seq([first, again]));
    expect(view.get('c1')?.name).toBe('Ada');
    expect(view.get('c1')?.createdAt).toBe('2026-03-01T08:00:00.000Z');
    expect(customersProjection.apply(view, again, at(5)).size).toBe(0);
  });

  it('applies only the fields an update carries and counts each real change in the version', () => {
    const view = foldAll(customersProjection, seq([registered('c1'), updated('c1', { tier: 'PLUS' }), updated('c1', { name: 'Ada L.' })]));
    expect(view.get('c1')).toMatchObject({ name: 'Ada L.', email: 'c1@example.com', tier: 'PLUS', version: 3 });
  });

  it('leaves the record and its version alone when an update changes nothing', () => {
    const view = foldAll(customersProjection, seq([registered('c1')]));
    expect(customersProjection.apply(view, updated('c1', { name: 'Ada', tier: 'STANDARD' }), at(1)).size).toBe(0);
  });

  it('refuses (dead-letters) an update of a customer never registered', () => {
    expect(() => customersProjection.apply(new Map(), updated('ghost', { name: 'x' }), at(0))).toThrow(/unregistered customer ghost/);
  });

  it('indexes every customer in `all` by registration time and keeps a customer in its own partition', () => {
    const view = foldAll(customersProjection, seq([registered('c1', '2026-03-01T08:00:00.000Z')]));
    expect(customersProjection.indexes?.('c1', view.get('c1') as CustomerProfile)).toEqual([
      { index: ALL_CUSTOMERS_INDEX, score: Date.parse('2026-03-01T08:00:00.000Z') },
    ]);
    expect(customersProjection.recordKeyOf('c1')).toBe('c1');
  });
});

describe('customer360Projection', () => {
  const counters = (view: ReadonlyMap<string, unknown>, customerId: string) => view.get(customer360Id(customerId)) as Customer360 | undefined;

  it('counts placed orders, adds their totals and remembers the latest placement', () => {
    const view = foldAll(
      customer360Projection,
      seq([
        placed('o1', 'c1', 1000, '2026-01-02T00:00:00.000Z'),
        placed('o2', 'c1', 250, '2026-01-05T00:00:00.000Z'),
        placed('o3', 'c1', 50, '2026-01-03T00:00:00.000Z'),
        placed('o4', 'c2', 700, '2026-01-04T00:00:00.000Z'),
      ]),
    );
    expect(counters(view, 'c1')).toEqual({ orderCount: 3, lifetimeSpendCents: 1300, lastOrderAt: '2026-01-05T00:00:00.000Z' });
    expect(counters(view, 'c2')).toEqual({ orderCount: 1, lifetimeSpendCents: 700, lastOrderAt: '2026-01-04T00:00:00.000Z' });
  });

  it('subtracts a canceled order once, by the amount it added, and keeps it in the count', () => {
    const view = foldAll(
      customer360Projection,
      seq([
        placed('o1', 'c1', 1000, '2026-01-02T00:00:00.000Z'),
        placed('o2', 'c1', 300, '2026-01-03T00:00:00.000Z'),
        changed('o1', 'c1', 1000, 'PLACED', 'PICKING'),
        changed('o1', 'c1', 1000, 'PICKING', 'CANCELED'),
        changed('o1', 'c1', 1000, 'PICKING', 'CANCELED'), // a repeated cancel
      ]),
    );
    expect(counters(view, 'c1')).toEqual({ orderCount: 2, lifetimeSpendCents: 300, lastOrderAt: '2026-01-03T00:00:00.000Z' });
  });

  it('counts a repeated OrderPlaced once', () => {
    const p = placed('o1', 'c1', 1000, '2026-01-02T00:00:00.000Z');
    const view = foldAll(customer360Projection, seq([p, p]));
    expect(counters(view, 'c1')).toEqual({ orderCount: 1, lifetimeSpendCents: 1000, lastOrderAt: '2026-01-02T00:00:00.000Z' });
  });

  it('ignores status changes of an order it never counted, and non-cancel changes', () => {
    const view = foldAll(
      customer360Projection,
      seq([changed('ghost', 'c1', 500, 'PLACED', 'CANCELED'), placed('o1', 'c1', 100, '2026-01-02T00:00:00.000Z'), changed('o1', 'c1', 100, 'PLACED', 'PICKING')]),
    );
    expect(counters(view, 'c1')).toEqual({ orderCount: 1, lifetimeSpendCents: 100, lastOrderAt: '2026-01-02T00:00:00.000Z' });
  });

  it('refuses (dead-letters) a cancel that names another customer than the placement', () => {
    const view = foldAll(customer360Projection, seq([placed('o1', 'c1', 100, '2026-01-02T00:00:00.000Z')]));
    expect(() => customer360Projection.apply(view, changed('o1', 'c2', 100, 'PLACED', 'CANCELED'), at(1))).toThrow(/placed by c1, not c2/);
  });

  it('spreads counters over partitions and keeps an order mark in its order partition', () => {
    expect(customer360Projection.recordKeyOf(customer360Id('c1'))).toBeNull();
    expect(customer360Projection.recordKeyOf(orderMarkId('o-9'))).toBe('o-9');
    // The ids a fold reads must include everything it changes (the runtime enforces it).
    const e = placed('o1', 'c1', 100, '2026-01-02T00:00:00.000Z');
    const changes = customer360Projection.apply(new Map(), e, at(0));
    expect([...changes.keys()].sort()).toEqual([...customer360Projection.reads(e)].sort());
  });

  it('combines per-partition parts into the fold of the whole log, however the log is split', () => {
    // Each order's events stay in one partition (the topic is keyed by order id), as on Kafka.
    const orders: Array<{ partition: number; events: OrdersEvent[] }> = [
      { partition: 0, events: [placed('o1', 'c1', 1000, '2026-01-02T00:00:00.000Z'), changed('o1', 'c1', 1000, 'PLACED', 'CANCELED')] },
      { partition: 1, events: [placed('o2', 'c1', 200, '2026-01-09T00:00:00.000Z')] },
      { partition: 2, events: [placed('o3', 'c1', 30, '2026-01-04T00:00:00+02:00'), placed('o4', 'c2', 5, '2026-01-01T00:00:00.000Z')] },
    ];
    const whole = foldAll(customer360Projection, seq(orders.flatMap((o) => o.events)));
    const parts = orders.map((o) => foldAll(customer360Projection, seq(o.events, o.partition)));
    for (const c of ['c1', 'c2']) {
      const id = customer360Id(c);
      const combined = combineCustomer360(parts.flatMap((m) => (m.has(id) ? [m.get(id) as Customer360] : [])));
      expect(combined).toEqual(counters(whole, c));
    }
    expect(counters(whole, 'c1')).toEqual({ orderCount: 3, lifetimeSpendCents: 230, lastOrderAt: '2026-01-09T00:00:00.000Z' });
  });

  it('compares lastOrderAt as instants, not strings', () => {
    expect(
      combineCustomer360([
        { orderCount: 1, lifetimeSpendCents: 1, lastOrderAt: '2026-01-01T23:00:00.000Z' },
        // Earlier as an instant, later as a string.
        { orderCount: 1, lifetimeSpendCents: 1, lastOrderAt: '2026-01-02T00:30:00+02:00' },
      ]).lastOrderAt,
    ).toBe('2026-01-01T23:00:00.000Z');
    expect(combineCustomer360([])).toEqual(NO_ORDERS);
  });
});
