// Federated subscriptions end to end: graphql-ws clients on the gateway, the three real
// subgraphs (orders as its own process, so it can be killed), real Kafka and Redis. Each
// event carries fields from every subgraph; identical subscriptions share one upstream
// subscription and one round of entity fetches; a subgraph restart and a supergraph reload
// drop nothing.
import { createClient, type Client } from 'graphql-ws';
import Redis from 'ioredis';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { DEFAULT_LIMITS } from '../gateway/limits';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { startCustomersSubgraph } from '../subgraphs/customers';
import { createLogger } from '../platform/logger';
import { announceSubgraph, type Announcement } from '../platform/announceSubgraph';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { startSubgraphServer, type SubgraphServerHandle } from '../subgraphs/runtime/subgraphServer';
import { Registry } from 'prom-client';
import { createEvent, ORDERS_TOPIC, partitionForKey } from '../schema/events';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { startSubgraphProcess, type SubgraphProcess } from './support/subgraphProcess';
import { waitFor } from './support/waitFor';
import { testGatewayConfig } from './support/gatewayConfig';

const JWT_SECRET = 'subscriptions-test-jwt-secret-0123456789';
type Role = 'customer' | 'shopper' | 'store' | 'admin';
const token = (sub: string, role: Role, expiresInSec = 3600) => signDevToken({ sub, roles: [role], secret: JWT_SECRET, expiresInSec });
const admin = token('admin-1', 'admin');
const shopper = token('shopper-1', 'shopper');

let namespace: string;
let redis: Redis;
let inProcess: SubgraphHandle[] = [];
let orders: SubgraphProcess;
let gateway: GatewayHandle;
const clients: Client[] = [];
const extraGateways: GatewayHandle[] = [];
let extraSubgraph: SubgraphServerHandle | null = null;
let announcement: Announcement | null = null;

const gatewayOptions = () =>
  testGatewayConfig(
    { namespace, redis, jwtSecret: JWT_SECRET, label: 'gateway-test' },
    { supergraph: { kind: 'registry', namespace, pollMs: 300 }, limits: { ...DEFAULT_LIMITS, maxDepth: 8 }, subscriptionLimits: { maxSubscriptionsPerConnection: 5 } },
  );

async function call(url: string, query: string, variables: Record<string, unknown> = {}, bearer?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[] }) };
}
const gw = (query: string, variables: Record<string, unknown> = {}, bearer?: string) => call(gateway.url, query, variables, bearer);

function client(bearer: string | null, url = gateway.url.replace(/^http/, 'ws'), extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  const c = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: bearer ? { authorization: `Bearer ${bearer}` } : {},
    ...extra,
  });
  clients.push(c);
  return c;
}

interface Received {
  data?: any;
  errors?: Array<{ message: string; extensions?: Record<string, any> }>;
}
function follow(c: Client, query: string, variables: Record<string, unknown> = {}) {
  const received: Received[] = [];
  const state = { error: null as unknown, completed: false };
  const dispose = c.subscribe({ query, variables }, { next: (v) => void received.push(v as Received), error: (e) => void (state.error = e), complete: () => void (state.completed = true) });
  return { received, state, dispose };
}

/** Counts of one metric per label set, read from a Prometheus text endpoint or registry text. */
function metricSum(text: string, name: string, labelFilter: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? ([\d.e+-]+)$/.exec(line);
    if (m && m[1] === name && labelFilter(m[2] ?? '')) sum += Number(m[3]);
  }
  return sum;
}
/** Requests a subgraph served for fetches named after the client operation (`<Operation>__<subgraph>__<n>`). */
const subgraphRequests = async (h: SubgraphHandle, fetchPrefix: string) =>
  metricSum(await h.runtime.registry.metrics(), 'streamgraph_subgraph_request_duration_seconds_count', (l) => new RegExp(`operation="${fetchPrefix}\\d+"`).test(l));
const ordersSubscriptionsStarted = async () =>
  metricSum(await (await fetch(`http://127.0.0.1:${orders.port}/metrics`)).text(), 'streamgraph_subgraph_subscriptions_started_total');

