// The gateway in front of the three real subgraphs (registry mode, real Kafka and Redis):
// one graph across owners, auth, limits, freshness, consistency tokens, and a registry
// that adds a subgraph under load without a failed request and ignores one that does not compose.
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import jwt from 'jsonwebtoken';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { DEFAULT_LIMITS } from '../gateway/limits';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { startCustomersSubgraph } from '../subgraphs/customers';
import { startOrdersSubgraph } from '../subgraphs/orders';
import { createLogger } from '../platform/logger';
import { announceSubgraph, type Announcement } from '../platform/announceSubgraph';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { startSubgraphServer, type SubgraphServerHandle } from '../subgraphs/runtime/subgraphServer';
import { Registry } from 'prom-client';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';
import { testGatewayConfig } from './support/gatewayConfig';

const JWT_SECRET = 'gateway-test-jwt-secret-0123456789abcdef';
let namespace: string;
let redis: Redis;
let subgraphs: SubgraphHandle[] = [];
let gateway: GatewayHandle;

const token = (sub: string, ...roles: Array<'customer' | 'shopper' | 'store' | 'admin'>) =>
  signDevToken({ sub, roles, secret: JWT_SECRET });
const admin = token('admin-1', 'admin');

async function call(query: string, variables: Record<string, unknown> = {}, bearer?: string | null, headers: Record<string, string> = {}) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[]; extensions?: any }) };
}

beforeAll(async () => {
  namespace = await createNamespace('gateway');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  subgraphs = await Promise.all([startCustomersSubgraph(opts), startCatalogSubgraph(opts), startOrdersSubgraph(opts)]);
  gateway = await startGateway(
    testGatewayConfig(
      { namespace, redis, jwtSecret: JWT_SECRET, label: 'gateway-test' },
      { limits: { ...DEFAULT_LIMITS, maxDepth: 8, maxAliases: 5, maxCost: 2000, maxBodyBytes: 20_000 } },
    ),
  );
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(subgraphs.map((s) => s.close()));
  redis?.disconnect();
});

