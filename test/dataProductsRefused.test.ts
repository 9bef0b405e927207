// Events the gateway refuses at the edge, in the catalog of data products, against the real
// broker and Redis: POST /events with valid and invalid client events, and the customers product
// (which owns client-events) counts every refused event as a dead letter, exactly once, and as an
// invalid event offered to its topics, so its valid share is valid / (valid + refused).
//
// A namespace of its own with only the customers subgraph writing, so the mesh has seen exactly
// the events this test sends: the share can be checked to the event. The refused events of one
// device all land on one partition with source offset -1 (they never reached the topic); the mesh
// used to count them as one invalid record per partition, and against the topic's records only.
import Redis from 'ioredis';
import type { Admin } from 'kafkajs';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { CLIENT_EVENTS_TOPIC, CUSTOMERS_TOPIC, dlqTopicName } from '../schema/events';
import { startCustomersSubgraph } from '../subgraphs/customers';
import { startMeshSubgraph, type MeshHandle } from '../subgraphs/mesh';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { testGatewayConfig } from './support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'data-products-refused-test-jwt-secret-0123';
const analyst = signDevToken({ sub: 'analyst-1', roles: ['analyst'], secret: JWT_SECRET });
const app = { app: 'web', appVersion: '2.3.1', clientTimestamp: '2026-03-01T09:00:00.000Z' };

let namespace: string;
let redis: Redis;
let admin: Admin;
let customers: SubgraphHandle;
let mesh: MeshHandle;
let gateway: GatewayHandle;
let eventsUrl: string;

