// Exactly-once under crashes: the projection runs in a child process that is SIGKILLed
// twice mid-stream and restarted; the final view must equal an independent fold.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { customerCountersProjection, orderStateProjection } from './fixtures/orderViews';
import { createStreamsEnv, orderEvents, produceAll, type StreamsEnv } from './support/streams';
import { appliedCount, readView, truthOf } from './support/views';
import { uniqueName, waitFor } from './support/waitFor';

let env: StreamsEnv;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  env = await createStreamsEnv();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env.close();
});

function startChild(topic: string, view: string): Promise<ChildProcess> {
  // `node --import tsx` runs the fixture in this one process, so SIGKILL kills the projection
  // itself (the tsx CLI would be a wrapper around a second process).
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures/projectionChild.ts')], {
    env: { ...process.env, TOPIC: topic, VIEW: view, MAX_CHUNK: '50', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`projection child exited with ${code} before it was ready`)));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

it('applies 10,000 events exactly once across two SIGKILLs of the projection process', async () => {
  const partitions = 3;
  const topic = await env.topic('crash', partitions);
  const view = uniqueName('crash');
  const orders = orderStateProjection(`${view}-orders`);
  const counters = customerCountersProjection(`${view}-customers`);
  const events = orderEvents({ seed: 42, count: 10_000, orders: 2500, customers: 200 });
  expect(events).toHaveLength(10_000);

  const progress = async () =>
    Math.min(
      await appliedCount(env.redis, orders.name, topic, partitions),
      await appliedCount(env.redis, counters.name, topic, partitions),
    );
  const firstHalf = await produceAll(env.producer, topic, events.slice(0, 5000), 250);

  // First kill: while the projection works through a backlog.
  let child = await startChild(topic, view);
  await waitFor(async () => (await progress()) >= 1000, { what: '1000 events applied', intervalMs: 5 });
  await killHard(child);
  expect(await progress()).toBeLessThan(5000);

  // Second kill: while events are still being produced.
  child = await startChild(topic, view);
  const producing = produceAll(env.producer, topic, events.slice(5000), 250);
  await waitFor(async () => (await progress()) >= 6500, { what: '6500 events applied', intervalMs: 5 });
  await killHard(child);
  expect(await progress()).toBeLessThan(events.length);

  child = await startChild(topic, view);
  const log = [...firstHalf, ...(await producing)];
  await waitFor(async () => (await progress()) === events.length, { what: 'all events applied', timeoutMs: 90_000 });
  await killHard(child);

  const orderIds = [...new Set(events.map((e) => e.payload.orderId))];
  const customerIds = [...new Set(events.map((e) => e.payload.customerId))];
  expect(await readView(env.redis, orders, topic, partitions, orderIds)).toEqual(truthOf(orders, log));
  const countersView = await readView(env.redis, counters, topic, partitions, customerIds);
  expect(countersView).toEqual(truthOf(counters, log));
  // Counters are exact against plain counts of the log, not only against another fold.
  const sum = (f: (c: { orders: number; statusChanges: number; spendCents: number }) => number) =>
    [...countersView.values()].reduce((a, c) => a + f(c), 0);
  expect(sum((c) => c.orders)).toBe(events.filter((e) => e.type === 'OrderPlaced').length);
  expect(sum((c) => c.statusChanges)).toBe(events.filter((e) => e.type === 'OrderStatusChanged').length);
  const placedCents = events.reduce((a, e) => a + (e.type === 'OrderPlaced' ? e.payload.totalCents : 0), 0);
  const canceledCents = events.reduce(
    (a, e) => a + (e.type === 'OrderStatusChanged' && e.payload.to === 'CANCELED' ? e.payload.totalCents : 0),
    0,
  );
  expect(sum((c) => c.spendCents)).toBe(placedCents - canceledCents);
});
