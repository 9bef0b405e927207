// Customer 360 from client streams, against the real broker and Redis: POST /events on a gateway
// in front of the customers and catalog subgraphs. A batch with valid and invalid events (the
// valid folded, the invalid dead-lettered with reason and release, the answer listing them); a
// body naming another customer; the rate limits per device and per customer (429, nothing
// produced); a body over GATEWAY_MAX_BODY_BYTES, declared or streamed (413, nothing produced);
// the bound on events waiting for Kafka (503 EVENTS_BUSY, against a broker address that accepts
// connections and never answers); and a browsing session, anonymous then signed in, read back as
// `me { recentlyViewed { name } lastSeenAt }`.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import Redis from 'ioredis';
import type { Admin } from 'kafkajs';
import { DEFAULT_LIMITS } from '../gateway/limits';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { EDGE_DEAD_LETTER_HEADERS } from '../gateway/events/edgeDeadLetters';
import { MAX_PENDING_EVENTS } from '../gateway/events/eventIngest';
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

/**
 * POSTs `first`, then `pad` again and again (up to `maxBytes` in all; nothing more when `pad` is
 * empty) until the gateway answers, never ending the body: an answer proves the gateway did not
 * wait for the whole body. `headers` say how it is framed (a declared Content-Length, or chunked).
 */
