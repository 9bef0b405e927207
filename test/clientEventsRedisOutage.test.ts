// POST /events while the rate limits cannot be checked: the gateway's Redis goes away (a TCP
// proxy in front of the real Redis is closed, as a failed node or a cut link would do). A batch
// is then answered 503 RATE_LIMIT_UNAVAILABLE with retry-after and nothing is produced; once
// Redis is back, the same batch sent again is taken, so the client's retry loses nothing.
import http from 'node:http';
import net from 'node:net';
import Redis from 'ioredis';
import type { Admin } from 'kafkajs';
import { createAuthenticator } from '../gateway/auth';
import { createEventIngest, RATE_LIMIT_DEADLINE_MS, type EventIngest } from '../gateway/events/eventIngest';
import { signDevToken } from '../gateway/token';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createLogger } from '../platform/logger';
import { CLIENT_EVENTS_TOPIC, dlqTopicName } from '../schema/events';
import { Registry } from 'prom-client';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'client-events-redis-outage-secret-0123456789';
const app = { app: 'web', appVersion: '2.3.1', clientTimestamp: '2026-03-01T09:00:00.000Z' };

/** A TCP proxy to the real Redis that can be cut and restored on the same port. */
async function redisProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve())),
    close() {
      for (const s of sockets) s.destroy();
      if (server.listening) server.close();
    },
  };
}

let namespace: string;
let admin: Admin;
let proxy: Awaited<ReturnType<typeof redisProxy>>;
let redis: Redis;
let ingest: EventIngest;
let server: http.Server;
let url: string;

beforeAll(async () => {
  namespace = await createNamespace('events-redis-outage');
  admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  // Topics just created: the admin's metadata may not name their leaders yet ("not the leader").
  for (const t of [`${namespace}${CLIENT_EVENTS_TOPIC.name}`, dlqTopicName(`${namespace}${CLIENT_EVENTS_TOPIC.name}`)])
    await waitFor(() => admin.fetchTopicOffsets(t).then(() => true), { what: `the offsets of ${t}`, timeoutMs: 30_000 });
  const target = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  proxy = await redisProxy({ host: target.hostname, port: Number(target.port || 6379) });
  // ioredis's defaults, as the gateway's client has them (an offline queue, retries on reconnect).
  redis = new Redis(proxy.port, '127.0.0.1');
  redis.on('error', () => undefined);
  ingest = createEventIngest({
    settings: { namespace, maxBatch: 50, ratePerMinute: 1_000, addressRatePerMinute: 100_000, deviceClaims: 'uuid' },
    kafka: createKafka(kafkaConfigFromEnv()),
    redis,
    authenticator: createAuthenticator({ hs256Secret: JWT_SECRET }),
    maxBodyBytes: 1 << 20,
    registry: new Registry(),
    logger: createLogger('events-redis-outage-test', 'silent'),
  });
  server = http.createServer((req, res) => {
    if (!ingest.serve(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/events`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await ingest?.close();
  redis?.disconnect();
  proxy?.close();
  await admin?.disconnect();
});

async function recordsOn(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((a, o) => a + Number(o.high), 0);
}

async function post(body: string, bearer: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${bearer}` }, body });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

it('answers 503 RATE_LIMIT_UNAVAILABLE, producing nothing, while Redis is away, and takes the same batch once it is back', async () => {
  const topic = `${namespace}${CLIENT_EVENTS_TOPIC.name}`;
  const bearer = signDevToken({ sub: 'c-outage', roles: ['customer'], secret: JWT_SECRET });
  const device = `device-${Date.now()}`;
  const batch = (n: number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ type: 'product_view', deviceId: device, ...app, productId: `p-${i}` })).join('\n');

  expect(await post(batch(2), bearer)).toMatchObject({ status: 200, body: { accepted: 2, rejected: [] } });
  const before = await recordsOn(topic);
  const deadLettersBefore = await recordsOn(dlqTopicName(topic));

  await proxy.cut();
  const refused = await post(batch(3), bearer);
  expect(refused).toMatchObject({ status: 503, retryAfter: '1', body: { errors: [{ extensions: { code: 'RATE_LIMIT_UNAVAILABLE' } }] } });
  // A second attempt while Redis is still away: refused the same way, and still nothing written.
  expect((await post(batch(3), bearer)).body.errors[0].extensions.code).toBe('RATE_LIMIT_UNAVAILABLE');
  expect(await recordsOn(topic)).toBe(before);
  expect(await recordsOn(dlqTopicName(topic))).toBe(deadLettersBefore);

  await proxy.restore();
  // The client sends the batch again until it is taken, as the retry-after asks.
  const taken = await waitFor(async () => {
    const r = await post(batch(3), bearer);
    if (r.status !== 503) return r;
    expect(r.body.errors[0].extensions.code).toBe('RATE_LIMIT_UNAVAILABLE');
    return null;
  }, { what: 'the batch taken once Redis is back', intervalMs: RATE_LIMIT_DEADLINE_MS / 4, timeoutMs: 30_000 });
  expect(taken).toMatchObject({ status: 200, body: { accepted: 3, rejected: [] } });
  expect(await recordsOn(topic)).toBe(before + 3);
  expect(await recordsOn(dlqTopicName(topic))).toBe(deadLettersBefore);
});
