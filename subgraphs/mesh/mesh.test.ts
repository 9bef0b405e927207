// The mesh's pure parts: lineage both ways, service levels and since when, valid share, rates
// from log ends, and the dead-letter window.
import type { DataProductsRecord } from '../../platform/registry';
import type { DeadLetter, DeadLetterEntry } from '../runtime/deadLetters';
import { createDeadLetterWindow, HOUR_MS } from './deadLetterWindow';
import { buildProductCatalog, isCoordinate } from './productCatalog';
import { createGrowthSeries } from './rates';
import { createLevelTracker, evaluateLevels, validShare } from './serviceLevels';

const levels = { maxLag: { records: 100, seconds: 30 }, maxEventAgeSeconds: 60, minValidShare: 0.99 };
const topic = (name: string, owner: string) => ({ name, owner, keyedBy: 'id', partitions: 3, source: 'events' as const, events: [], contract: { version: 1, status: 'PUBLISHED', jsonSchema: {} } });
const records: DataProductsRecord[] = [
  {
    subgraph: 'orders',
    announcedAt: 0,
    products: [
      {
        name: 'orders', subgraph: 'orders', team: 'orders', contact: '#o', description: '', serviceLevels: levels,
        topics: [topic('orders', 'orders')],
        views: [{ name: 'orders.orders', topic: 'orders', groupId: 'orders.orders.orders', fields: ['Order.status'] }, { name: 'orders.prices', topic: 'catalog', groupId: 'x', fields: ['Mutation.placeOrder'] }],
      },
    ],
  },
  {
    subgraph: 'catalog',
    announcedAt: 0,
    products: [{ name: 'catalog', subgraph: 'catalog', team: 'catalog', contact: '#c', description: '', serviceLevels: levels, topics: [topic('catalog', 'catalog')], views: [{ name: 'catalog.products', topic: 'catalog', groupId: 'y', fields: ['Product.name'] }] }],
  },
];

describe('buildProductCatalog', () => {
  const catalog = buildProductCatalog(records);
  it('lists products by name and finds lineage downstream across owners', () => {
    expect(catalog.products.map((p) => p.name)).toEqual(['catalog', 'orders']);
    expect(catalog.downstream(catalog.product('catalog')!).map((e) => `${e.topic}->${e.view}(${e.viewProduct})`)).toEqual(['catalog->catalog.products(catalog)', 'catalog->orders.prices(orders)']);
  });
  it('finds lineage upstream, with the topic owner and its product', () => {
    expect(catalog.upstream(catalog.product('orders')!).map((e) => [e.view, e.topic, e.topicOwner, e.topicProduct])).toEqual([
      ['orders.orders', 'orders', 'orders', 'orders'],
      ['orders.prices', 'catalog', 'catalog', 'catalog'],
    ]);
  });
  it('answers a field with its views, topics and owners, and nothing for an unbacked field', () => {
    expect(catalog.fieldSources('Mutation.placeOrder')).toEqual([expect.objectContaining({ view: 'orders.prices', topic: 'catalog', topicOwner: 'catalog', viewProduct: 'orders' })]);
    expect(catalog.fieldSources('Order.id')).toEqual([]);
  });
  it('keeps the first subgraph of a product name announced twice, and says so', () => {
    const twice = buildProductCatalog([...records, { subgraph: 'zzz', announcedAt: 0, products: [{ ...records[0].products[0], subgraph: 'zzz' }] }]);
    expect(twice.product('orders')!.subgraph).toBe('orders');
    expect(twice.conflicts).toEqual(['product orders is announced by orders and zzz; orders\'s is shown']);
  });
  it('reads coordinates strictly', () => {
    expect(isCoordinate('Customer.lifetimeSpendCents')).toBe(true);
    for (const bad of ['Customer', 'Customer.', '.x', 'a.b.c', 'Cu stomer.x', `${'A'.repeat(101)}.x`]) expect([bad, isCoordinate(bad)]).toEqual([bad, false]);
  });
});

