// Streams that are not states (the root type has no key) are shared too: identical
// subscriptions from callers the subgraph cannot tell apart ride one upstream subscription, a
// joiner gets only the events from the moment it joins, and different callers never share.
import { EventEmitter, on } from 'node:events';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import type { Identity } from '../platform/identity';
import { createLogger } from '../platform/logger';
import { announceSubgraph, type Announcement } from '../platform/announceSubgraph';
import { startSubgraphServer, type SubgraphServerHandle } from '../subgraphs/runtime/subgraphServer';
import { testGatewayConfig } from './support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { uniqueName, waitFor } from './support/waitFor';

const JWT_SECRET = 'shared-streams-test-jwt-secret-0123456789';
const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { noticeBoard: String }
  "A notice for a store: an event, not the state of an object (no key)."
  type Notice { text: String! seq: Int! }
  type Subscription { storeNotices(storeId: ID!): Notice! }
`;
const NOTICES = `subscription Notices($store: ID!) { storeNotices(storeId: $store) { text seq } }`;

const notices = new EventEmitter();
notices.setMaxListeners(0);
/** Upstream subscriptions the subgraph has open, per caller. */
const open = new Map<string, number>();
let started = 0;
let seq = 0;

let redis: Redis;
let subgraph: SubgraphServerHandle;
let announcement: Announcement;
let gateway: GatewayHandle;
const clients: Client[] = [];

async function* storeNotices(storeId: string, identity: Identity): AsyncGenerator<{ storeNotices: { text: string; seq: number } }> {
  const who = identity.sub ?? 'anonymous';
  started++;
  open.set(who, (open.get(who) ?? 0) + 1);
  try {
    for await (const [n] of on(notices, `notice:${storeId}`)) yield { storeNotices: { text: `for ${who}`, seq: n as number } };
  } finally {
    open.set(who, (open.get(who) ?? 1) - 1);
  }
}

const emit = () => notices.emit('notice:s1', ++seq);

function follow(sub: string) {
  const c = createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${signDevToken({ sub, roles: ['shopper'], secret: JWT_SECRET })}` },
  });
  clients.push(c);
  const received: Array<{ text: string; seq: number }> = [];
  const state = { error: null as unknown };
  c.subscribe(
    { query: NOTICES, variables: { store: 's1' } },
    { next: (v) => void received.push((v.data as { storeNotices: { text: string; seq: number } }).storeNotices), error: (e) => void (state.error = e), complete: () => undefined },
  );
  return { received, state };
}

/** Emits notices until every follower has one newer than `after` (a subscribe is asynchronous). */
async function emitUntil(followers: Array<{ received: Array<{ seq: number }> }>, after = 0) {
  await waitFor(
    () => {
      emit();
      return followers.every((f) => f.received.some((n) => n.seq > after));
    },
    { what: 'every follower to get a notice', intervalMs: 100, timeoutMs: 30_000 },
  );
}

beforeAll(async () => {
  const namespace = `${uniqueName('shared-streams')}.`;
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  subgraph = await startSubgraphServer({
    name: 'notices',
    schema: buildSubgraphSchema({
      typeDefs: parse(SDL),
      resolvers: {
        Subscription: {
          storeNotices: { subscribe: (_: unknown, args: { storeId: string }, ctx: { identity: Identity }) => storeNotices(args.storeId, ctx.identity) },
        },
      } as never,
    }),
    identitySecret: TEST_IDENTITY_SECRET,
    context: (identity) => ({ identity }),
    readiness: () => ({ ready: true, detail: {} }),
    registry: new Registry(),
    logger: createLogger('notices', 'warn'),
  });
  announcement = await announceSubgraph(redis, { name: 'notices', url: subgraph.url, wsUrl: subgraph.wsUrl, sdl: SDL }, { namespace });
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'shared-streams' }));
  await waitFor(() => gateway.supergraphState().phase !== 'waiting', { what: 'the first supergraph' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await gateway?.close();
  await announcement?.close();
  await subgraph?.close();
  redis?.disconnect();
});

it('shares one upstream subscription among identical subscriptions to a stream of events, and a joiner gets only later events', async () => {
  const followers = Array.from({ length: 20 }, () => follow('shopper-1'));
  await emitUntil(followers);
  expect(started).toBe(1);
  expect(open.get('shopper-1')).toBe(1);
  expect(gateway.subscriptionStats().upstream).toBe(1);
  // Every follower gets every notice from the one it first saw, in order, none twice.
  const last = seq;
  await waitFor(() => followers.every((f) => f.received.at(-1)?.seq === last), { what: 'the last notice everywhere' });
  for (const f of followers) {
    const seqs = f.received.map((n) => n.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
  }

  const before = seq;
  const joiner = follow('shopper-1');
  await emitUntil([joiner], before);
  expect(joiner.received.every((n) => n.seq > before)).toBe(true);
  expect(started).toBe(1);
  for (const f of [...followers, joiner]) expect(f.state.error).toBeNull();
});

it('never shares across callers: another caller gets an upstream subscription, and only its own events', async () => {
  const other = follow('shopper-2');
  await emitUntil([other], seq);
  expect(open.get('shopper-2')).toBe(1);
  expect(open.get('shopper-1')).toBe(1);
  expect(gateway.subscriptionStats().upstream).toBe(2);
  expect(new Set(other.received.map((n) => n.text))).toEqual(new Set(['for shopper-2']));
});
