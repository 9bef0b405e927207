// Customer 360 from client streams, against the real broker and Redis: POST /events on a gateway
// in front of the customers and catalog subgraphs. A batch with valid and invalid events (the
// valid folded, the invalid dead-lettered with reason and release, the answer listing them); a
// body naming another customer; the rate limit (429, nothing produced); and a browsing session,
// anonymous then signed in, read back as `me { recentlyViewed { name } lastSeenAt }`.
import Redis from 'ioredis';
import type { Admin } from 'kafkajs';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { EDGE_DEAD_LETTER_HEADERS } from '../gateway/events/edgeDeadLetters';
import { createEventRateLimiter } from '../gateway/events/eventRateLimiter';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { CLIENT_EVENTS_TOPIC, dlqTopicName } from '../schema/events';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { startCustomersSubgraph } from '../subgraphs/customers';
import { DEAD_LETTER_HEADERS } from '../subgraphs/runtime/deadLetterHeaders';
import { inspectDeadLetters } from '../subgraphs/runtime/deadLetterTopic';
import type { DeadLetter } from '../subgraphs/runtime/deadLetters';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { testGatewayConfig } from './support/gatewayConfig';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'client-events-test-jwt-secret-0123456789';
const RATE = 40;
let namespace: string;
let redis: Redis;
let admin: Admin;
let subgraphs: SubgraphHandle[] = [];
let gateway: GatewayHandle;
let eventsUrl: string;

const token = (sub: string, role: 'customer' | 'admin') => signDevToken({ sub, roles: [role], secret: JWT_SECRET });
const adminToken = token('admin-1', 'admin');
const app = { app: 'web', appVersion: '2.3.1', clientTimestamp: '2026-03-01T09:00:00.000Z' };

async function post(body: string, bearer?: string) {
  const res = await fetch(eventsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
const ndjson = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n');

async function gql(query: string, variables: Record<string, unknown> = {}, bearer?: string) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[] };
}

async function register(name: string): Promise<string> {
  const r = await gql(`mutation($n: String!, $e: String!) { registerCustomer(input: { name: $n, email: $e }) { id } }`, { n: name, e: `${name.toLowerCase()}@example.com` });
  expect(r.errors).toBeUndefined();
  return r.data.registerCustomer.id;
}

/** Records written to a topic so far (all partitions). */
async function recordsOn(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((a, o) => a + Number(o.high), 0);
}

const topic = () => `${namespace}${CLIENT_EVENTS_TOPIC.name}`;

beforeAll(async () => {
  namespace = await createNamespace('client-events');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  subgraphs = await Promise.all([startCustomersSubgraph(opts), startCatalogSubgraph(opts)]);
  gateway = await startGateway(
    testGatewayConfig(
      { namespace, redis, jwtSecret: JWT_SECRET, label: 'client-events-test' },
      { events: { kafka: kafkaConfigFromEnv(), settings: { namespace, maxBatch: 50, ratePerMinute: RATE, addressRatePerMinute: 100_000 } } },
    ),
  );
  eventsUrl = gateway.url.replace(/\/graphql$/, '/events');
  await waitFor(() => {
    const s = gateway.supergraphState();
    return 'subgraphs' in s && ['catalog', 'customers'].every((n) => s.subgraphs.includes(n));
  }, { what: 'the gateway to compose customers and catalog' });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(subgraphs.map((s) => s.close()));
  await admin?.disconnect();
  redis?.disconnect();
});