describe('evaluateLevels', () => {
  const now = Date.parse('2026-12-01T10:00:00Z');
  const inputs = { partitions: [{ lag: 0, lagAgeSeconds: null }], unmeasuredViews: 0, lastAppliedEventAt: '2026-12-01T09:59:30Z', validShare: 1 };
  const states = (i: Parameters<typeof evaluateLevels>[1]) => evaluateLevels(levels, i, now).map((l) => `${l.level}:${l.state}`);
  it('meets every level of a healthy product', () => {
    expect(states(inputs)).toEqual(['MAX_LAG:MET', 'MAX_EVENT_AGE:MET', 'MIN_VALID_SHARE:MET']);
  });
  it('breaches lag by records or by how long a partition is behind', () => {
    expect(states({ ...inputs, partitions: [{ lag: 101, lagAgeSeconds: 1 }] })[0]).toBe('MAX_LAG:BREACHED');
    expect(states({ ...inputs, partitions: [{ lag: 1, lagAgeSeconds: 31 }] })[0]).toBe('MAX_LAG:BREACHED');
    expect(states({ ...inputs, partitions: [{ lag: 100, lagAgeSeconds: 30 }] })[0]).toBe('MAX_LAG:MET');
  });
  it('breaches event age and valid share, and says unknown when it cannot measure', () => {
    expect(states({ ...inputs, lastAppliedEventAt: '2026-12-01T09:58:00Z', validShare: 0.9 })).toEqual(['MAX_LAG:MET', 'MAX_EVENT_AGE:BREACHED', 'MIN_VALID_SHARE:BREACHED']);
    expect(states({ partitions: [], unmeasuredViews: 1, lastAppliedEventAt: null, validShare: null })).toEqual(['MAX_LAG:UNKNOWN', 'MAX_EVENT_AGE:UNKNOWN', 'MIN_VALID_SHARE:UNKNOWN']);
  });
  it('leaves out the event age level when the product has none', () => {
    expect(evaluateLevels({ ...levels, maxEventAgeSeconds: null }, inputs, now).map((l) => l.level)).toEqual(['MAX_LAG', 'MIN_VALID_SHARE']);
  });
});

it('validShare counts dead letters against the events of the window', () => {
  expect(validShare(0, 0)).toBeNull();
  expect(validShare(4, 1)).toBe(0.75);
  expect(validShare(100, 0)).toBe(1);
  // Dead letters of records written before the window still count against themselves.
  expect(validShare(0, 2)).toBe(0);
});

it('the level tracker keeps since when a level has been in its state', () => {
  const t = createLevelTracker();
  expect(t.observe('p', 'MAX_LAG', 'MET', 1000)).toBe(1000);
  expect(t.observe('p', 'MAX_LAG', 'MET', 2000)).toBe(1000);
  expect(t.observe('p', 'MAX_LAG', 'BREACHED', 3000)).toBe(3000);
  expect(t.observe('p', 'MAX_LAG', 'BREACHED', 4000)).toBe(3000);
  t.retain(new Set());
  expect(t.observe('p', 'MAX_LAG', 'BREACHED', 5000)).toBe(5000);
});

it('a growth series gives the rate over the last seconds and the growth over an hour', () => {
  const s = createGrowthSeries();
  const t0 = 1_000_000_000;
  for (let i = 0; i <= 120; i++) s.add(1000 + i * 10, t0 + i * 1000);
  expect(s.ratePerSecond(t0 + 120_000)).toBeCloseTo(10);
  // Younger than an hour: growth since the first sample kept.
  expect(s.growthSince(t0 + 120_000, HOUR_MS)).toBe(1200);
  expect(s.growthSince(t0 + 120_000, 30_000)).toBe(300);
  expect(createGrowthSeries().ratePerSecond(t0)).toBeNull();
});

it('the dead-letter window counts by reason over the hour and the day, each source once for the share', () => {
  const w = createDeadLetterWindow();
  const now = Date.now();
  const entry = (at: number, offset: number, reason: string): DeadLetterEntry => ({
    kind: 'deadLetter',
    position: { topic: 'orders.dlq', partition: 0, offset },
    source: { topic: 'orders', partition: 1, offset },
    sourceKey: null,
    value: null,
    reason,
    view: 'orders.orders',
    deadLetteredAt: new Date(at).toISOString(),
  });
  w.add('orders.dlq', entry(now - 1000, 1, 'contract: event.payload.tier: expected one of A, B, found the string "C"'));
  // The same source record, dead-lettered by a second view: another dead letter, one invalid event.
  w.add('orders.dlq', { ...entry(now - 900, 1, 'contract: event.payload.tier: expected one of A, B, found the string "D"'), position: { topic: 'orders.dlq', partition: 0, offset: 4 }, view: 'customers.orders360' } as DeadLetterEntry);
  w.add('orders.dlq', entry(now - 2 * HOUR_MS, 2, 'fold: no such order'));
  // Read again (the reader rejoined its group and went back a day): counted once.
  w.add('orders.dlq', entry(now - 2 * HOUR_MS, 2, 'fold: no such order'));
  w.add('orders.dlq', entry(now - 25 * HOUR_MS, 3, 'fold: too old to count'));
  expect(w.counts(['orders.dlq'], now)).toEqual({
    lastHour: 2,
    lastDay: 3,
    sourcesLastHour: 1,
    refusedLastHour: 0,
    byReason: [
      { reason: 'contract: event.payload.tier: expected one of A, B', lastHour: 2, lastDay: 2 },
      { reason: 'fold: no such order', lastHour: 0, lastDay: 1 },
    ],
  });
  expect(w.counts(['other.dlq'], now).lastDay).toBe(0);
});

