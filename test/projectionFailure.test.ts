// A view that cannot go on says so instead of retrying forever: Redis refusing its writes past
// the retry bound fails it on the subgraph's /ready and in /metrics; a broken fold stops it at
// once with one log line, without dead-lettering or skipping the event.
import { buildSubgraphSchema } from '@apollo/subgraph';
import Redis from 'ioredis';
import { parse } from 'graphql';
import pino from 'pino';
import { startRedisServer, type RedisServerHandle } from '../infra/redis';
import { createLogger } from '../platform/logger';
import { ORDERS_TOPIC } from '../schema/events';
import { declareSubgraph } from '../subgraphs/runtime/declaration';
import type { Projection } from '../subgraphs/runtime/projection';
import { startProjection, type ProjectionHandle } from '../subgraphs/runtime/projectionRunner';
import { startSubgraph, type SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { orderStateProjection, type OrderState } from './fixtures/orderViews';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { createStreamsEnv, orderEvents, produceAll, type StreamsEnv } from './support/streams';
import { appliedCount } from './support/views';
import { uniqueName, waitFor } from './support/waitFor';

let env: StreamsEnv;
let server: RedisServerHandle | undefined;
let subgraph: SubgraphHandle | undefined;
let runner: ProjectionHandle | undefined;

beforeAll(async () => {
  env = await createStreamsEnv();
});
afterAll(async () => {
  await runner?.stop();
  await subgraph?.close();
  await server?.stop();
  await env.close();
});

it('reports a view whose Redis writes keep failing past the retry bound as failed on /ready and in /metrics', async () => {
  // A private Redis: refusing writes on the shared one would disturb every other test file.
  server = await startRedisServer({ port: 0 });
  const redis = new Redis(server.url);
  const namespace = await createNamespace('view-failure');
  const declaration = declareSubgraph({
    name: 'failing',
    port: 0,
    portVariable: 'FAILING_PORT',
    topics: [],
    views: { orders: orderStateProjection('failing.orders') },
  });
  const schema = () =>
    buildSubgraphSchema([{ typeDefs: parse('type Query { ok: Boolean }'), resolvers: { Query: { ok: () => true } } }]);
  subgraph = await startSubgraph(
    declaration,
    {
      namespace,
      redis,
      identitySecret: TEST_IDENTITY_SECRET,
      port: 0,
      register: false,
      logger: createLogger('failing', 'error'),
      // 50 ms doubling to 250 ms; 3 s of failures fail the view.
      projectionRetry: { initialDelayMs: 50, maxDelayMs: 250, giveUpAfterMs: 3000 },
    },
    schema,
  );
  const view = `${namespace}failing.orders`;
  const topic = subgraph.runtime.topic(ORDERS_TOPIC);
  const ready = async () => {
    const res = await fetch(`${subgraph!.url.replace(/\/graphql$/, '')}/ready`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  await waitFor(async () => (await ready()).status === 200, { what: 'the subgraph ready' });

  // Redis refuses every write from now on (NOREPLICAS) while reads still work.
  const admin = new Redis(server.url);
  await admin.config('SET', 'min-replicas-to-write', '1');
  const events = orderEvents({ seed: 21, count: 30, orders: 10, customers: 3 });
  await produceAll(subgraph.runtime.producer, topic, events);
  const started = Date.now();
  await waitFor(async () => (await ready()).status === 503, { what: '/ready to report the failure', timeoutMs: 30_000 });
  // Not before the bound: the view retried for 3 s first.
  expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  const { body } = await ready();
  expect(body.failed).toEqual([
    {
      view,
      errorClass: 'retriable',
      reason: expect.stringMatching(/^applying partition \d: Redis refused the command \(NOREPLICAS\) for 3\.\d s over \d+ attempts; last error: NOREPLICAS/),
      since: expect.any(String),
    },
  ]);
  expect(body.views).toEqual([expect.objectContaining({ view, state: 'failed' })]);

  const metrics = await (await fetch(`${subgraph.url.replace(/\/graphql$/, '')}/metrics`)).text();
  const stateLine = (state: string) => metrics.split('\n').find((l) => l.startsWith('streamgraph_projection_state{') && l.includes(`view="${view}"`) && l.includes(`state="${state}"`));
  expect(stateLine('failed')).toMatch(/ 1$/);
  expect(stateLine('running')).toMatch(/ 0$/);
  expect(stateLine('retrying')).toMatch(/ 0$/);

  // Failed is final: with Redis writable again the view does not resume by itself.
  await admin.config('SET', 'min-replicas-to-write', '0');
  admin.disconnect();
  await new Promise((r) => setTimeout(r, 1500));
  expect(await appliedCount(redis, view, topic, ORDERS_TOPIC.partitions)).toBe(0);
  expect((await ready()).status).toBe(503);
  await subgraph.close();
  subgraph = undefined;
  redis.disconnect();
});

it('stops a view whose fold is broken with one log line, applying what came before and dead-lettering nothing', async () => {
  const topic = await env.topic('broken-fold', 1);
  const base = orderStateProjection(uniqueName('broken'));
  const events = orderEvents({ seed: 22, count: 12, orders: 4, customers: 2 });
  const bug = events[6].payload.orderId;
  // A bug, not a refusal: a TypeError on one order's events.
  const broken: Projection<typeof ORDERS_TOPIC, OrderState> = {
    ...base,
    apply: (view, e, at) => (e.payload.orderId === bug && at.offset >= 6 ? (undefined as unknown as { s: OrderState }).s && new Map() : base.apply(view, e, at)),
  };
  const lines: Array<{ level: number; msg: string; errorClass?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  await produceAll(env.producer, topic, events);
  runner = await startProjection({ kafka: env.kafka, redis: env.redis, projection: broken, topic, logger, maxChunk: 1 });
  await waitFor(() => runner!.status().state === 'failed', { what: 'the view to stop' });

  expect(runner.status()).toMatchObject({ errorClass: 'fatal', reason: expect.stringContaining('apply() threw TypeError') });
  const stops = lines.filter((l) => l.level >= 50 && l.msg.startsWith(`view ${base.name} stopped:`));
  expect(stops).toHaveLength(1);
  expect(stops[0]).toMatchObject({ errorClass: 'fatal' });
  expect(stops[0].msg).toMatch(
    new RegExp(`^view ${base.name} stopped: the fold of view ${base.name} is broken: apply\\(\\) threw TypeError: .* at ${topic.replace(/\./g, '\\.')}\\[0\\]@6; `),
  );
  // Everything before the broken event is applied; it and what follows are neither skipped nor dead-lettered.
  expect(runner.stats()[0]).toMatchObject({ checkpoint: 5, deadLetters: 0 });
  await new Promise((r) => setTimeout(r, 1000));
  expect(await appliedCount(env.redis, base.name, topic, 1)).toBe(6);
  expect(lines.filter((l) => l.level >= 50 && l.msg.includes('stopped'))).toHaveLength(1);
});