const subgraphsServed = (g: GatewayHandle) => {
  const state = g.supergraphState();
  return state.phase === 'composed' ? state.subgraphs.length : 0;
};

let customerId: string;
let otherCustomerId: string;
const STORE = 'store-sub-1';

async function placeOrder(customer: string, productId = 'prod-sub-1', quantity = 2): Promise<string> {
  const placed = await waitFor(
    async () => {
      const r = await gw(`mutation($p: ID!, $q: Int!) { placeOrder(input: { storeId: "${STORE}", items: [{ productId: $p, quantity: $q }] }) { id } }`, { p: productId, q: quantity }, token(customer, 'customer'));
      return r.errors ? null : r;
    },
    { what: 'the orders view to know the product' },
  );
  const id = placed.data.placeOrder.id as string;
  // The store's inventory confirms each order (docs/reservations.md): the tests below follow an
  // order from its confirmed state, so that the confirmation never interleaves with their steps.
  await waitFor(async () => (await gw(`query($id: ID!) { order(id: $id) { status } }`, { id }, admin)).data?.order?.status === 'CONFIRMED', {
    what: 'the store to confirm the order',
  });
  return id;
}
async function advance(id: string, status: string) {
  const r = await gw(`mutation($id: ID!, $s: OrderStatus!) { advanceOrder(id: $id, status: $s) { version } }`, { id, s: status }, shopper);
  expect(r.errors).toBeUndefined();
  return r.data.advanceOrder.version as number;
}
async function reportInventory(productId: string, quantity: number) {
  const r = await gw(`mutation($p: ID!, $q: Int!) { reportInventory(storeId: "${STORE}", productId: $p, quantity: $q) { quantity } }`, { p: productId, q: quantity }, token(STORE, 'store'));
  expect(r.errors).toBeUndefined();
}