describe('events refused at the edge (gateway dead letters, source offset -1)', () => {
  const now = Date.now();
  /** A gateway dead letter at `offset` of partition `partition` of client-events.dlq; its source never reached the topic. */
  const refused = (partition: number, offset: number, at = now - 1000): DeadLetterEntry => ({
    kind: 'deadLetter',
    position: { topic: 'client-events.dlq', partition, offset },
    source: { topic: 'client-events', partition, offset: -1 },
    sourceKey: Buffer.from('device:phone-1'),
    value: null,
    reason: 'contract: [web 2.3.1] query: expected a string of 1 to 200 characters, found 0 characters',
    view: 'gateway.events',
    deadLetteredAt: new Date(at).toISOString(),
  });

  it('counts each refused event once, by its own position in the dead-letter topic, also when read again', () => {
    const w = createDeadLetterWindow();
    // Five refused events of one device: one partition, offset -1 each.
    for (let offset = 10; offset < 15; offset++) w.add('client-events.dlq', refused(1, offset));
    // Another partition, and one from two hours ago.
    w.add('client-events.dlq', refused(2, 10));
    w.add('client-events.dlq', refused(2, 11, now - 2 * HOUR_MS));
    // The reader rejoined and read them again.
    for (let offset = 10; offset < 15; offset++) w.add('client-events.dlq', refused(1, offset));
    const c = w.counts(['client-events.dlq'], now);
    expect(c).toMatchObject({ lastHour: 6, lastDay: 7, sourcesLastHour: 0, refusedLastHour: 6 });
    expect(c.byReason).toEqual([{ reason: 'contract: [web 2.3.1] query: expected a string of 1 to 200 characters', lastHour: 6, lastDay: 7 }]);
  });

  it('keeps records dead-lettered by views apart from refused ones, and malformed dead letters apart by partition', () => {
    const w = createDeadLetterWindow();
    w.add('client-events.dlq', refused(0, 0));
    w.add('client-events.dlq', refused(0, 1));
    w.add('client-events.dlq', refused(1, 0));
    // A record that reached the topic and that two views dead-lettered: one invalid event.
    const onTopic = (dlqOffset: number, view: string): DeadLetterEntry => ({ ...(refused(0, dlqOffset) as DeadLetter), source: { topic: 'client-events', partition: 0, offset: 7 }, view });
    w.add('client-events.dlq', onTopic(2, 'customers.activity'));
    w.add('client-events.dlq', onTopic(3, 'customers.other'));
    // Two malformed dead letters at the same offset of two partitions: two records.
    const malformed = (partition: number): DeadLetterEntry => ({ kind: 'malformed', position: { topic: 'client-events.dlq', partition, offset: 5 }, problem: 'no source', value: null, deadLetteredAt: new Date(now).toISOString() });
    w.add('client-events.dlq', malformed(0));
    w.add('client-events.dlq', malformed(1));
    expect(w.counts(['client-events.dlq'], now)).toMatchObject({ lastHour: 7, lastDay: 7, sourcesLastHour: 3, refusedLastHour: 3 });
  });

  it('validShare counts events refused at the edge as invalid events offered to the topic', () => {
    // 8 events reached the topic, 1 of them dead-lettered by a view; 3 refused at the edge: 7 valid of 11.
    expect(validShare(8, 1, 3)).toBeCloseTo(7 / 11);
    // Only refused events: none valid.
    expect(validShare(0, 0, 4)).toBe(0);
    // 6 valid on the topic, 2 refused: 6 of 8 (the topic's records alone would say 1).
    expect(validShare(6, 0, 2)).toBe(0.75);
    expect(validShare(6, 0, 0)).toBe(1);
    expect(validShare(0, 0, 0)).toBeNull();
  });
});