describe('one graph across the three subgraphs', () => {
  let customerId: string;
  let orderId: string;

  it('writes through every subgraph and reads one order with fields from all three, with freshness', async () => {
    const reg = await call(`mutation { registerCustomer(input: { name: "Ada", email: "ada@example.com" }) { id name } }`);
    expect(reg.errors).toBeUndefined();
    customerId = reg.data.registerCustomer.id;
    const store = await call(`mutation { upsertStore(input: { id: "store-9", name: "Corner" }) { id } }`, {}, admin);
    expect(store.errors).toBeUndefined();
    const product = await call(`mutation { upsertProduct(input: { id: "prod-1", name: "Oat milk", category: "dairy", priceCents: 199 }) { id } }`, {}, admin);
    expect(product.errors).toBeUndefined();
    const inv = await call(`mutation { reportInventory(storeId: "store-9", productId: "prod-1", quantity: 40) { quantity status } }`, {}, token('store-9', 'store'));
    expect(inv.data.reportInventory).toEqual({ quantity: 40, status: 'IN_STOCK' });
    // The orders subgraph learns prices from the catalog's events: wait until it has this one.
    const customer = token(customerId, 'customer');
    const placed = await waitFor(async () => {
      const r = await call(`mutation { placeOrder(input: { storeId: "store-9", items: [{ productId: "prod-1", quantity: 2 }] }) { id totalCents } }`, {}, customer);
      return r.errors ? null : r;
    }, { what: 'the orders view to know the product' });
    orderId = placed.data.placeOrder.id;
    expect(placed.data.placeOrder.totalCents).toBe(398);
    expect(typeof placed.extensions.consistencyToken).toBe('string');

    // The token makes the next query wait until Customer 360 (built from the orders topic) has the order.
    const read = await call(
      `query($id: ID!) { order(id: $id) { id status customer { name orderCount lifetimeSpendCents } store { name }
         items { quantity product { name availability(storeId: "store-9") { quantity status } } } } }`,
      { id: orderId },
      customer,
      { 'x-consistency-token': placed.extensions.consistencyToken },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data.order).toEqual({
      id: orderId,
      // The store's inventory confirms the order on its own time (docs/reservations.md).
      status: expect.stringMatching(/^(PLACED|CONFIRMED)$/),
      customer: { name: 'Ada', orderCount: 1, lifetimeSpendCents: 398 },
      store: { name: 'Corner' },
      items: [{ quantity: 2, product: { name: 'Oat milk', availability: { quantity: 40, status: 'IN_STOCK' } } }],
    });
    expect(Object.keys(read.extensions.freshness).sort()).toEqual(['catalog', 'customers', 'orders']);
    expect(read.extensions.freshness.orders[0]).toHaveProperty('lag');
    expect(read.extensions.freshness.orders[0]).toHaveProperty('lastEventAt');
  });

  it('refuses bad tokens with UNAUTHENTICATED and another customer’s order with FORBIDDEN', async () => {
    const q = `query($id: ID!) { order(id: $id) { id totalCents } }`;
    const expired = jwt.sign({ sub: customerId, roles: ['customer'], exp: Math.floor(Date.now() / 1000) - 60 }, JWT_SECRET);
    const badSig = jwt.sign({ sub: customerId, roles: ['customer'], exp: Math.floor(Date.now() / 1000) + 60 }, 'another-secret-0123456789abcdefghij');
    for (const [label, header] of [['malformed', 'Bearer not.a.jwt'], ['badly signed', `Bearer ${badSig}`], ['expired', `Bearer ${expired}`], ['not bearer', 'Basic abc']]) {
      const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: header }, body: JSON.stringify({ query: q, variables: { id: orderId } }) });
      const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }>; data?: unknown };
      expect([label, res.status]).toEqual([label, 401]);
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
    }
    const anonymous = await call(q, { id: orderId }, null);
    expect(anonymous.errors![0].extensions.code).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    expect(anonymous.data.order).toBeNull();
    const other = await call(q, { id: orderId }, token('someone-else', 'customer'));
    expect(other.errors![0].extensions.code).toBe('FORBIDDEN');
    expect(other.data.order).toBeNull();
    const own = await call(q, { id: orderId }, token(customerId, 'customer'));
    expect(own.data.order.totalCents).toBe(398);
  });

  it('refuses operations over each limit with a clear error and passes those under it', async () => {
    const deep = `{ order(id: "x") { customer { orders(first: 1) { edges { node { customer { orders(first: 1) { edges { node { id } } } } } } } } } }`;
    const d = await call(deep, {}, admin);
    expect(d.errors![0].extensions).toMatchObject({ code: 'OPERATION_LIMIT', limit: 'depth', max: 8 });
    expect(d.errors![0].message).toMatch(/operation depth \d+ exceeds the maximum of 8/);
    const shallow = await call(`{ order(id: "x") { customer { orders(first: 1) { edges { node { id } } } } } }`, {}, admin);
    expect(shallow.errors?.[0]?.extensions?.code).not.toBe('OPERATION_LIMIT');

    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `p${i}: product(id: "prod-1") { id }`).join(' ')} }`;
    expect((await call(aliases(6))).errors![0].extensions).toMatchObject({ code: 'OPERATION_LIMIT', limit: 'aliases' });
    expect((await call(aliases(5))).errors).toBeUndefined();

    const costly = `{ customers(first: 100) { edges { node { id orders(first: 100) { edges { node { id } } } } } } }`;
    expect((await call(costly, {}, admin)).errors![0].extensions).toMatchObject({ code: 'OPERATION_LIMIT', limit: 'cost' });
    expect((await call(`{ products(first: 10) { edges { node { id } } } }`)).errors).toBeUndefined();

    const big = await call(`{ product(id: "${'x'.repeat(25_000)}") { id } }`);
    expect(big.status).toBe(413);
    expect(big.errors![0].extensions.code).toBe('REQUEST_TOO_LARGE');
  });

  it('runs automatic persisted queries stored in Redis', async () => {
    // A query text no earlier run has registered (Redis keeps persisted queries).
    const query = `query Apq${Date.now().toString(36)} { product(id: "prod-1") { name } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const ext = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash } }));
    const miss = (await (await fetch(`${gateway.url}?extensions=${ext}`, { headers: { 'apollo-require-preflight': 'true' } })).json()) as any;
    expect(miss.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } }) });
    expect(((await register.json()) as any).data.product.name).toBe('Oat milk');
    const hit = (await (await fetch(`${gateway.url}?extensions=${ext}`, { headers: { 'apollo-require-preflight': 'true' } })).json()) as any;
    expect(hit.data.product.name).toBe('Oat milk');
  });

  it('answers /health, /ready and /metrics', async () => {
    const base = gateway.url.replace('/graphql', '');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = (await (await fetch(`${base}/ready`)).json()) as any;
    expect(ready.supergraph.subgraphs).toEqual(['catalog', 'customers', 'orders']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('streamgraph_gateway_request_duration_seconds_bucket');
    expect(metrics).toMatch(/streamgraph_gateway_subgraph_fetch_duration_seconds_count\{[^}]*subgraph="orders"/);
    expect(metrics).toMatch(/streamgraph_gateway_compositions_total\{[^}]*outcome="ok"[^}]*\} [1-9]/);
  });
});

