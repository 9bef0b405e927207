// The projection runtime against the real broker and Redis: exact views, poison events,
// rebalances, lost Redis state, rebuilds and read-your-writes.
import { createEvent, encodeEvent, ORDERS_TOPIC, type OrdersEvent } from '../schema/events';
import { readGeneration } from '../subgraphs/runtime/generation';
import { createLogger } from '../platform/logger';
import type { Projection } from '../subgraphs/runtime/projection';
import { startProjection, type ProjectionHandle } from '../subgraphs/runtime/projectionRunner';
import { DEAD_LETTER_HEADERS } from '../subgraphs/runtime/deadLetterHeaders';
import { rebuildView, deleteMatching } from '../subgraphs/runtime/rebuildView';
import { createViewReader } from '../subgraphs/runtime/viewReader';
import { createEventProducer } from '../subgraphs/runtime/producer';
import { customerCountersProjection, orderStateProjection } from './fixtures/orderViews';
import { createStreamsEnv, orderEvents, produceAll, type StreamsEnv } from './support/streams';
import { appliedCount, readView, truthOf } from './support/views';
import { uniqueName, waitFor } from './support/waitFor';

const logger = createLogger('test', process.env.LOG_LEVEL ?? 'warn');
let env: StreamsEnv;
const running: ProjectionHandle[] = [];

beforeAll(async () => {
  env = await createStreamsEnv();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});
afterAll(async () => {
  await env.close();
});

async function start<S>(projection: Projection<typeof ORDERS_TOPIC, S>, topic: string, groupId?: string) {
  const handle = await startProjection({ kafka: env.kafka, redis: env.redis, projection, topic, groupId, logger });
  running.push(handle);
  return handle;
}

const orderIds = (log: ReadonlyArray<{ event: OrdersEvent }>) => [...new Set(log.map((e) => e.event.payload.orderId))];
const customerIds = (log: ReadonlyArray<{ event: OrdersEvent }>) => [...new Set(log.map((e) => e.event.payload.customerId))];

