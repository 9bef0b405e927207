// Spans of the gateway read from an in-memory exporter: the gateway and the catalog subgraph run in
// this process with tracing on (platform/tracing startTracing with an InMemorySpanExporter), on
// the real broker, Redis, PostgreSQL and Connect. A query is planned in a `gateway.plan` span
// under its request span the first time and not again when repeated (the plan is cached); one
// traced inventory change that reaches three clients of one shared subscription is one delivery
// span at the gateway, with streamgraph.subscription.clients = 3, under the catalog's one
// subscription event.
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createClient, type Client } from 'graphql-ws';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import type { Role } from '../platform/identity';
import { createLogger } from '../platform/logger';
import { SpanKind, startTracing, type TracingHandle } from '../platform/tracing';
import { startCatalogSubgraph, type CatalogHandle } from '../subgraphs/catalog';
import { removeRunCatalogSources } from './support/catalogDatabase';
import { testGatewayConfig } from './support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'tracing-in-memory-test-jwt-secret-0123456789';
const token = (sub: string, role: Role) => signDevToken({ sub, roles: [role], secret: JWT_SECRET, expiresInSec: 3600 });
const admin = token('admin-trace-mem', 'admin');
const shopper = token('shopper-trace-mem', 'shopper');
const STORE = 'store-trace-mem-1';
const PRODUCT = 'prod-trace-mem-1';
const storeToken = token(STORE, 'store');

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle | undefined;
let namespace: string | undefined;
let redis: Redis;
let catalog: CatalogHandle | undefined;
let gateway: GatewayHandle | undefined;
const clients: Client[] = [];

async function gw(query: string, variables: Record<string, unknown>, bearer: string) {
  const res = await fetch(gateway!.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
  });
  const traceId = res.headers.get('x-trace-id');
  if (!traceId) throw new Error('the gateway answered no x-trace-id: is tracing on?');
  return { traceId, ...((await res.json()) as { data?: any; errors?: any[] }) };
}

const spansOf = (traceId: string) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const describeSpans = (spans: readonly ReadableSpan[]) => spans.map((s) => `${s.name} (${s.spanContext().spanId} <- ${s.parentSpanId ?? 'root'})`).join('\n');
/** The gateway's span of the HTTP request: the trace's root (the client sent no traceparent), a server span. */
const requestSpanOf = (spans: readonly ReadableSpan[]) => spans.find((s) => s.parentSpanId === undefined && s.kind === SpanKind.SERVER);

/** The request's spans once its request span has ended (it ends when the response is closed, after the client has the answer). */
async function requestTrace(traceId: string, what: string) {
  const spans = await waitFor(
    () => {
      const spans = spansOf(traceId);
      if (!requestSpanOf(spans)) throw new Error(`no request span yet in:\n${describeSpans(spans)}`);
      return spans;
    },
    { what, timeoutMs: 10_000 },
  );
  return { spans, request: requestSpanOf(spans)! };
}

beforeAll(async () => {
  // Before anything starts: the subgraph's and the gateway's tracing hooks are installed at start.
  tracing = startTracing('tracing-in-memory-test', {}, exporter);
  namespace = await createNamespace('trace-mem');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  catalog = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, logger: createLogger('trace-mem-catalog', 'error') });
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'trace-mem' }));
  await waitFor(
    async () => {
      const r = await gw(`mutation { upsertStore(input: { id: "${STORE}", name: "Traced shelf" }) { id } }`, {}, admin);
      if (!r.data?.upsertStore) throw new Error(JSON.stringify(r.errors ?? r));
      return r;
    },
    { what: 'the gateway to serve the catalog' },
  );
  const product = await gw(`mutation { upsertProduct(input: { id: "${PRODUCT}", name: "Rye crackers", category: "pantry", priceCents: 289 }) { id } }`, {}, admin);
  expect(product.errors).toBeUndefined();
  const reported = await gw(`mutation { reportInventory(storeId: "${STORE}", productId: "${PRODUCT}", quantity: 10) { quantity } }`, {}, storeToken);
  expect(reported.errors).toBeUndefined();
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await gateway?.close();
  await catalog?.close();
  // This file's connector and replication slot go now, not at the end of the run.
  if (namespace) await removeRunCatalogSources(namespace);
  redis?.disconnect();
  await tracing?.shutdown();
});