describe('registry mode', () => {
  const extras: Array<{ server: SubgraphServerHandle; announcement: Announcement }> = [];
  afterAll(async () => {
    for (const e of extras) {
      await e.announcement.close();
      await e.server.close();
    }
  });

  async function extraSubgraph(name: string, sdl: string, resolvers: any) {
    const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers });
    const server = await startSubgraphServer({
      name,
      schema,
      identitySecret: TEST_IDENTITY_SECRET,
      context: (identity) => ({ identity }),
      readiness: () => ({ ready: true, detail: {} }),
      registry: new Registry(),
      logger: createLogger(name, 'warn'),
    });
    const announcement = await announceSubgraph(redis, { name, url: server.url, wsUrl: server.wsUrl, sdl }, { namespace });
    extras.push({ server, announcement });
  }

  it('adds a subgraph that extends Order while queries run, without restarting and without one failed request', async () => {
    const orderIds: string[] = [];
    const res = await call(`{ products(first: 1) { edges { node { id } } } }`);
    expect(res.errors).toBeUndefined();
    let running = true;
    let served = 0;
    const failures: unknown[] = [];
    const load = (async () => {
      while (running) {
        const r = await call(`{ product(id: "prod-1") { id name priceCents } }`);
        if (r.errors || r.data?.product?.name !== 'Oat milk') failures.push(r);
        served++;
      }
    })();
    await extraSubgraph(
      'delivery',
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
       type Order @key(fields: "id") { id: ID! deliveryEta: String! }`,
      { Order: { __resolveReference: (o: { id: string }) => ({ id: o.id, deliveryEta: `eta-for-${o.id}` }) } },
    );
    await waitFor(() => {
      const s = gateway.supergraphState();
      return s.phase === 'composed' && s.subgraphs.includes('delivery');
    }, { what: 'the delivery subgraph in the supergraph' });
    const placedOrder = await call(`query { customers(first: 1) { edges { node { id orders(first: 1) { edges { node { id } } } } } } }`, {}, admin);
    const id = placedOrder.data.customers.edges[0]?.node.orders.edges[0]?.node.id;
    orderIds.push(id);
    const withEta = await waitFor(async () => {
      const r = await call(`query($id: ID!) { order(id: $id) { id deliveryEta } }`, { id }, admin);
      return r.data?.order?.deliveryEta ? r : null;
    }, { what: 'deliveryEta to be served' });
    expect(withEta.data.order.deliveryEta).toBe(`eta-for-${id}`);
    await waitFor(() => served > 20, { what: 'load during the swap' });
    running = false;
    await load;
    expect(failures).toEqual([]);
  });

  it('keeps serving the last good supergraph when a new subgraph does not compose, and reports it', async () => {
    await extraSubgraph(
      'broken',
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
       type Product @key(fields: "id") { id: ID! name: Int }`,
      { Product: { __resolveReference: (p: { id: string }) => ({ id: p.id, name: 1 }) } },
    );
    await waitFor(() => {
      const s = gateway.supergraphState();
      return s.phase === 'composed' && s.lastFailure !== null;
    }, { what: 'the failed composition to be reported' });
    const s = gateway.supergraphState();
    expect(s.phase === 'composed' && s.subgraphs).not.toContain('broken');
    const res = await call(`{ product(id: "prod-1") { name } }`);
    expect(res.data.product.name).toBe('Oat milk');
    const base = gateway.url.replace('/graphql', '');
    const ready = (await (await fetch(`${base}/ready`)).json()) as any;
    expect(ready.supergraph.lastFailure.errors.join(' ')).toMatch(/name/);
  });
});
