// Redis refuses writes during consumption: the projection retries with backoff, never
// skipping a record, and ends with an exact view once Redis accepts writes again.
import Redis from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../infra/redis';
import { createLogger } from '../platform/logger';
import { startProjection, type ProjectionHandle } from '../subgraphs/runtime/projectionRunner';
import { orderStateProjection } from './fixtures/orderViews';
import { createStreamsEnv, orderEvents, produceAll, type StreamsEnv } from './support/streams';
import { appliedCount, readView, truthOf } from './support/views';
import { uniqueName, waitFor } from './support/waitFor';

let server: RedisServerHandle;
let redis: Redis;
let env: StreamsEnv;
let runner: ProjectionHandle | undefined;

beforeAll(async () => {
  // A private Redis: stopping the shared one would disturb every other test file.
  server = await startRedisServer({ port: 0 });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  env = await createStreamsEnv();
});
afterAll(async () => {
  await runner?.stop();
  redis.disconnect();
  await env.close();
  await server.stop();
});

it('retries writes Redis refuses, with backoff and without skipping, and ends with the exact view', async () => {
  const topic = await env.topic('redis-outage', 3);
  const orders = orderStateProjection(uniqueName('orders'));
  const events = orderEvents({ seed: 11, count: 3000, orders: 600, customers: 10 });
  const first = await produceAll(env.producer, topic, events.slice(0, 2000));
  runner = await startProjection({ kafka: env.kafka, redis, projection: orders, topic, maxChunk: 20, maxRetryDelayMs: 200, logger: createLogger('test', 'error') });
  await waitFor(async () => (await appliedCount(redis, orders.name, topic, 3)) >= 200, { what: 'consumption under way', intervalMs: 5 });

  // Redis refuses every write from now on (NOREPLICAS) while reads still work: the view keeps
  // its state, so a runner that skipped a failed chunk would leave a hole below.
  const admin = new Redis(server.url);
  await admin.config('SET', 'min-replicas-to-write', '1');
  const beforeOutage = await appliedCount(redis, orders.name, topic, 3);
  expect(beforeOutage).toBeLessThan(first.length); // mid-stream
  const rest = await produceAll(env.producer, topic, events.slice(2000));
  const refusals = async () => Number(/errorstat_NOREPLICAS:count=(\d+)/.exec(await admin.info('errorstats'))?.[1] ?? 0);
  await waitFor(async () => (await refusals()) >= 5, { what: 'several refused write attempts' });
  expect(await appliedCount(redis, orders.name, topic, 3)).toBe(beforeOutage);
  await admin.config('SET', 'min-replicas-to-write', '0');
  admin.disconnect();

  const log = [...first, ...rest];
  await waitFor(async () => (await appliedCount(redis, orders.name, topic, 3)) === log.length, { what: 'all events applied after Redis accepted writes again', timeoutMs: 90_000 });
  const ids = [...new Set(events.map((e) => e.payload.orderId))];
  expect(await readView(redis, orders, topic, 3, ids)).toEqual(truthOf(orders, log));
});