it('plans a query in a gateway.plan span under its request span the first time, and not when it is repeated', async () => {
  const query = `query PlanOnce($id: ID!) { store(id: $id) { id name } }`;
  const first = await gw(query, { id: STORE }, shopper);
  expect(first).toMatchObject({ data: { store: { id: STORE, name: 'Traced shelf' } } });
  const { spans, request } = await requestTrace(first.traceId, 'the first request span');
  const chain = describeSpans(spans);
  const plans = spans.filter((s) => s.name === 'gateway.plan');
  expect({ chain, plans: plans.length }).toEqual({ chain, plans: 1 });
  expect({ chain, parent: plans[0].parentSpanId }).toEqual({ chain, parent: request.spanContext().spanId });
  expect(plans[0].attributes['graphql.operation.name']).toBe('PlanOnce');
  expect(request.name).toBe('query PlanOnce');
  // The plan span holds the planning only: the subgraph fetch is its sibling under the request, not its child.
  const subgraphFetch = spans.find((s) => s.name === 'subgraph catalog');
  expect({ chain, parent: subgraphFetch?.parentSpanId }).toEqual({ chain, parent: request.spanContext().spanId });

  // The same document again, with other variables: the cached plan serves it, nothing is planned.
  const again = await gw(query, { id: 'no-such-store' }, shopper);
  expect(again).toMatchObject({ data: { store: null } });
  expect(again.errors).toBeUndefined();
  const repeat = await requestTrace(again.traceId, 'the repeated request span');
  const repeatChain = describeSpans(repeat.spans);
  expect(repeat.request.name).toBe('query PlanOnce');
  // It was executed all the same (the subgraph was asked), only not planned.
  expect({ chain: repeatChain, fetches: repeat.spans.filter((s) => s.name === 'subgraph catalog').length }).toEqual({ chain: repeatChain, fetches: 1 });
  expect({ chain: repeatChain, plans: repeat.spans.filter((s) => s.name === 'gateway.plan').length }).toEqual({ chain: repeatChain, plans: 0 });
});

it('delivers a traced event to the N clients of one shared subscription in one delivery span with clients = N', async () => {
  const N = 3;
  const STOCK = `subscription Stock($store: ID!, $products: [ID!]) { inventoryChanged(storeId: $store, productIds: $products) { storeId productId quantity } }`;
  // N clients, each on its own connection, of the same subscription as the same caller: one shared upstream subscription.
  const followers = Array.from({ length: N }, () => {
    const client = createClient({ url: gateway!.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: { authorization: `Bearer ${shopper}` } });
    clients.push(client);
    const received: Array<{ data?: any; errors?: readonly unknown[] }> = [];
    client.subscribe({ query: STOCK, variables: { store: STORE, products: [PRODUCT] }, operationName: 'Stock' }, { next: (v) => void received.push(v), error: () => undefined, complete: () => undefined });
    return received;
  });
  const quantities = (received: Array<{ data?: any }>) => received.map((r) => r.data?.inventoryChanged?.quantity);
  // A client is handed events only once it has joined the shared subscription: all N have, once each has the current level.
  await waitFor(() => followers.every((r) => quantities(r).includes(10)), { what: `the current level at all ${N} clients` });
  expect(gateway!.subscriptionStats()).toMatchObject({ upstream: 1, connections: N });

  // The store reports a new quantity: a traced mutation whose change reaches the subscription.
  const report = await gw(`mutation Report($s: ID!, $p: ID!, $q: Int!) { reportInventory(storeId: $s, productId: $p, quantity: $q) { quantity } }`, { s: STORE, p: PRODUCT, q: 7 }, storeToken);
  expect(report.errors).toBeUndefined();
  await waitFor(() => followers.every((r) => quantities(r).includes(7)), { what: `the new level at all ${N} clients` });
  for (const r of followers) expect({ received: quantities(r) }).toEqual({ received: [10, 7] });

  // The gateway's delivery spans carry the shared subscription's group; the catalog's subscription event does not.
  const isDelivery = (s: ReadableSpan) => s.attributes['streamgraph.subscription.group'] !== undefined;
  const spans = await waitFor(
    () => {
      const spans = spansOf(report.traceId);
      if (!spans.some(isDelivery)) throw new Error(`no delivery span yet in:\n${describeSpans(spans)}`);
      return spans;
    },
    { what: "the gateway's delivery span in the report's trace", timeoutMs: 10_000 },
  );
  const chain = describeSpans(spans);
  const deliveries = spans.filter(isDelivery);
  expect({ chain, deliveries: deliveries.length }).toEqual({ chain, deliveries: 1 });
  const [delivery] = deliveries;
  expect(delivery.name).toBe('subscription event catalog');
  expect(delivery.attributes).toMatchObject({
    'graphql.operation.type': 'subscription',
    'graphql.operation.name': 'Stock',
    'streamgraph.subscription.clients': N,
    'streamgraph.subscription.superseded': false,
  });
  // One upstream event for the N clients: the catalog sent it once, in the report's trace, and the delivery continues it.
  const upstream = spans.filter((s) => s.name === 'subscription event catalog' && !isDelivery(s));
  expect({ chain, upstream: upstream.length }).toEqual({ chain, upstream: 1 });
  expect({ chain, parent: delivery.parentSpanId }).toEqual({ chain, parent: upstream[0].spanContext().spanId });
});