describe('projection runtime', () => {
  it('folds a stream into a view equal to an independent fold, with indexes and exact counters', async () => {
    const topic = await env.topic('fold', 4);
    const orders = orderStateProjection(uniqueName('orders'));
    const counters = customerCountersProjection(uniqueName('counters'));
    await Promise.all([start(orders, topic), start(counters, topic)]);
    const log = await produceAll(env.producer, topic, orderEvents({ seed: 1, count: 2000, orders: 400, customers: 30 }));
    await waitFor(async () => (await appliedCount(env.redis, counters.name, topic, 4)) === log.length, { what: 'all events applied' });
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 4)) === log.length, { what: 'all events applied' });

    expect(await readView(env.redis, orders, topic, 4, orderIds(log))).toEqual(truthOf(orders, log));
    const countersView = await readView(env.redis, counters, topic, 4, customerIds(log));
    expect(countersView).toEqual(truthOf(counters, log));
    const placed = log.filter((e) => e.event.type === 'OrderPlaced').length;
    expect([...countersView.values()].reduce((a, c) => a + c.orders, 0)).toBe(placed);
    expect([...countersView.values()].reduce((a, c) => a + c.statusChanges, 0)).toBe(log.length - placed);

    // The index of a customer's orders lists exactly their orders, in placement order, paged.
    const reader = await createViewReader({ redis: env.redis, projection: orders, topic, partitions: 4 });
    const customer = log[0].event.payload.customerId;
    const expected = [...truthOf(orders, log).entries()]
      .filter(([, s]) => s.customerId === customer)
      .sort((a, b) => Date.parse(a[1].placedAt) - Date.parse(b[1].placedAt))
      .map(([id]) => id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await reader.indexPage(`customer:${customer}`, { first: 3, after });
      seen.push(...page.ids);
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(seen).toEqual(expected);
    await reader.close();
  });

  it('dead-letters poison events of every kind with reasons and applies the valid events around them', async () => {
    const topic = await env.topic('poison', 1);
    const orders = orderStateProjection(uniqueName('orders'));
    await start(orders, topic);
    const good = orderEvents({ seed: 2, count: 20, orders: 5, customers: 3 });
    const valid = createEvent(ORDERS_TOPIC, 'OrderPlaced', {
      orderId: 'o-x', customerId: 'c', storeId: 's', items: [{ productId: 'p', quantity: 1, unitPriceCents: 1 }], totalCents: 1,
    });
    const poison: Array<{ key: string | null; value: Buffer | null; reason: RegExp }> = [
      { key: 'o-bad1', value: Buffer.from('{not json'), reason: /^contract: record: expected a JSON event, found invalid JSON/ },
      { key: 'o-bad2', value: null, reason: /^contract: record: expected a JSON event, found an empty value/ },
      { key: 'o-x', value: Buffer.from(JSON.stringify({ ...valid, type: 'OrderTeleported' })), reason: /event\.type: expected one of OrderPlaced, OrderStatusChanged/ },
      { key: 'o-x', value: Buffer.from(JSON.stringify({ ...valid, payload: { ...valid.payload, totalCents: 'ten' } })), reason: /event\.payload\.totalCents: expected an integer, found the string "ten"/ },
      { key: 'o-y', value: encodeEvent(valid), reason: /record key "o-y" differs from event key "o-x"/ },
      { key: 'o-ghost', value: encodeEvent(createEvent(ORDERS_TOPIC, 'OrderStatusChanged', { orderId: 'o-ghost', customerId: 'c', storeId: 's', totalCents: 1, from: 'PLACED', to: 'PICKING' })), reason: /^fold: status change for unknown order o-ghost/ },
    ];
    // Interleave: valid, poison, valid, poison ... so each poison sits between applied events.
    const log: Array<{ event: OrdersEvent; at: { partition: number; offset: number; occurredAt: string } }> = [];
    const poisonOffsets: number[] = [];
    for (let i = 0; i < good.length; i++) {
      log.push(...(await produceAll(env.producer, topic, [good[i]])));
      const bad = poison[i];
      if (bad) {
        await env.producer.publishRaw(topic, [{ key: bad.key, value: bad.value, partition: 0 }]);
        poisonOffsets.push(log[log.length - 1].at.offset + 1);
      }
    }
    const total = good.length + poison.length;
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 1)) === total, { what: 'all records passed' });
    expect(await readView(env.redis, orders, topic, 1, orderIds(log))).toEqual(truthOf(orders, log));

    const dlq = await readAll(`${topic}.dlq`, poison.length);
    expect(dlq.map((m) => Number(m.headers[DEAD_LETTER_HEADERS.sourceOffset]))).toEqual(poisonOffsets);
    dlq.forEach((m, i) => {
      expect(m.headers[DEAD_LETTER_HEADERS.reason]).toMatch(poison[i].reason);
      expect(m.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(topic);
      expect(m.headers[DEAD_LETTER_HEADERS.sourcePartition]).toBe('0');
      expect(m.value).toEqual(poison[i].value ?? null);
    });
    expect(running[0].stats()[0].deadLetters).toBe(poison.length);
  });

  it('passes over the event types a fold ignores, by their header, without parsing them', async () => {
    const topic = await env.topic('types', 1);
    const base = orderStateProjection(uniqueName('placed-only'));
    const placedOnly: typeof base = { ...base, types: ['OrderPlaced'] };
    const handle = await start(placedOnly, topic);
    const events = orderEvents({ seed: 3, count: 60, orders: 10, customers: 4 });
    const log = await produceAll(env.producer, topic, events);
    // Garbage under a header naming an ignored type is never read by this view; garbage without
    // the header is read, and dead-lettered.
    await env.producer.publishRaw(topic, [
      { key: 'o-skip', value: Buffer.from('{not json'), partition: 0, headers: { 'event-type': 'OrderStatusChanged' } },
      { key: 'o-bad', value: Buffer.from('{not json'), partition: 0 },
    ]);
    await waitFor(async () => (await appliedCount(env.redis, placedOnly.name, topic, 1)) === log.length + 2, { what: 'every record passed' });
    const placedLog = log.filter((e) => e.event.type === 'OrderPlaced');
    expect(await readView(env.redis, placedOnly, topic, 1, orderIds(placedLog))).toEqual(truthOf(placedOnly, placedLog));
    expect(handle.stats()[0].deadLetters).toBe(1);
  });

  it('stays exact when one of two instances in a group leaves mid-stream', async () => {
    const topic = await env.topic('rebalance', 6);
    const counters = customerCountersProjection(uniqueName('counters'));
    const group = uniqueName('group');
    const a = await start(counters, topic, group);
    const b = await start(counters, topic, group);
    const events = orderEvents({ seed: 3, count: 6000, orders: 1500, customers: 40 });
    const first = await produceAll(env.producer, topic, events.slice(0, 3000));
    // Both instances are applying when one leaves.
    await waitFor(() => a.stats().some((s) => s.appliedTotal > 0) && b.stats().some((s) => s.appliedTotal > 0), { what: 'both instances applying' });
    const produceRest = produceAll(env.producer, topic, events.slice(3000));
    await b.stop();
    const log = [...first, ...(await produceRest)];
    await waitFor(async () => (await appliedCount(env.redis, counters.name, topic, 6)) === log.length, { what: 'all events applied' });
    expect(await readView(env.redis, counters, topic, 6, customerIds(log))).toEqual(truthOf(counters, log));
  });

  it('rebuilds the same view after Redis loses its keys and checkpoints', async () => {
    const topic = await env.topic('loss', 3);
    const orders = orderStateProjection(uniqueName('orders'));
    let runner = await start(orders, topic);
    const log = await produceAll(env.producer, topic, orderEvents({ seed: 4, count: 1500, orders: 300, customers: 10 }));
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 3)) === log.length, { what: 'all events applied' });
    const before = await readView(env.redis, orders, topic, 3, orderIds(log));
    expect(before).toEqual(truthOf(orders, log));
    await runner.stop();
    running.splice(running.indexOf(runner), 1);

    // The broker still has the group's committed offsets at the end of the log; Redis has nothing.
    expect(await deleteMatching(env.redis, `sg:v:{${orders.name}:*`)).toBeGreaterThan(log.length / 10);
    expect(await appliedCount(env.redis, orders.name, topic, 3)).toBe(0);
    runner = await start(orders, topic);
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 3)) === log.length, { what: 'view rebuilt' });
    expect(await readView(env.redis, orders, topic, 3, orderIds(log))).toEqual(before);
  });

  it('rebuilds into a new generation while the old one serves, then switches readers and writers', async () => {
    const topic = await env.topic('rebuild', 3);
    const orders = orderStateProjection(uniqueName('orders'));
    const live = await start(orders, topic);
    const events = orderEvents({ seed: 5, count: 3000, orders: 600, customers: 10 });
    const first = await produceAll(env.producer, topic, events.slice(0, 2000));
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 3)) === first.length, { what: 'first part applied' });
    const reader = await createViewReader({ redis: env.redis, projection: orders, topic, partitions: 3 });
    const sample = first[0].event.payload.orderId;
    let servedDuringRebuild = 0;
    const result = await rebuildView({
      kafka: env.kafka,
      redis: env.redis,
      projection: orders,
      topic,
      logger,
      dropGraceMs: 1000,
      onProgress: async () => {
        // The old generation keeps serving reads while the new one catches up.
        if ((await reader.getMany([sample]))[0] !== undefined) servedDuringRebuild++;
      },
    });
    expect(result.from).toBe('g0');
    expect(result.to).not.toBe('g0');
    expect(servedDuringRebuild).toBeGreaterThan(0);
    expect(result.droppedKeys).toBeGreaterThan(0);
    expect(await readGeneration(env.redis, orders.name)).toBe(result.to);
    await waitFor(() => live.generation() === result.to && reader.generation() === result.to, { what: 'generation followed' });

    // The live runner now writes the new generation.
    const rest = await produceAll(env.producer, topic, events.slice(2000));
    const log = [...first, ...rest];
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 3, result.to)) === log.length, { what: 'rest applied to the new generation' });
    expect(await readView(env.redis, orders, topic, 3, orderIds(log))).toEqual(truthOf(orders, log));
    expect(await appliedCount(env.redis, orders.name, topic, 3, 'g0')).toBe(0);
    await reader.close();
  });

  it('waits for its own write (read-your-writes) and times out with a clear error', async () => {
    const topic = await env.topic('ryw', 3);
    const orders = orderStateProjection(uniqueName('orders'));
    const runner = await start(orders, topic);
    const [placed] = orderEvents({ seed: 6, count: 1, orders: 1, customers: 1 });
    const at = await env.producer.publish(topic, placed);
    await runner.waitFor(at.partition, at.offset, 10_000);
    const reader = await createViewReader({ redis: env.redis, projection: orders, topic, partitions: 3 });
    expect((await reader.getMany([placed.payload.orderId]))[0]?.status).toBe('PLACED');
    await reader.close();
    await expect(runner.waitFor(at.partition, at.offset + 5, 200)).rejects.toThrow(
      `view ${orders.name} has not applied ${topic}[${at.partition}]@${at.offset + 5} within 200 ms (applied up to ${at.offset})`,
    );
    const stats = runner.stats()[at.partition];
    expect(stats.checkpoint).toBe(at.offset);
    expect(stats.lastEventAt).toBe(placed.occurredAt);
  });
});