const LIVE = `validShare measuredAt deadLetters { total lastHour lastDay perHourLastHour byReason { reason lastHour lastDay } }`;
async function customersProduct(): Promise<any> {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${analyst}` },
    body: JSON.stringify({ query: `{ dataProduct(name: "customers") { serviceLevels { level state measured } live { ${LIVE} } } }` }),
  });
  const r = (await res.json()) as { data?: any; errors?: unknown[] };
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.dataProduct;
}

async function post(events: Array<object | string>) {
  const res = await fetch(eventsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n'),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function recordsOn(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((a, o) => a + Number(o.high), 0);
}

/** Waits for a measurement taken after `at` (ms), so what it shows includes everything before. */
async function measuredAfter(at: number, accept: (p: any) => boolean, what: string): Promise<any> {
  return waitFor(
    async () => {
      const p = await customersProduct();
      if (Date.parse(p.live.measuredAt) <= at) return null;
      // Thrown, so a timeout says what the catalog showed last.
      if (!accept(p)) throw new Error(`validShare ${p.live.validShare}, dead letters ${JSON.stringify(p.live.deadLetters)}`);
      return p;
    },
    { what, timeoutMs: 60_000, intervalMs: 100 },
  );
}

const share = (p: any) => p.live.validShare;
const minValidShare = (p: any) => p.serviceLevels.find((l: any) => l.level === 'MIN_VALID_SHARE');

beforeAll(async () => {
  namespace = await createNamespace('products-refused');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  customers = await startCustomersSubgraph(opts);
  mesh = await startMeshSubgraph({ ...opts, sampleMs: 300 });
  gateway = await startGateway(
    testGatewayConfig(
      { namespace, redis, jwtSecret: JWT_SECRET, label: 'data-products-refused-test' },
      { events: { kafka: kafkaConfigFromEnv(), settings: { namespace, maxBatch: 50, ratePerMinute: 1000, addressRatePerMinute: 100_000, deviceClaims: 'uuid' } } },
    ),
  );
  eventsUrl = gateway.url.replace(/\/graphql$/, '/events');
  await waitFor(async () => (await customersProduct().catch(() => null)) !== null, { what: 'the gateway to serve the customers product' });
});

afterAll(async () => {
  await gateway?.close();
  await mesh?.close();
  await customers?.close();
  await admin?.disconnect();
  redis?.disconnect();
});

it('counts every event refused at the edge once as a dead letter and as an invalid event in the valid share', async () => {
  const clientEvents = `${namespace}${CLIENT_EVENTS_TOPIC.name}`;
  // Nothing offered yet: no share, no dead letters (and nothing on the topics the mesh could have missed).
  const start = Date.now();
  const before = await measuredAfter(start, () => true, 'a first measurement');
  expect(before.live).toMatchObject({ validShare: null, deadLetters: { total: 0, lastHour: 0, lastDay: 0 } });
  expect(await recordsOn(clientEvents)).toBe(0);
  expect(await recordsOn(`${namespace}${CUSTOMERS_TOPIC.name}`)).toBe(0);

  // One device: 6 valid events and 4 refused ones, all on one partition of client-events.
  const device = 'refused-phone';
  const first = await post([
    { type: 'app_open', deviceId: device, ...app },
    { type: 'search', deviceId: device, ...app, query: '' },
    { type: 'product_view', deviceId: device, ...app, productId: 'p-1' },
    { type: 'add_to_cart', deviceId: device, ...app, appVersion: '2.2.9', productId: 'p-1', quantity: 500 },
    { type: 'product_view', deviceId: device, ...app, productId: 'p-2' },
    '{"type": "search", broken',
    { type: 'search', deviceId: device, ...app, query: 'oat milk' },
    { type: 'add_to_cart', deviceId: device, ...app, productId: 'p-2', quantity: 2 },
    { type: 'search', deviceId: device, ...app, query: '' },
    { type: 'product_view', deviceId: device, ...app, productId: 'p-3' },
  ]);
  expect(first.status).toBe(200);
  expect(first.body.accepted).toBe(6);
  expect(first.body.rejected).toHaveLength(4);
  const sent = Date.now();
  expect(await recordsOn(clientEvents)).toBe(6);
  expect(await recordsOn(dlqTopicName(clientEvents))).toBe(4);

  // 6 valid of 10 offered; 4 dead letters. (Before the fix: 1 invalid of 6, a share of 0.83.)
  const after = await measuredAfter(sent, (p) => p.live.deadLetters.lastHour === 4 && share(p) !== null && Math.abs(share(p) - 6 / 10) < 1e-9, 'the 4 refused events as dead letters and a share of 6/10');
  expect(after.live.deadLetters).toMatchObject({ total: 4, lastHour: 4, lastDay: 4, perHourLastHour: 4 });
  expect(after.live.deadLetters.byReason.reduce((a: number, r: any) => a + r.lastHour, 0)).toBe(4);
  expect(after.live.deadLetters.byReason.map((r: any) => r.reason).join('\n')).toMatch(/\[web 2\.3\.1\] query/);
  expect(minValidShare(after)).toMatchObject({ state: 'BREACHED', measured: '60.00%' });
  // Measured again later, still exactly these: nothing counted twice.
  const again = await measuredAfter(Date.parse(after.live.measuredAt), () => true, 'a later measurement');
  expect(again.live.deadLetters).toMatchObject({ total: 4, lastHour: 4, lastDay: 4 });
  expect(share(again)).toBeCloseTo(6 / 10, 9);

  // A second batch from another device: 2 valid and 3 refused. Up by exactly 3; 8 valid of 15.
  const second = await post([
    { type: 'search', deviceId: 'refused-tablet', ...app, query: '' },
    { type: 'app_open', deviceId: 'refused-tablet', ...app },
    { type: 'add_to_cart', deviceId: 'refused-tablet', ...app, productId: 'p-9', quantity: 0 },
    'not json at all',
    { type: 'product_view', deviceId: 'refused-tablet', ...app, productId: 'p-9' },
  ]);
  expect(second).toMatchObject({ status: 200, body: { accepted: 2 } });
  expect(second.body.rejected).toHaveLength(3);
  const sentAgain = Date.now();
  const later = await measuredAfter(sentAgain, (p) => p.live.deadLetters.lastHour === 7 && Math.abs(share(p) - 8 / 15) < 1e-9, 'the 3 more refused events and a share of 8/15');
  expect(later.live.deadLetters).toMatchObject({ total: 7, lastHour: 7, lastDay: 7 });

  // The mesh's /metrics says the same share.
  const metrics = await (await fetch(mesh.url.replace('/graphql', '/metrics'))).text();
  const gauge = metrics.match(/streamgraph_data_product_valid_share\{product="customers"[^}]*\} ([0-9.e-]+)/);
  expect(Number(gauge?.[1])).toBeCloseTo(8 / 15, 6);
});
