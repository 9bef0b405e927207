// Dead-letter tooling against the real broker and Redis: poison events reach the dead-letter
// topic through running projections, list and inspect show them, and once the fold is fixed
// a replay re-publishes the originals (each once) so the views apply them; a second replay
// does nothing.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createEvent, encodeEvent, ORDERS_TOPIC, type OrdersEvent, partitionForKey } from '../schema/events';
import { customer360Id, customer360Projection, type Customer360 } from '../subgraphs/customers/projection';
import { ordersProjection } from '../subgraphs/orders/projection';
import { deleteMatching } from '../subgraphs/runtime/deleteMatching';
import { describeDeadLetterTopic, inspectDeadLetters, listDeadLetters, replayDeadLetters, replayKeys } from '../subgraphs/runtime/deadLetterTopic';
import { REPLAYED_FROM_HEADER, snippet, type DeadLetter } from '../subgraphs/runtime/deadLetters';
import { partitionKeys } from '../subgraphs/runtime/keys';
import { createLogger } from '../platform/logger';
import type { Projection } from '../subgraphs/runtime/projection';
import { startProjection, type ProjectionHandle } from '../subgraphs/runtime/projectionRunner';
import type { WrittenAt } from '../subgraphs/runtime/producer';
import { createViewReader } from '../subgraphs/runtime/viewReader';
import type { Admin } from 'kafkajs';
import { createNamespace } from './support/namespace';
import { createStreamsEnv, type StreamsEnv } from './support/streams';
import { uniqueName, waitFor } from './support/waitFor';

const run = promisify(execFile);
// Dead-lettering is what these tests cause on purpose; the runner's warnings about it are noise here.
const logger = createLogger('test', 'error');

let env: StreamsEnv;
let admin: Admin;
let ns: string;
let topic: string;
let dlq: string;
const running: ProjectionHandle[] = [];
/** Stands for a bug in the folds that a deploy fixes: orders o-fix-* fail while it is set. */
let broken = true;

function failing<S>(base: Projection<typeof ORDERS_TOPIC, S>): Projection<typeof ORDERS_TOPIC, S> {
  return {
    ...base,
    name: `${ns}${base.name}`,
    apply(view, e, at) {
      if (broken && e.payload.orderId.startsWith('o-fix')) throw new Error(`no price rule for ${e.payload.orderId}`);
      return base.apply(view, e, at);
    },
  };
}

const placed = (orderId: string): OrdersEvent =>
  createEvent(ORDERS_TOPIC, 'OrderPlaced', {
    orderId,
    customerId: 'c-1',
    storeId: 's-1',
    items: [{ productId: 'p-1', quantity: 1, unitPriceCents: 250 }],
    totalCents: 250,
  });

const ok = placed('o-ok-1');
const fix1 = placed('o-fix-1');
const fix2 = placed('o-fix-2');
const poison = Buffer.from('{not json');
let written: WrittenAt[];
const views = () => [`${ns}orders.orders`, `${ns}customers.orders360`];
const consumersOf = (t: string) => (t === topic ? views() : undefined);
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', path.join(__dirname, '../scripts/dlq.ts'), ...args], {
    env: { ...process.env, STREAMGRAPH_NAMESPACE: ns, LOG_LEVEL: 'warn' },
  });

async function checkpoint(view: string, partition: number): Promise<number> {
  const cp = await env.redis.get(partitionKeys(view, 'g0', topic, partition).checkpoint);
  return cp === null ? -1 : Number(cp);
}

beforeAll(async () => {
  ns = await createNamespace('dlq-cli');
  topic = `${ns}orders`;
  dlq = `${topic}.dlq`;
  env = await createStreamsEnv();
  admin = env.kafka.admin();
  await admin.connect();
  // Both views of the orders topic, named and grouped as the subgraph runtime names them.
  for (const [subgraph, projection] of [
    ['orders', failing(ordersProjection)],
    ['customers', failing(customer360Projection)],
  ] as const) {
    const base = projection.name.slice(ns.length);
    running.push(await startProjection({ kafka: env.kafka, redis: env.redis, projection: projection as Projection<typeof ORDERS_TOPIC, unknown>, topic, groupId: `${ns}${subgraph}.${base}`, logger }));
  }
  written = await env.producer.publishMany(topic, [ok, fix1, fix2]);
  await env.producer.publishRaw(topic, [{ key: 'o-bad', value: poison }]);
  // Each of the 3 bad records is dead-lettered by both views.
  await waitFor(async () => (await describeDeadLetterTopic(admin, dlq))[0].logEnd === 6, { what: '6 dead letters' });
  const ends = await admin.fetchTopicOffsets(topic);
  await waitFor(
    async () => {
      for (const view of views())
        for (const o of ends) if ((await checkpoint(view, o.partition)) < Number(o.high) - 1) return false;
      return true;
    },
    { what: 'both views past every record' },
  );
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  await deleteMatching(env.redis, `sg:dlq:{${ns}*`);
  await admin.disconnect();
  await env.close();
});