async function readAll(topic: string, count: number) {
  const consumer = env.kafka.consumer({ groupId: uniqueName('dlq-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: Array<{ value: Buffer | null; headers: Record<string, string> }> = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ value: message.value, headers });
    },
  });
  await waitFor(() => out.length >= count, { what: `${count} records on ${topic}` });
  await consumer.disconnect();
  return out;
}

describe('a topic recreated while Redis kept the view', () => {
  it('drops the partition state that is ahead of the new log and rebuilds it from the new records', async () => {
    const orders = orderStateProjection(uniqueName('orders'));
    const topic = await env.topic('recreated', 1);
    let runner = await start(orders, topic);
    const oldLog = await produceAll(env.producer, topic, orderEvents({ seed: 8, count: 300, orders: 60, customers: 5 }));
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 1)) === oldLog.length, { what: 'old log applied' });
    await runner.stop();
    running.splice(running.indexOf(runner), 1);

    // Same topic name, new incarnation: offsets start again at 0, with different records.
    const admin = env.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), { what: 'topic deleted' });
    await waitFor(async () => admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }).then(() => true, () => false), { what: 'topic recreated' });
    await admin.disconnect();
    // A new producer: the idempotent one keeps sequence numbers of the old incarnation.
    const producer = await createEventProducer(env.kafka);
    const newLog = await produceAll(producer, topic, orderEvents({ seed: 9, count: 50, orders: 10, customers: 5 }));
    await producer.close();
    runner = await start(orders, topic);
    await waitFor(async () => (await appliedCount(env.redis, orders.name, topic, 1)) === newLog.length, { what: 'new log applied' });
    const view = await readView(env.redis, orders, topic, 1, [...orderIds(oldLog), ...orderIds(newLog)]);
    expect(view).toEqual(truthOf(orders, newLog));
  });
});