async function postWithoutEnding(url: string, headers: http.OutgoingHttpHeaders, first: string, pad: string, maxBytes: number) {
  // Keep-alive, as browsers and apps send: with `Connection: close` the gateway would close the
  // socket after its answer, and a write still on its way would be reset.
  const agent = new http.Agent({ keepAlive: true });
  const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-ndjson', ...headers } });
  let answered = false;
  const answer = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true;
      resolve(res);
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
  });
  void answer.catch(() => undefined); // a write that fails first is the error reported
  const write = (chunk: string) => new Promise<void>((resolve, reject) => req.write(chunk, (e) => (e ? reject(e) : resolve())));
  let sent = 0;
  try {
    await write(first);
    sent += Buffer.byteLength(first);
    while (!answered && pad !== '' && sent + Buffer.byteLength(pad) <= maxBytes) {
      await write(pad);
      sent += Buffer.byteLength(pad);
    }
    let timer: NodeJS.Timeout | undefined;
    const res = await Promise.race([
      answer,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within 20 s after ${sent} bytes sent`)), 20_000))),
    ]).finally(() => clearTimeout(timer));
    let text = '';
    for await (const chunk of res) text += chunk;
    return { status: res.statusCode, body: JSON.parse(text) as any, sent, ended: req.writableEnded };
  } finally {
    req.destroy();
    agent.destroy();
  }
}

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
      { events: { kafka: kafkaConfigFromEnv(), settings: { namespace, maxBatch: 50, ratePerMinute: RATE, addressRatePerMinute: 100_000, deviceClaims: 'uuid' } } },
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

it("answers 429 at the customer's limit to a signed-in customer spreading events over several devices, and produces nothing for that batch", async () => {
  const lin = await register('Lin');
  const bearer = token(lin, 'customer');
  const run = Date.now();
  const devices = (label: string, n: number) => Array.from({ length: n }, (_, i) => `${label}-${run}-${i}`);
  const views = (ids: string[], each: number) => ids.flatMap((deviceId) => Array.from({ length: each }, (_, i) => ({ type: 'product_view', deviceId, ...app, productId: `p-${i}` })));
  // Every batch must fall in one fixed one-minute window.
  await waitFor(() => Date.now() % 60_000 < 40_000, { what: 'the start of a rate window', timeoutMs: 30_000, intervalMs: 200 });
  // 35 events, 7 on each of 5 devices: every device far under the limit, the customer 5 under it.
  const first = await post(ndjson(views(devices('lin-a', 5), 7)), bearer);
  expect(first).toMatchObject({ status: 200, body: { accepted: RATE - 5, rejected: [] } });
  const [events, deadLetters] = [await recordsOn(topic()), await recordsOn(dlqTopicName(topic()))];
  // Ten more (one of them invalid) on five new devices, 2 each: every device has room, the customer has not.
  const refusedDevices = devices('lin-b', 5);
  const over = await post(ndjson([...views(refusedDevices, 2).slice(0, 9), { type: 'search', deviceId: refusedDevices[4], ...app, query: '' }]), bearer);
  expect(over.status).toBe(429);
  expect(over.body.errors[0].extensions.code).toBe('RATE_LIMITED');
  expect(over.body.errors[0].message).toContain(`${RATE} events per minute per customer`);
  expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  // Nothing of it was written: no event, no DeviceSignedIn for the new devices, no dead letter.
  expect(await recordsOn(topic())).toBe(events);
  expect(await recordsOn(dlqTopicName(topic()))).toBe(deadLetters);
  // What is left of the customer's window still passes, on yet another device...
  expect(await post(ndjson(views(devices('lin-c', 1), 5)), bearer)).toMatchObject({ status: 200, body: { accepted: 5, rejected: [] } });
  // ...and the refused batch kept nothing on its devices' counters: one of them, anonymous, still has its whole limit.
  expect(await post(ndjson(views([refusedDevices[0]], RATE)))).toMatchObject({ status: 200, body: { accepted: RATE, rejected: [] } });
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

it('refuses what is not a batch: a bad token, a body not JSON, more events than EVENTS_MAX_BATCH, and other methods', async () => {
  expect((await post('[]', 'not-a-jwt')).status).toBe(401);
  expect((await post('[1,')).body.errors[0].extensions.code).toBe('BAD_REQUEST');
  const tooMany = await post(ndjson(Array.from({ length: 51 }, () => ({ type: 'app_open' }))));
  expect(tooMany).toMatchObject({ status: 413, body: { errors: [{ extensions: { code: 'BATCH_TOO_LARGE' } }] } });
  expect((await fetch(eventsUrl)).status).toBe(405);
  expect(await post('[]')).toMatchObject({ status: 200, body: { accepted: 0, rejected: [] } });
});

it('answers 413 to a body over GATEWAY_MAX_BODY_BYTES, whether its length is declared or it is streamed without one, and produces nothing', async () => {
  const max = DEFAULT_LIMITS.maxBodyBytes;
  const device = `big-${Date.now()}`;
  // Two valid events and an invalid one: admitted, they would write two records and a dead letter.
  const lines = ndjson([
    { type: 'product_view', deviceId: device, ...app, productId: 'p-1' },
    { type: 'product_view', deviceId: device, ...app, productId: 'p-2' },
    { type: 'search', deviceId: device, ...app, query: '' },
  ]);
  // Padded with a blank line (skipped) to exactly `bytes`.
  const padded = (bytes: number) => `${lines}\n${' '.repeat(bytes - lines.length - 1)}`;
  const tooLarge = { status: 413, body: { errors: [{ message: `request body is over the limit of ${max} bytes`, extensions: { code: 'REQUEST_TOO_LARGE' } }] } };
  const [events, deadLetters] = [await recordsOn(topic()), await recordsOn(dlqTopicName(topic()))];

  // One byte over, sent whole (fetch declares its length).
  expect(await post(padded(max + 1))).toMatchObject(tooLarge);
  // A declared length over the limit is answered from the header: only the events are sent, the body never ends.
  const declared = await postWithoutEnding(eventsUrl, { 'content-length': String(max + 1) }, lines, '', lines.length);
  expect(declared).toMatchObject({ ...tooLarge, sent: lines.length, ended: false });
  // Chunked, no length: answered once more than the limit has come, before the body ends.
  const streamed = await postWithoutEnding(eventsUrl, { 'transfer-encoding': 'chunked' }, `${lines}\n`, ' '.repeat(16_384), 8 * 2 ** 20);
  expect(streamed).toMatchObject({ ...tooLarge, ended: false });
  expect(streamed.sent).toBeGreaterThan(max);

  expect(await recordsOn(topic())).toBe(events);
  expect(await recordsOn(dlqTopicName(topic()))).toBe(deadLetters);
  // The same events at exactly the limit are taken: the refusals above were for the size alone.
  expect(await post(padded(max))).toMatchObject({ status: 200, body: { accepted: 2, rejected: [{ index: 2 }] } });
  expect(await recordsOn(topic())).toBe(events + 2);
  expect(await recordsOn(dlqTopicName(topic()))).toBe(deadLetters + 1);
});

it('answers 503 EVENTS_BUSY, charging nothing, while MAX_PENDING_EVENTS events wait for a broker that does not answer', async () => {
  // A broker address that accepts connections and never answers: the ingest's producers hang on
  // their first request, so every admitted batch stays pending until the test lets go.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const letGo = () => {
    if (silent.listening) silent.close();
    for (const s of sockets) s.destroy();
  };
  // Its own rate-limit namespace, with limits that never bind, and room in a body for big batches.
  const busyNamespace = `${namespace}busy.`;
  const perBatch = 5_000;
  let busy: GatewayHandle | undefined;
  let held: Promise<{ status: number; retryAfter: string | null; body: any }>[] = [];
  try {
    busy = await startGateway(
      testGatewayConfig(
        { namespace, redis, jwtSecret: JWT_SECRET, label: 'client-events-busy-test' },
        {
          limits: { ...DEFAULT_LIMITS, maxBodyBytes: 2 ** 20 },
          events: {
            // A request timeout far past the test: only letGo ends the wait. One quick retry (the
            // least an idempotent producer takes), so the answers come soon after.
            kafka: {
              brokers: [`127.0.0.1:${(silent.address() as net.AddressInfo).port}`],
              clientId: 'client-events-busy-test',
              requestTimeout: 300_000,
              retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
            },
            settings: { namespace: busyNamespace, maxBatch: perBatch, ratePerMinute: 1_000_000, addressRatePerMinute: 1_000_000, deviceClaims: 'uuid' },
          },
        },
      ),
    );
    const busyUrl = busy.url;
    const busyEvents = busyUrl.replace(/\/graphql$/, '/events');
    const pending = async () => {
      const text = await (await fetch(busyUrl.replace(/\/graphql$/, '/metrics'))).text();
      return Number(/^streamgraph_gateway_events_pending(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1]);
    };
    const batch = (deviceId: string, n: number) => ndjson(Array.from({ length: n }, () => ({ type: 'app_open', deviceId, ...app })));
    const postTo = async (body: string) => {
      const res = await fetch(busyEvents, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
    };
    expect(MAX_PENDING_EVENTS % perBatch).toBe(0);
    const run = Date.now();
    held = Array.from({ length: MAX_PENDING_EVENTS / perBatch }, (_, i) => postTo(batch(`held-${run}-${i}`, perBatch)));
    // Exactly the bound is waiting: every one of those batches was admitted.
    await waitFor(async () => (await pending()) === MAX_PENDING_EVENTS, { what: `${MAX_PENDING_EVENTS} events pending on the silent broker` });

    // One event more is refused before it is charged.
    const refusedDevice = `refused-${run}`;
    const windowBefore = Math.floor(Date.now() / 60_000);
    const refused = await postTo(batch(refusedDevice, 1));
    const windowAfter = Math.floor(Date.now() / 60_000);
    expect(refused).toMatchObject({ status: 503, retryAfter: '1', body: { errors: [{ extensions: { code: 'EVENTS_BUSY' } }] } });
    for (let w = windowBefore; w <= windowAfter; w++) expect(await redis.exists(`sg:events:rate:${busyNamespace}:device:${refusedDevice}:${w}`)).toBe(0);
    expect(await pending()).toBe(MAX_PENDING_EVENTS);

    // The broker goes away: the waiting batches are answered 503 EVENTS_UNAVAILABLE (send again), and the bound is free.
    letGo();
    for (const answer of await Promise.all(held))
      expect(answer).toMatchObject({ status: 503, retryAfter: '1', body: { errors: [{ extensions: { code: 'EVENTS_UNAVAILABLE' } }] } });
    expect(await pending()).toBe(0);
    expect(await postTo(batch(refusedDevice, 1))).toMatchObject({ status: 503, body: { errors: [{ extensions: { code: 'EVENTS_UNAVAILABLE' } }] } });
  } finally {
    letGo();
    await Promise.allSettled(held);
    await busy?.close();
  }
});

it('shows a browsing session in me { recentlyViewed { name } lastSeenAt }, anonymous views joined at sign-in', async () => {
  for (const [id, name] of [['p-oat', 'Oat milk'], ['p-rye', 'Rye bread'], ['p-tea', 'Green tea']]) {
    const r = await gql(`mutation($id: ID!, $n: String!) { upsertProduct(input: { id: $id, name: $n, category: "food", priceCents: 250 }) { id } }`, { id, n: name }, adminToken);
    expect(r.errors).toBeUndefined();
  }
  // A device id as the apps make it: a random UUID behind the app's prefix (only such an id can be claimed).
  const device = `web-${randomUUID()}`;
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

it("does not join a guessable device id's anonymous activity to the customer who signs in on it, and counts the withheld claim", async () => {
  await gql(`mutation { upsertProduct(input: { id: "p-kiwi", name: "Kiwi", category: "food", priceCents: 90 }) { id } }`, {}, adminToken);
  const metricsUrl = gateway.url.replace(/\/graphql$/, '/metrics');
  const withheld = async () => Number(/^streamgraph_gateway_device_claims_withheld_total (\d+)/m.exec(await (await fetch(metricsUrl)).text())?.[1] ?? NaN);
  const withheldBefore = await withheld();
  // A serial-number-like id someone else used anonymously: a view of a product the claimant must not see.
  const guessable = `device-${Date.now()}`;
  expect((await post(ndjson([{ type: 'product_view', deviceId: guessable, ...app, productId: 'p-secret' }]))).body).toEqual({ accepted: 1, rejected: [] });
  const mallory = await register('Mallory');
  const bearer = token(mallory, 'customer');
  const before = await recordsOn(topic());
  expect((await post(ndjson([{ type: 'product_view', deviceId: guessable, ...app, productId: 'p-kiwi' }]), bearer)).body).toEqual({ accepted: 1, rejected: [] });
  // Only the event itself was written: no DeviceSignedIn for the guessable id.
  expect((await recordsOn(topic())) - before).toBe(1);
  expect(await withheld()).toBe(withheldBefore + 1);
  // The same customer on an id carrying a random UUID claims it: the event and its DeviceSignedIn.
  const own = `ios:${randomUUID()}`;
  const beforeOwn = await recordsOn(topic());
  expect((await post(ndjson([{ type: 'app_open', deviceId: own, ...app }]), bearer)).body).toEqual({ accepted: 1, rejected: [] });
  expect((await recordsOn(topic())) - beforeOwn).toBe(2);
  expect(await withheld()).toBe(withheldBefore + 1);

  const me = await waitFor(async () => {
    const q = await gql(`{ me { recentlyViewed { id } sessionsLast7Days } }`, {}, bearer);
    return q.data?.me?.recentlyViewed?.length >= 1 && q.data.me.sessionsLast7Days >= 1 ? q : null;
  }, { what: "Mallory's own view and app_open folded" });
  expect(me.errors).toBeUndefined();
  expect(me.data.me.recentlyViewed).toEqual([{ id: 'p-kiwi' }]);
});