it('lists the dead letters by reason and by the view that could not apply them', async () => {
  const { partitions, summary } = await listDeadLetters({ kafka: env.kafka, admin, topic: dlq, redis: env.redis });
  expect(partitions).toEqual([{ partition: 0, logStart: 0, logEnd: 6, replayedUpTo: null }]);
  expect(summary.total).toBe(6);
  expect(summary.reasons).toEqual([
    { reason: 'contract: record: expected a JSON event', count: 2 },
    { reason: 'fold: no price rule for o-fix-1', count: 2 },
    { reason: 'fold: no price rule for o-fix-2', count: 2 },
  ]);
  expect(summary.views).toEqual([
    { view: `${ns}customers.orders360`, count: 3 },
    { view: `${ns}orders.orders`, count: 3 },
  ]);
});

it('inspects each dead letter: source position, original key and bytes, reason; the CLI pages through them', async () => {
  const page = await inspectDeadLetters({ kafka: env.kafka, admin, topic: dlq, limit: 10 });
  expect(page.entries).toHaveLength(6);
  expect(page.next.size).toBe(0);
  const letters = page.entries.map((e) => {
    if (e.kind !== 'deadLetter') throw new Error(`malformed: ${e.problem}`);
    return e;
  });
  for (const [event, at] of [
    [fix1, written[1]],
    [fix2, written[2]],
  ] as const) {
    const mine = letters.filter((d) => d.sourceKey?.toString() === event.key);
    expect(mine.map((d) => d.view).sort()).toEqual(views().sort());
    for (const d of mine) {
      expect(d.source).toEqual({ topic, partition: at.partition, offset: at.offset });
      expect(d.value).toEqual(encodeEvent(event));
      expect(d.reason).toBe(`fold: no price rule for ${event.key}`);
    }
  }
  const bad = letters.filter((d) => d.sourceKey?.toString() === 'o-bad');
  expect(bad).toHaveLength(2);
  for (const d of bad) {
    expect(d.source.partition).toBe(partitionForKey('o-bad', 6));
    expect(d.value).toEqual(poison);
    expect(d.reason).toMatch(/^contract: record: expected a JSON event, found invalid JSON/);
  }

  const { stdout } = await cli('inspect', 'orders', '--limit', '4');
  const first = letters[0];
  expect(stdout).toContain(`${dlq}[0]@0  ${first.deadLetteredAt}`);
  expect(stdout).toContain(`from    ${topic}[${first.source.partition}]@${first.source.offset}  key "${first.sourceKey}"  view ${first.view}`);
  expect(stdout).toContain(`reason  ${first.reason}`);
  expect(stdout).toContain(`value   ${first.value!.length} bytes: ${snippet(first.value)}`);
  for (const d of letters.slice(0, 4)) expect(stdout).toContain(`value   ${d.value!.length} bytes: ${snippet(d.value)}`);
  expect(stdout).toContain(`${dlq}: showing 4 of 6 dead letters`);
  expect(stdout).toContain('more: npm run dlq -- inspect orders --limit 4 --from-offset 4');
  // The poison's bytes are shown as they are, on whichever page the two views' dead letters put
  // them (the views dead-letter concurrently, so their order on the topic varies).
  const poisonPage = letters.findIndex((d) => d.value?.equals(poison)) < 4 ? stdout : (await cli('inspect', 'orders', '--from-offset', '4')).stdout;
  expect(poisonPage).toMatch(/value {3}9 bytes: \{not json/);
  const rest = await inspectDeadLetters({ kafka: env.kafka, admin, topic: dlq, fromOffset: 4 });
  expect(rest.entries.map((e) => e.position.offset)).toEqual([4, 5]);
});

it('holds back a record that a view reading its topic did not dead-letter, and a dry run changes nothing', async () => {
  const extra = await replayDeadLetters({
    kafka: env.kafka,
    admin,
    redis: env.redis,
    topic: dlq,
    dryRun: true,
    // A third view that (as far as the dead letters say) applied every record.
    consumersOf: (t) => (t === topic ? [...views(), `${ns}other.view`] : undefined),
  });
  expect(extra).toMatchObject({ read: 6, replayed: 0, heldBack: 3 });
  expect(extra.held.map((h) => h.notIn)).toEqual([[`${ns}other.view`], [`${ns}other.view`], [`${ns}other.view`]]);

  const replayed: DeadLetter[] = [];
  const dry = await replayDeadLetters({ kafka: env.kafka, admin, redis: env.redis, topic: dlq, dryRun: true, consumersOf, onReplay: (d) => replayed.push(d) });
  expect(dry).toMatchObject({ read: 6, replayed: 3, duplicates: 3, heldBack: 0 });
  expect(replayed.map((d) => d.sourceKey?.toString()).sort()).toEqual(['o-bad', 'o-fix-1', 'o-fix-2']);
  expect((await describeDeadLetterTopic(admin, dlq, env.redis))[0].replayedUpTo).toBeNull();
});

it('replays the fixed records once to their source partition with the original key and bytes; a second replay does nothing', async () => {
  broken = false;
  const before = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));

  const { stdout } = await cli('replay', 'orders', '--where-reason', 'fold');
  expect(stdout).toContain(`${dlq}: read 6 dead letters (partition 0: offsets 0-5)`);
  expect(stdout).toContain('replayed 2 records to their source topic; 2 duplicate dead letters (the same record failed in several views); 2 not matching --where-reason "fold"; 0 held back');
  expect(stdout).toContain('the replay position is now offset 6 of partition 0');

  // The source topic got each fixed record once, where the original was, key and bytes unchanged.
  const after = await admin.fetchTopicOffsets(topic);
  expect(after.reduce((a, o) => a + Number(o.high) - (before.get(o.partition) ?? 0), 0)).toBe(2);
  const replays = await readFrom(topic, before, 2);
  expect(replays.map((r) => r.key).sort()).toEqual(['o-fix-1', 'o-fix-2']);
  for (const r of replays) {
    const original = r.key === 'o-fix-1' ? { event: fix1, at: written[1] } : { event: fix2, at: written[2] };
    expect(r.partition).toBe(original.at.partition);
    expect(r.value).toEqual(encodeEvent(original.event));
    expect(r.headers[REPLAYED_FROM_HEADER]).toMatch(new RegExp(`^${dlq.replace(/\./g, '\\.')}:0:\\d$`));
  }

  // Both fixed views apply them, each once: the customer's 360 counts three orders, not five.
  await waitFor(async () => {
    for (const r of replays) for (const view of views()) if ((await checkpoint(view, r.partition)) < r.offset) return false;
    return true;
  }, { what: 'replays applied' });
  const orders = await createViewReader({ redis: env.redis, projection: { ...ordersProjection, name: `${ns}orders.orders` }, topic, partitions: 6 });
  const c360 = await createViewReader({ redis: env.redis, projection: { ...customer360Projection, name: `${ns}customers.orders360` }, topic, partitions: 6 });
  try {
    expect((await orders.getMany(['o-ok-1', 'o-fix-1', 'o-fix-2'])).map((o) => o?.status)).toEqual(['PLACED', 'PLACED', 'PLACED']);
    const [counters] = (await c360.getMany([customer360Id('c-1')])) as Array<Customer360 | undefined>;
    expect(counters).toMatchObject({ orderCount: 3, lifetimeSpendCents: 750 });
  } finally {
    await orders.close();
    await c360.close();
  }

  const again = await replayDeadLetters({ kafka: env.kafka, admin, redis: env.redis, topic: dlq, consumersOf });
  expect(again).toMatchObject({ read: 0, replayed: 0 });
  // Nothing failed again, the lock is gone, and --from-start would replay everything again.
  expect((await describeDeadLetterTopic(admin, dlq, env.redis))[0]).toEqual({ partition: 0, logStart: 0, logEnd: 6, replayedUpTo: 6 });
  expect(await env.redis.get(replayKeys(dlq).lock)).toBeNull();
  const fromStart = await replayDeadLetters({ kafka: env.kafka, admin, redis: env.redis, topic: dlq, consumersOf, fromStart: true, dryRun: true });
  expect(fromStart).toMatchObject({ read: 6, replayed: 3 });
});

/** Reads `count` records written to `t` at or after `from` (per partition). */
async function readFrom(t: string, from: ReadonlyMap<number, number>, count: number) {
  const consumer = env.kafka.consumer({ groupId: uniqueName('replay-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: t, fromBeginning: true });
  const out: Array<{ partition: number; offset: number; key: string | undefined; value: Buffer | null; headers: Record<string, string> }> = [];
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (Number(message.offset) < (from.get(partition) ?? 0)) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ partition, offset: Number(message.offset), key: message.key?.toString(), value: message.value, headers });
    },
  });
  try {
    await waitFor(() => out.length >= count, { what: `${count} new records on ${t}` });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
