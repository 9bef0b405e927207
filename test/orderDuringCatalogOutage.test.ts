// An order's live status keeps reaching the apps while the catalog is down. The order's store
// and its items' products are the catalog's entities, nullable in the orders schema: with no
// catalog instance running, `order` and `orderUpdated` answer the order (status, quantities,
// totals) with `store` and each `product` null and SUBGRAPH_UNAVAILABLE errors at their paths,
// instead of the null climbing to the whole order; once the catalog is back they are filled again.
import { createClient, type Client } from 'graphql-ws';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { createLogger } from '../platform/logger';
import { startOrdersSubgraph, type OrdersSubgraphHandle } from '../subgraphs/orders';
import { publishProductChange } from './support/catalogDatabase';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { testGatewayConfig } from './support/gatewayConfig';
import { createNamespace } from './support/namespace';
import { publishStock } from './support/reservations';
import { startSubgraphProcess, type SubgraphProcess } from './support/subgraphProcess';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'order-catalog-outage-test-jwt-secret-0123456789';
const CUSTOMER = 'outage-customer';
const STORE = 's-outage';
const ORDER_FIELDS = 'id status totalCents customer { id } store { id name } items { quantity unitPriceCents product { id name } }';

let namespace: string;
let redis: Redis;
let orders: OrdersSubgraphHandle;
let catalog: SubgraphProcess;
let gateway: GatewayHandle;
let client: Client | undefined;

beforeAll(async () => {
  namespace = await createNamespace('ord-outage');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const env = { STREAMGRAPH_NAMESPACE: namespace, GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET, KAFKA_SESSION_TIMEOUT_MS: '6000' };
  // Each handle kept as soon as it exists, so afterAll closes it even when the other failed to start.
  await Promise.all([
    startOrdersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, sessionTimeoutMs: 6000, logger: createLogger('ord-outage', process.env.LOG_LEVEL ?? 'warn') }).then((o) => (orders = o)),
    startSubgraphProcess('catalog', env).then((c) => (catalog = c)),
  ]);
  const at = await publishProductChange(orders.runtime.kafka, namespace, { productId: 'p-pear', name: 'Pear', category: 'fruit', priceCents: 80 });
  await orders.views.prices.handle.waitFor(at.partition, at.offset, 30_000);
  await publishStock(orders.runtime.kafka, namespace, STORE, { 'p-pear': 50 });
  await waitFor(async () => (await orders.views.stores.reader.getMany([STORE]))[0], { what: 'the orders view to know the store' });
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'order-catalog-outage-gateway' }, { supergraph: { kind: 'registry', namespace, pollMs: 300 } }));
  await waitFor(() => {
    const s = gateway.supergraphState();
    return s.phase === 'composed' && s.subgraphs.length === 2;
  }, { what: 'the gateway to compose catalog and orders' });
}, 180_000);

afterAll(async () => {
  await client?.dispose();
  await gateway?.close();
  await catalog?.stop();
  await orders?.close();
  redis?.disconnect();
});

const bearer = () => signDevToken({ sub: CUSTOMER, roles: ['customer'], secret: JWT_SECRET });

async function gql(query: string, variables: Record<string, unknown>) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer()}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[] };
}

/** The catalog's fields of one order, null, each with a SUBGRAPH_UNAVAILABLE error naming the catalog at its path. */
function expectCatalogMissing(result: { data?: any; errors?: any[] }, root: string) {
  expect(result.errors?.length).toBeGreaterThan(0);
  for (const e of result.errors!) expect(e.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'catalog' });
  const paths = result.errors!.map((e) => (e.path ?? []).join('.'));
  // Every error says where: no bare error that a client could not place.
  for (const p of paths) expect(p.startsWith(`${root}.`)).toBe(true);
  expect(paths).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${root}\\.store\\b`)), expect.stringMatching(new RegExp(`^${root}\\.items\\.0\\.product\\b`))]));
}

it("answers the order and delivers its status changes while the catalog is down, with the catalog's fields null and errors at their paths", async () => {
  await catalog.stop();
  const placed = await gql(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`, { input: { storeId: STORE, items: [{ productId: 'p-pear', quantity: 3 }] } });
  expect(placed.errors).toBeUndefined();
  const id: string = placed.data.placeOrder.id;

  const queried = await gql(`query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id });
  expect(queried.data?.order).toEqual({ id, status: 'PLACED', totalCents: 240, customer: { id: CUSTOMER }, store: null, items: [{ quantity: 3, unitPriceCents: 80, product: null }] });
  expectCatalogMissing(queried, 'order');

  client = createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: { authorization: `Bearer ${bearer()}` } });
  const feed: any[] = [];
  client.subscribe(
    { query: `subscription($id: ID!) { orderUpdated(id: $id) { ${ORDER_FIELDS} } }`, variables: { id } },
    { next: (v) => void feed.push(v), error: (e) => void feed.push({ errors: [e] }), complete: () => undefined },
  );
  await waitFor(() => feed.length >= 1, { what: 'the current state on the subscription', timeoutMs: 30_000 });
  // The customer cancels while the catalog is still down: the change reaches the subscriber.
  const canceled = await gql(`mutation($id: ID!) { cancelOrder(id: $id) { id status } }`, { id });
  expect(canceled.errors).toBeUndefined();
  await waitFor(() => feed.some((r) => r.data?.orderUpdated?.status === 'CANCELED'), { what: 'CANCELED on the subscription', timeoutMs: 30_000 }).catch((e) => {
    throw new Error(`${(e as Error).message}; received ${JSON.stringify(feed)}`);
  });
  expect(feed.map((r) => r.data?.orderUpdated?.status)).toEqual(['PLACED', 'CANCELED']);
  for (const r of feed) {
    expect(r.data.orderUpdated).toMatchObject({ id, totalCents: 240, customer: { id: CUSTOMER }, store: null, items: [{ quantity: 3, unitPriceCents: 80, product: null }] });
    expectCatalogMissing(r, 'orderUpdated');
  }

  // The catalog back: the same order is whole again.
  await catalog.restart();
  const whole = await waitFor(async () => {
    const r = await gql(`query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id });
    return r.errors === undefined ? r : null;
  }, { what: 'the order with the catalog answering again', timeoutMs: 60_000 });
  expect(whole.data?.order).toEqual({
    id,
    status: 'CANCELED',
    totalCents: 240,
    customer: { id: CUSTOMER },
    store: { id: STORE, name: `Store ${STORE}` },
    items: [{ quantity: 3, unitPriceCents: 80, product: { id: 'p-pear', name: 'Pear' } }],
  });
}, 240_000);