it('folds the valid events of a batch, dead-letters the invalid ones with reason and release, and lists them', async () => {
  const ada = await register('Ada');
  const bearer = token(ada, 'customer');
  const dlqBefore = await recordsOn(dlqTopicName(topic()));
  const body = [
    ndjson([
      { type: 'app_open', deviceId: 'ada-phone', ...app },
      { type: 'search', deviceId: 'ada-phone', ...app, query: '' },
      { type: 'product_view', deviceId: 'ada-phone', ...app, productId: 'p-1' },
    ]),
    '{"type": "add_to_cart", broken',
    ndjson([
      { type: 'add_to_cart', deviceId: 'ada-phone', ...app, appVersion: '2.2.9', productId: 'p-1', quantity: 500 },
      { type: 'add_to_cart', deviceId: 'ada-phone', ...app, productId: 'p-1', quantity: 2 },
      { type: 'search', deviceId: 'ada-phone', ...app, query: 'oat milk' },
    ]),
  ].join('\n');
  const r = await post(body, bearer);
  expect(r.status).toBe(200);
  expect(r.body.accepted).toBe(4);
  expect(r.body.rejected).toEqual([
    { index: 1, reason: 'query: expected a string of 1 to 200 characters, found 0 characters' },
    { index: 3, reason: expect.stringMatching(/^event: not JSON/) },
    { index: 4, reason: 'quantity: expected an integer from 1 to 99, found the number 500' },
  ]);

  // The valid ones are folded into Customer 360.
  const seen = await waitFor(async () => {
    const q = await gql(`{ me { lastSeenAt sessionsLast7Days recentSearches cartItems { quantity } recentlyViewed { id } } }`, {}, bearer);
    return q.data?.me?.cartItems?.length ? q.data.me : null;
  }, { what: 'the batch folded into Customer 360' });
  expect(seen).toMatchObject({ sessionsLast7Days: 1, recentSearches: ['oat milk'], cartItems: [{ quantity: 2 }], recentlyViewed: [{ id: 'p-1' }] });
  expect(Date.parse(seen.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);

  // The invalid ones are on the topic's dead letters, with the reason and the app version.
  expect(await recordsOn(dlqTopicName(topic()))).toBe(dlqBefore + 3);
  const kafka = createKafka(kafkaConfigFromEnv());
  const page = await inspectDeadLetters({ kafka, admin, topic: dlqTopicName(topic()), limit: 100 });
  const mine = page.entries.filter((e): e is DeadLetter => e.kind === 'deadLetter' && e.sourceKey?.toString() === `customer:${ada}`);
  expect(mine.map((d) => d.reason)).toEqual([
    'contract: [web 2.3.1] query: expected a string of 1 to 200 characters, found 0 characters',
    expect.stringMatching(/^contract: \[\(no app\) \(no version\)\] event: not JSON/),
    'contract: [web 2.2.9] quantity: expected an integer from 1 to 99, found the number 500',
  ]);
  expect(mine.every((d) => d.view === 'gateway.events' && d.source.topic === topic() && d.source.offset === -1)).toBe(true);
  expect(mine[2].value?.toString()).toContain('"quantity":500');
  // The gateway writes the runtime's dead-letter format (it may not import it).
  for (const [name, header] of Object.entries(DEAD_LETTER_HEADERS))
    if (name !== 'sourceOffset') expect(EDGE_DEAD_LETTER_HEADERS[name as keyof typeof EDGE_DEAD_LETTER_HEADERS]).toBe(header);
});

it('takes the customer from the token, not from a body that names another one', async () => {
  const [eve, bob] = [await register('Eve'), await register('Bob')];
  const r = await post(ndjson([{ type: 'product_view', deviceId: 'eve-laptop', ...app, productId: 'p-claimed', customerId: bob }]), token(eve, 'customer'));
  expect(r).toMatchObject({ status: 200, body: { accepted: 1, rejected: [] } });
  const eveSaw = await waitFor(async () => {
    const q = await gql(`query($id: ID!) { customer(id: $id) { recentlyViewed { id } } }`, { id: eve }, adminToken);
    return q.data?.customer?.recentlyViewed?.length ? q.data.customer.recentlyViewed : null;
  }, { what: "the view folded into the token's customer" });
  expect(eveSaw).toEqual([{ id: 'p-claimed' }]);
  const bobs = await gql(`query($id: ID!) { customer(id: $id) { recentlyViewed { id } lastSeenAt } }`, { id: bob }, adminToken);
  expect(bobs.data.customer).toEqual({ recentlyViewed: [], lastSeenAt: null });
  // Nobody but the customer and admins sees what a customer browsed.
  const other = await gql(`query($id: ID!) { customer(id: $id) { recentlyViewed { id } } }`, { id: eve }, token(bob, 'customer'));
  expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});

it('answers 429 over the rate limit, and produces nothing for that batch', async () => {
  const device = `rate-${Date.now()}`;
  const view = (i: number) => ({ type: 'product_view', deviceId: device, ...app, productId: `p-${i}` });
  // Both batches must fall in one fixed one-minute window.
  await waitFor(() => Date.now() % 60_000 < 40_000, { what: 'the start of a rate window', timeoutMs: 30_000, intervalMs: 200 });
  const first = await post(ndjson(Array.from({ length: RATE - 5 }, (_, i) => view(i))));
  expect(first).toMatchObject({ status: 200, body: { accepted: RATE - 5 } });
  const [events, deadLetters] = [await recordsOn(topic()), await recordsOn(dlqTopicName(topic()))];
  // Ten more (one of them invalid) would pass the device's limit: refused whole.
  const over = await post(ndjson([...Array.from({ length: 9 }, (_, i) => view(100 + i)), { type: 'search', deviceId: device, ...app, query: '' }]));
  expect(over.status).toBe(429);
  expect(over.body.errors[0].extensions.code).toBe('RATE_LIMITED');
  expect(over.body.errors[0].message).toContain(`${RATE} events per minute per device`);
  expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  // A batch larger than the limit on its own never passes.
  const huge = await post(ndjson(Array.from({ length: RATE + 1 }, (_, i) => view(200 + i))));
  expect(huge.status).toBe(429);
  expect(await recordsOn(topic())).toBe(events);
  expect(await recordsOn(dlqTopicName(topic()))).toBe(deadLetters);
  // What is left of the window still passes.
  expect(await post(ndjson([view(300)]))).toMatchObject({ status: 200, body: { accepted: 1 } });
});

it('gives back what a refused batch took from the counters that had room, and lets the counters of each window expire within two minutes', async () => {
  const limiter = createEventRateLimiter(redis, namespace);
  const now = Date.now();
  const device = { kind: 'device' as const, id: `give-back-${now}`, events: 5, limit: 10 };
  const customer = { kind: 'customer' as const, id: `give-back-${now}`, events: 5, limit: 12 };
  expect(await limiter.charge([device, customer], now)).toEqual({ admitted: true });
  // The customer's counter is full for this batch, the device's is not: nothing is kept.
  const refused = await limiter.charge([{ ...device, events: 5 }, { ...customer, events: 8 }], now);
  expect(refused).toMatchObject({ admitted: false, kind: 'customer', limit: 12 });
  const window = Math.floor(now / 60_000);
  const key = (kind: string, id: string) => `sg:events:rate:${namespace}:${kind}:${id}:${window}`;
  expect(await redis.get(key('device', device.id))).toBe('5');
  expect(await redis.get(key('customer', customer.id))).toBe('5');
  const ttl = await redis.pttl(key('device', device.id));
  expect(ttl).toBeGreaterThan(60_000);
  expect(ttl).toBeLessThanOrEqual(120_000);
});

it('refuses what is not a batch: a bad token, a body too large or not JSON, and other methods', async () => {
  expect((await post('[]', 'not-a-jwt')).status).toBe(401);
  expect((await post('[1,')).body.errors[0].extensions.code).toBe('BAD_REQUEST');
  const tooMany = await post(ndjson(Array.from({ length: 51 }, () => ({ type: 'app_open' }))));
  expect(tooMany).toMatchObject({ status: 413, body: { errors: [{ extensions: { code: 'BATCH_TOO_LARGE' } }] } });
  expect((await fetch(eventsUrl)).status).toBe(405);
  expect(await post('[]')).toMatchObject({ status: 200, body: { accepted: 0, rejected: [] } });
});

it('shows a browsing session in me { recentlyViewed { name } lastSeenAt }, anonymous views joined at sign-in', async () => {
  for (const [id, name] of [['p-oat', 'Oat milk'], ['p-rye', 'Rye bread'], ['p-tea', 'Green tea']]) {
    const r = await gql(`mutation($id: ID!, $n: String!) { upsertProduct(input: { id: $id, name: $n, category: "food", priceCents: 250 }) { id } }`, { id, n: name }, adminToken);
    expect(r.errors).toBeUndefined();
  }
  const device = `browser-${Date.now()}`;
  // Browsing before signing in: only the device is known.
  const anon = await post(ndjson([
    { type: 'app_open', deviceId: device, ...app },
    { type: 'product_view', deviceId: device, ...app, productId: 'p-oat' },
  ]));
  expect(anon.body).toEqual({ accepted: 2, rejected: [] });
  // Signing in, then browsing on.
  const grace = await register('Grace');
  const bearer = token(grace, 'customer');
  const signedIn = await post(ndjson([
    { type: 'search', deviceId: device, ...app, query: 'bread' },
    { type: 'product_view', deviceId: device, ...app, productId: 'p-rye' },
    { type: 'product_view', deviceId: device, ...app, productId: 'p-tea' },
    { type: 'add_to_cart', deviceId: device, ...app, productId: 'p-tea', quantity: 1 },
  ]), bearer);
  expect(signedIn.body).toEqual({ accepted: 4, rejected: [] });

  const me = await waitFor(async () => {
    const q = await gql(`{ me { recentlyViewed { name } lastSeenAt sessionsLast7Days recentSearches cartItems { product { name } quantity } } }`, {}, bearer);
    return q.data?.me?.recentlyViewed?.length === 3 && q.data.me.recentlyViewed.every((p: unknown) => p !== null) ? q : null;
  }, { what: 'the session, with the anonymous view joined, through the gateway' });
  expect(me.errors).toBeUndefined();
  expect(me.data.me).toMatchObject({
    recentlyViewed: [{ name: 'Green tea' }, { name: 'Rye bread' }, { name: 'Oat milk' }],
    sessionsLast7Days: 1,
    recentSearches: ['bread'],
    cartItems: [{ product: { name: 'Green tea' }, quantity: 1 }],
  });
  expect(Date.parse(me.data.me.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);
});