beforeAll(async () => {
  namespace = await createNamespace('subs');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  inProcess = await Promise.all([startCustomersSubgraph(opts), startCatalogSubgraph(opts)]);
  orders = await startSubgraphProcess('orders', {
    STREAMGRAPH_NAMESPACE: namespace,
    GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET,
    // A killed instance's partitions move on quickly, so the restarted one consumes soon.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  });
  gateway = await startGateway(gatewayOptions());
  await waitFor(async () => subgraphsServed(gateway) === 3, {
    what: 'the gateway to compose the three subgraphs',
  });

  const reg = await gw(`mutation { a: registerCustomer(input: { name: "Ada", email: "ada@example.com" }) { id } }`);
  customerId = reg.data.a.id;
  const reg2 = await gw(`mutation { b: registerCustomer(input: { name: "Bo", email: "bo@example.com" }) { id } }`);
  otherCustomerId = reg2.data.b.id;
  expect((await gw(`mutation { upsertStore(input: { id: "${STORE}", name: "Corner" }) { id } }`, {}, admin)).errors).toBeUndefined();
  for (const [id, name, price] of [['prod-sub-1', 'Oat milk', 199], ['prod-sub-2', 'Rye bread', 349]] as const)
    expect((await gw(`mutation { upsertProduct(input: { id: "${id}", name: "${name}", category: "food", priceCents: ${price} }) { id } }`, {}, admin)).errors).toBeUndefined();
  await reportInventory('prod-sub-1', 40);
  await reportInventory('prod-sub-2', 10);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await Promise.all(extraGateways.map((g) => g.close()));
  await announcement?.close();
  await gateway?.close();
  await extraSubgraph?.close();
  await orders?.stop();
  await Promise.all(inProcess.map((s) => s.close()));
  redis?.disconnect();
});

const TRACK = `subscription Track($id: ID!, $store: ID!) {
  orderUpdated(id: $id) {
    status version
    customer { name orderCount }
    items { quantity product { name availability(storeId: $store) { quantity } } }
  }
}`;

describe('orderUpdated through the gateway', () => {
  it('delivers the current state, then every status change in order, with every subgraph’s fields resolved on each event', async () => {
    const id = await placeOrder(customerId);
    const sub = follow(client(token(customerId, 'customer')), TRACK, { id, store: STORE });
    await waitFor(() => sub.received.length >= 1, { what: 'the current state' });
    expect(sub.received[0]).toEqual({
      data: {
        orderUpdated: {
          status: 'CONFIRMED',
          version: 2,
          customer: { name: 'Ada', orderCount: 1 },
          items: [{ quantity: 2, product: { name: 'Oat milk', availability: { quantity: 40 } } }],
        },
      },
    });

    // A change in another subgraph shows on the next event: the fields are fetched per event.
    await reportInventory('prod-sub-1', 33);
    await waitFor(async () => (await gw(`{ product(id: "prod-sub-1") { availability(storeId: "${STORE}") { quantity } } }`)).data.product.availability.quantity === 33, {
      what: 'the catalog view to apply the inventory report',
    });
    for (const status of ['SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED']) await advance(id, status);
    await waitFor(() => sub.received.length >= 5, { what: 'four status changes' });
    expect(sub.received.map((r) => r.data.orderUpdated.version)).toEqual([2, 3, 4, 5, 6]);
    expect(sub.received.map((r) => r.data.orderUpdated.status)).toEqual(['CONFIRMED', 'SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED']);
    for (const r of sub.received.slice(1)) {
      expect(r.errors).toBeUndefined();
      expect(r.data.orderUpdated.customer.name).toBe('Ada');
      // Delivery consumes the order's 2 units at the store (docs/reservations.md), asynchronously:
      // the DELIVERED event may already see them gone.
      const delivered = r.data.orderUpdated.status === 'DELIVERED';
      expect(r.data.orderUpdated.items[0].product.name).toBe('Oat milk');
      expect(delivered ? [33, 31] : [33]).toContain(r.data.orderUpdated.items[0].product.availability.quantity);
    }
    expect(sub.state.error).toBeNull();
  });

  it('delivers each new delivery estimate, and refuses one for a finished order', async () => {
    const id = await placeOrder(customerId);
    const sub = follow(client(token(customerId, 'customer')), `subscription($id: ID!) { orderUpdated(id: $id) { version estimatedDeliveryAt } }`, { id });
    await waitFor(() => sub.received.length >= 1, { what: 'the current state' });
    await advance(id, 'SHOPPER_ASSIGNED');
    const estimate = (at: string) =>
      gw(`mutation($id: ID!, $at: String!) { updateDeliveryEstimate(id: $id, estimatedDeliveryAt: $at) { version estimatedDeliveryAt } }`, { id, at }, shopper);
    expect((await estimate('2030-01-01T10:00:00Z')).data.updateDeliveryEstimate).toEqual({ version: 4, estimatedDeliveryAt: '2030-01-01T10:00:00.000Z' });
    expect((await estimate('2030-01-01T10:20:00Z')).data.updateDeliveryEstimate.version).toBe(5);
    await waitFor(() => sub.received.at(-1)?.data.orderUpdated.version === 5, { what: 'the second estimate' });
    expect(sub.received.map((r) => r.data.orderUpdated)).toEqual([
      { version: 2, estimatedDeliveryAt: null },
      { version: 3, estimatedDeliveryAt: null },
      { version: 4, estimatedDeliveryAt: '2030-01-01T10:00:00.000Z' },
      { version: 5, estimatedDeliveryAt: '2030-01-01T10:20:00.000Z' },
    ]);
    expect((await estimate('not a time')).errors![0].extensions.code).toBe('BAD_USER_INPUT');
    const asCustomer = await gw(`mutation($id: ID!) { updateDeliveryEstimate(id: $id, estimatedDeliveryAt: "2030-01-01T10:00:00Z") { version } }`, { id }, token(customerId, 'customer'));
    expect(asCustomer.errors![0].extensions.code).toBe('FORBIDDEN');
    for (const status of ['PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED']) await advance(id, status);
    expect((await estimate('2030-01-01T11:00:00Z')).errors![0].extensions.code).toBe('INVALID_TRANSITION');
  });

  it('refuses another customer’s order with FORBIDDEN and no data', async () => {
    const id = await placeOrder(customerId);
    const sub = follow(client(token(otherCustomerId, 'customer')), TRACK, { id, store: STORE });
    await waitFor(() => sub.state.completed || sub.state.error, { what: 'the refusal' });
    const errors = (sub.received[0]?.errors ?? (sub.state.error as Received['errors'])) as Array<{ extensions?: { code?: string } }>;
    expect(errors.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
    expect(sub.received.every((r) => !r.data?.orderUpdated)).toBe(true);
  });
});

describe('inventoryChanged and myOrders', () => {
  it('inventoryChanged sends the store’s chosen products only', async () => {
    const sub = follow(client(null), `subscription($s: ID!) { inventoryChanged(storeId: $s, productIds: ["prod-sub-2"]) { productId quantity status product { name } } }`, { s: STORE });
    await waitFor(() => sub.received.some((r) => r.data?.inventoryChanged.quantity === 10), { what: 'the current level' });
    await reportInventory('prod-sub-1', 31);
    await reportInventory('prod-sub-2', 2);
    await waitFor(() => sub.received.some((r) => r.data?.inventoryChanged.quantity === 2), { what: 'the change' });
    expect(sub.received.every((r) => r.data.inventoryChanged.productId === 'prod-sub-2')).toBe(true);
    expect(sub.received.at(-1)!.data.inventoryChanged).toEqual({ productId: 'prod-sub-2', quantity: 2, status: 'LOW_STOCK', product: { name: 'Rye bread' } });
  });

  it('myOrders sends the caller’s orders only', async () => {
    const sub = follow(client(token(otherCustomerId, 'customer')), `subscription { myOrders { id status customer { name } } }`);
    const other = await placeOrder(customerId);
    const mine = await placeOrder(otherCustomerId);
    await advance(mine, 'SHOPPER_ASSIGNED');
    await waitFor(() => sub.received.some((r) => r.data?.myOrders.id === mine && r.data.myOrders.status === 'SHOPPER_ASSIGNED'), { what: 'my order’s change' });
    await advance(other, 'SHOPPER_ASSIGNED');
    // The other customer's change is applied by now (their own view read says so); it never came here.
    await waitFor(async () => (await gw(`query($id: ID!) { order(id: $id) { status } }`, { id: other }, admin)).data.order.status === 'SHOPPER_ASSIGNED');
    await advance(mine, 'PICKING');
    await waitFor(() => sub.received.some((r) => r.data?.myOrders.status === 'PICKING'), { what: 'my next change' });
    expect(sub.received.every((r) => r.data.myOrders.id !== other && r.data.myOrders.customer.name === 'Bo')).toBe(true);
  });
});

describe('sharing', () => {
  it('1,000 clients on one order: one upstream subscription and one round of entity fetches per event', async () => {
    const id = await placeOrder(customerId);
    const startedBefore = await ordersSubscriptionsStarted();
    const bearer = token(customerId, 'customer');
    const subs = Array.from({ length: 1000 }, () => follow(client(bearer), TRACK, { id, store: STORE }));
    await waitFor(() => subs.every((s) => s.received.length >= 1), { what: 'every client to get the current state', timeoutMs: 60_000 });
    expect(await ordersSubscriptionsStarted()).toBe(startedBefore + 1);
    expect(gateway.subscriptionStats().connections).toBeGreaterThanOrEqual(1000);

    const [customers, catalog] = inProcess;
    const before = [await subgraphRequests(customers!, 'Track__customers__'), await subgraphRequests(catalog!, 'Track__catalog__')];
    await advance(id, 'SHOPPER_ASSIGNED');
    await waitFor(() => subs.every((s) => s.received.some((r) => r.data?.orderUpdated.version === 3)), { what: 'every client to get version 3', timeoutMs: 60_000 });
    const after = [await subgraphRequests(customers!, 'Track__customers__'), await subgraphRequests(catalog!, 'Track__catalog__')];
    expect([after[0]! - before[0]!, after[1]! - before[1]!]).toEqual([1, 1]);
    expect(subs.every((s) => s.received.at(-1)!.data.orderUpdated.customer.name === 'Ada')).toBe(true);
    expect(await ordersSubscriptionsStarted()).toBe(startedBefore + 1);

    // The last client leaving ends the upstream subscription.
    const upstreamBefore = gateway.subscriptionStats().upstream;
    subs.forEach((s) => s.dispose());
    await waitFor(() => gateway.subscriptionStats().upstream === upstreamBefore - 1, { what: 'the shared upstream subscription to end' });
  }, 120_000);

  it("two customers' events resolved together share one catalog call (its fields are @callerIndependent), never a customers call", async () => {
    // Two orders of different customers in one partition: one record batch carries both
    // estimates, so the orders view applies them in one chunk and the gateway resolves the two
    // events within its batching window. That window is a matter of timing, so a round where the
    // events came apart is tried again; a customers call shared across callers fails every round.
    const topic = `${namespace}${ORDERS_TOPIC.name}`;
    const producer = inProcess[0]!.runtime.producer;
    const partitions = await producer.partitionsOf(topic);
    // Order ids are the orders subgraph's to choose: Bo orders until one lands in Ada's order's
    // partition (one in six each time), one unit each from stock enough for all of them, so the
    // tests after this one still find the product in stock.
    await reportInventory('prod-sub-1', 1000);
    const a = await placeOrder(customerId, 'prod-sub-1', 1);
    let b = await placeOrder(otherCustomerId, 'prod-sub-1', 1);
    for (let tries = 1; partitionForKey(b, partitions) !== partitionForKey(a, partitions); tries++) {
      if (tries >= 60) throw new Error(`60 orders and none in partition ${partitionForKey(a, partitions)} of ${partitions}`);
      b = await placeOrder(otherCustomerId, 'prod-sub-1', 1);
    }
    const subA = follow(client(token(customerId, 'customer')), TRACK, { id: a, store: STORE });
    const subB = follow(client(token(otherCustomerId, 'customer')), TRACK, { id: b, store: STORE });
    const version = (sub: typeof subA) => (sub.received.at(-1)?.data?.orderUpdated?.version ?? 0) as number;
    await waitFor(() => version(subA) > 0 && version(subB) > 0, { what: 'both customers to get their current state' });

    const [customers, catalog] = inProcess;
    const eta = Date.now() + 3_600_000;
    let shared = 0;
    for (let round = 0; round < 10 && shared === 0; round++) {
      const before = [await subgraphRequests(customers!, 'Track__customers__'), await subgraphRequests(catalog!, 'Track__catalog__')];
      const [va, vb] = [version(subA), version(subB)];
      await producer.publishMany(topic, [
        createEvent(ORDERS_TOPIC, 'OrderEtaUpdated', { orderId: a, customerId, storeId: STORE, estimatedDeliveryAt: new Date(eta + 2 * round).toISOString(), by: 'test-courier' }),
        createEvent(ORDERS_TOPIC, 'OrderEtaUpdated', { orderId: b, customerId: otherCustomerId, storeId: STORE, estimatedDeliveryAt: new Date(eta + 2 * round + 1).toISOString(), by: 'test-courier' }),
      ]);
      await waitFor(() => version(subA) > va && version(subB) > vb, { what: `round ${round}: both estimates delivered` });
      const after = [await subgraphRequests(customers!, 'Track__customers__'), await subgraphRequests(catalog!, 'Track__catalog__')];
      expect(after[0]! - before[0]!).toBe(2);
      const catalogCalls = after[1]! - before[1]!;
      expect([1, 2]).toContain(catalogCalls);
      if (catalogCalls === 1) shared++;
    }
    expect(shared).toBe(1);
    for (const [sub, name] of [[subA, 'Ada'], [subB, 'Bo']] as const) {
      const last = sub.received.at(-1)!.data.orderUpdated;
      expect(last.customer.name).toBe(name);
      expect(last.items[0].product.name).toBe('Oat milk');
      expect(last.items[0].product.availability.quantity).toEqual(expect.any(Number));
    }
    subA.dispose();
    subB.dispose();
  }, 120_000);

  it('a second gateway instance serves its own clients with nothing shared but Redis and Kafka', async () => {
    const second = await startGateway(gatewayOptions());
    extraGateways.push(second);
    await waitFor(() => subgraphsServed(second) === 3, { what: 'the second gateway to compose' });
    const id = await placeOrder(customerId);
    const bearer = token(customerId, 'customer');
    const a = follow(client(bearer), TRACK, { id, store: STORE });
    const b = follow(client(bearer, second.url.replace(/^http/, 'ws')), TRACK, { id, store: STORE });
    await waitFor(() => a.received.length >= 1 && b.received.length >= 1, { what: 'both gateways to send the current state' });
    await advance(id, 'SHOPPER_ASSIGNED');
    await waitFor(() => [a, b].every((s) => s.received.at(-1)?.data.orderUpdated.status === 'SHOPPER_ASSIGNED'), { what: 'both to deliver the change' });
  });
});

describe('failures and reloads', () => {
  it('the orders subgraph killed and restarted mid-subscription: events continue, no client error', async () => {
    const id = await placeOrder(customerId);
    const subs = Array.from({ length: 3 }, () => follow(client(token(customerId, 'customer')), TRACK, { id, store: STORE }));
    await waitFor(() => subs.every((s) => s.received.length >= 1), { what: 'the current state' });
    await advance(id, 'SHOPPER_ASSIGNED');
    await waitFor(() => subs.every((s) => s.received.at(-1)?.data.orderUpdated.version === 3), { what: 'version 3' });

    await orders.kill();
    await orders.restart();
    // Mutations wait for the restarted subgraph's view, so these succeed once it consumes again.
    await waitFor(async () => !(await gw(`mutation($id: ID!) { advanceOrder(id: $id, status: PICKING) { version } }`, { id }, shopper)).errors, {
      what: 'the restarted orders subgraph to take the change',
      timeoutMs: 90_000,
    });
    await advance(id, 'OUT_FOR_DELIVERY');
    await waitFor(() => subs.every((s) => s.received.at(-1)?.data.orderUpdated.version === 5), { what: 'the changes after the restart', timeoutMs: 60_000 });
    for (const s of subs) {
      expect(s.state.error).toBeNull();
      expect(s.state.completed).toBe(false);
      expect(s.received.every((r) => r.errors === undefined)).toBe(true);
      // States arrive in order and end at the newest. A state that came and went while the
      // subscription was being re-established upstream is skipped (the current state is what
      // a resubscription starts with); none is repeated.
      const versions = s.received.map((r) => r.data.orderUpdated.version);
      expect(versions.slice(0, 2)).toEqual([2, 3]);
      expect(versions.at(-1)).toBe(5);
      expect([...versions].sort((x, y) => x - y)).toEqual(versions);
      expect(new Set(versions).size).toBe(versions.length);
    }
  }, 180_000);

  it('a subgraph of the entity fetches down for a while: events wait for it instead of reaching clients with errors', async () => {
    const id = await placeOrder(customerId);
    const subs = Array.from({ length: 2 }, () => follow(client(token(customerId, 'customer')), TRACK, { id, store: STORE }));
    await waitFor(() => subs.every((s) => s.received.length >= 1), { what: 'the current state' });
    const customers = inProcess[0]!;
    const port = customers.port;
    await customers.close();
    await advance(id, 'SHOPPER_ASSIGNED');
    // The gateway keeps retrying the event's customer fetch (SUBSCRIPTION_RETRY_MS) ...
    await waitFor(async () => metricSum(await (await fetch(gateway.url.replace('/graphql', '/metrics'))).text(), 'streamgraph_gateway_subscription_retries_total') > 0, {
      what: 'the gateway to retry the entity fetch',
    });
    expect(subs.every((s) => s.received.length === 1)).toBe(true);
    // ... until the subgraph is back on its address.
    inProcess[0] = await startCustomersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port });
    await waitFor(() => subs.every((s) => s.received.at(-1)?.data.orderUpdated.version === 3), { what: 'the held-back event', timeoutMs: 30_000 });
    for (const s of subs) {
      expect(s.received.every((r) => r.errors === undefined)).toBe(true);
      expect(s.received.at(-1)!.data.orderUpdated.customer).toEqual({ name: 'Ada', orderCount: expect.any(Number) });
      expect(s.state.error).toBeNull();
    }
  }, 90_000);

  it('a supergraph reload during active subscriptions drops none of them, and new ones see the new schema', async () => {
    const id = await placeOrder(customerId);
    const subs = Array.from({ length: 3 }, () => follow(client(token(customerId, 'customer')), TRACK, { id, store: STORE }));
    await waitFor(() => subs.every((s) => s.received.length >= 1), { what: 'the current state' });

    // A new team's subgraph extends Order: the registry composes it in while clients are subscribed.
    const sdl = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Order @key(fields: "id") { id: ID! giftMessage: String }
    `;
    const schema = buildSubgraphSchema({
      typeDefs: parse(sdl),
      resolvers: { Order: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, giftMessage: `for ${ref.id}` }) } },
    });
    extraSubgraph = await startSubgraphServer({
      name: 'gifts',
      schema,
      identitySecret: TEST_IDENTITY_SECRET,
      context: (identity) => ({ identity }),
      readiness: () => ({ ready: true, detail: {} }),
      registry: new Registry(),
      logger: createLogger('gifts', 'warn'),
    });
    announcement = await announceSubgraph(redis, { name: 'gifts', url: extraSubgraph.url, wsUrl: extraSubgraph.wsUrl, sdl }, { namespace });
    await gateway.refreshSupergraph();
    await waitFor(() => subgraphsServed(gateway) === 4, {
      what: 'the new supergraph',
    });

    await advance(id, 'SHOPPER_ASSIGNED');
    await waitFor(() => subs.every((s) => s.received.at(-1)?.data.orderUpdated.version === 3), { what: 'the change after the reload' });
    for (const s of subs) {
      expect(s.state.error).toBeNull();
      expect(s.state.completed).toBe(false);
    }
    const fresh = follow(client(token(customerId, 'customer')), `subscription($id: ID!) { orderUpdated(id: $id) { version giftMessage } }`, { id });
    await waitFor(() => fresh.received.length >= 1, { what: 'a subscription on the new field' });
    expect(fresh.received[0]).toEqual({ data: { orderUpdated: { version: 3, giftMessage: `for ${id}` } } });
  });
});

describe('the connection', () => {
  const wsUrl = () => gateway.url.replace(/^http/, 'ws');

  /** A raw graphql-transport-ws socket, to see close codes and messages exactly. */
  async function raw() {
    const ws = new WebSocket(wsUrl(), 'graphql-transport-ws');
    const messages: any[] = [];
    const closed: { code?: number; reason?: string } = {};
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    ws.on('close', (code, reason) => Object.assign(closed, { code, reason: String(reason) }));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, messages, closed, send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
  }

  it('closes with 4403 when the token in connection_init is bad, and when it expires while connected', async () => {
    const bad = await raw();
    bad.send({ type: 'connection_init', payload: { authorization: 'Bearer not.a.jwt' } });
    await waitFor(() => bad.closed.code, { what: 'the close' });
    expect(bad.closed.code).toBe(4403);

    const shortLived = jwt.sign({ sub: customerId, roles: ['customer'], exp: Math.floor(Date.now() / 1000) + 2 }, JWT_SECRET);
    const c = await raw();
    c.send({ type: 'connection_init', payload: { authorization: `Bearer ${shortLived}` } });
    await waitFor(() => c.messages.some((m) => m.type === 'connection_ack'), { what: 'the ack' });
    await waitFor(() => c.closed.code, { what: 'the close at expiry', timeoutMs: 15_000 });
    expect(c.closed).toEqual({ code: 4403, reason: 'token expired' });
  });

  it('holds to the protocol: subscribe before init is 4401, garbage is 4400, a reused id is 4409', async () => {
    const early = await raw();
    early.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } });
    await waitFor(() => early.closed.code);
    expect(early.closed.code).toBe(4401);

    const garbage = await raw();
    garbage.send('{"type":"nonsense"}');
    await waitFor(() => garbage.closed.code);
    expect(garbage.closed.code).toBe(4400);

    const twice = await raw();
    twice.send({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } });
    await waitFor(() => twice.messages.some((m) => m.type === 'connection_ack'));
    const sub = { id: 'same', type: 'subscribe', payload: { query: `subscription { inventoryChanged(storeId: "${STORE}") { quantity } }` } };
    twice.send(sub);
    twice.send(sub);
    await waitFor(() => twice.closed.code);
    expect(twice.closed.code).toBe(4409);
  });

  it('answers invalid operations, limits and too many subscriptions with errors on that operation only', async () => {
    const c = await raw();
    c.send({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } });
    await waitFor(() => c.messages.some((m) => m.type === 'connection_ack'));
    c.send({ id: 'v', type: 'subscribe', payload: { query: 'subscription { noSuchField }' } });
    c.send({ id: 'p', type: 'subscribe', payload: { query: 'subscription {' } });
    const deep = 'subscription { myOrders { customer { orders { edges { node { customer { orders { edges { node { id } } } } } } } } } }';
    c.send({ id: 'd', type: 'subscribe', payload: { query: deep } });
    await waitFor(() => ['v', 'p', 'd'].every((id) => c.messages.some((m) => m.id === id && m.type === 'error')), {
      what: 'three errors',
      timeoutMs: 10_000,
    }).catch((e) => {
      throw new Error(`${(e as Error).message}; messages: ${JSON.stringify(c.messages)}`);
    });
    const code = (id: string) => c.messages.find((m) => m.id === id).payload[0].extensions.code;
    expect([code('v'), code('p'), code('d')]).toEqual(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'OPERATION_LIMIT']);

    for (let i = 0; i < 6; i++)
      c.send({ id: `s${i}`, type: 'subscribe', payload: { query: `subscription($p: [ID!]) { inventoryChanged(storeId: "${STORE}", productIds: $p) { quantity } }`, variables: { p: [`x${i}`] } } });
    await waitFor(() => c.messages.some((m) => m.id === 's5' && m.type === 'error'), { what: 'the sixth subscription to be refused' });
    expect(c.messages.find((m) => m.id === 's5').payload[0].extensions.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(c.closed.code).toBeUndefined();
    // Ending one makes room; queries work over the socket too.
    c.send({ id: 's0', type: 'complete' });
    c.send({ id: 'q', type: 'subscribe', payload: { query: `{ product(id: "prod-sub-1") { name } }` } });
    await waitFor(() => c.messages.some((m) => m.id === 'q' && m.type === 'complete'), { what: 'the query over the socket', timeoutMs: 10_000 });
    expect(c.messages.find((m) => m.id === 'q' && m.type === 'next').payload.data).toEqual({ product: { name: 'Oat milk' } });
  });

  it('refuses connections past the limit with HTTP 503, closes on an oversize message, drops a client that stops answering pings', async () => {
    const small = await startGateway(
      testGatewayConfig(
        { namespace, redis, jwtSecret: JWT_SECRET, label: 'small-gateway' },
        { limits: { ...DEFAULT_LIMITS, maxBodyBytes: 2_000 }, subscriptionLimits: { maxConnections: 2, keepAliveMs: 200 } },
      ),
    );
    extraGateways.push(small);
    const url = small.url.replace(/^http/, 'ws');
    const first = new WebSocket(url, 'graphql-transport-ws');
    await new Promise((resolve, reject) => first.once('open', resolve).once('error', reject));
    // A client that stops answering pings is dropped.
    const silent = new WebSocket(url, 'graphql-transport-ws', { autoPong: false });
    const silentClosed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => silent.once('open', resolve).once('error', reject));
    const refused = await new Promise<number>((resolve) => {
      const third = new WebSocket(url, 'graphql-transport-ws');
      third.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      third.once('open', () => resolve(101));
    });
    expect(refused).toBe(503);
    const closed = new Promise<number>((resolve) => first.once('close', (code) => resolve(code)));
    first.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(5_000) } }));
    expect(await closed).toBe(1009);
    expect(await silentClosed).toBe(1006);
  });

  it('tells HTTP callers that subscriptions are served over graphql-ws', async () => {
    const r = await gw(`subscription { inventoryChanged(storeId: "${STORE}") { quantity } }`);
    expect(r.status).toBe(400);
    expect(r.errors![0].message).toMatch(/graphql-ws/);
  });
});
