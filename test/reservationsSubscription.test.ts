// The order's subscription through the gateway, from PLACED to the store's decision, every time
// (docs/reservations.md): the catalog subgraph (the store's inventory writer and its relays) runs
// as its own process and is stopped while the orders are placed, so no decision can exist yet
// when the subscriber reads the order's current state; started again, it decides both orders,
// and each subscription's next state is that decision.
import { createClient, type Client } from 'graphql-ws';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { startOrdersSubgraph, type OrdersSubgraphHandle } from '../subgraphs/orders';
import { createLogger } from '../platform/logger';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { publishProductChange } from './support/catalogDatabase';
import { createNamespace } from './support/namespace';
import { publishStock } from './support/reservations';
import { startSubgraphProcess, type SubgraphProcess } from './support/subgraphProcess';
import { testGatewayConfig } from './support/gatewayConfig';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'reservations-subscription-test-jwt-secret-0123456789';
const CUSTOMER = 'sub-det-customer';
const ORDER_FIELDS = 'id status version items { product { id } quantity reserved short notFound } shortItems { product { id } quantity short }';

const PRODUCTS = [
  { productId: 'p-loaf', name: 'Sourdough loaf', category: 'bakery', priceCents: 450 },
  { productId: 'p-milk', name: 'Oat milk', category: 'dairy', priceCents: 220 },
  { productId: 'p-eggs', name: 'Eggs', category: 'dairy', priceCents: 300 },
];

let namespace: string;
let redis: Redis;
let orders: OrdersSubgraphHandle;
let catalog: SubgraphProcess;
let gateway: GatewayHandle;
let client: Client | undefined;

beforeAll(async () => {
  namespace = await createNamespace('reservations-sub');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const env = { STREAMGRAPH_NAMESPACE: namespace, GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET, KAFKA_SESSION_TIMEOUT_MS: '6000' };
  [orders, catalog] = await Promise.all([
    startOrdersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, sessionTimeoutMs: 6000, logger: createLogger('reservations-sub', process.env.LOG_LEVEL ?? 'warn') }),
    startSubgraphProcess('catalog', env),
  ]);
  for (const p of PRODUCTS) {
    const at = await publishProductChange(orders.runtime.kafka, namespace, p);
    await orders.views.prices.handle.waitFor(at.partition, at.offset, 30_000);
  }
  await publishStock(orders.runtime.kafka, namespace, 's-det', { 'p-loaf': 1, 'p-milk': 6, 'p-eggs': 12 });
  await waitFor(async () => (await orders.views.stores.reader.getMany(['s-det']))[0], { what: 'the orders view to know the store' });
  // The catalog's schema stays in the graph while its process is stopped (an instance that
  // stops changes where requests go, never which fields exist), so one start is enough for the
  // gateway to compose both.
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'reservations-sub-gateway' }, { supergraph: { kind: 'registry', namespace, pollMs: 300 } }));
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

async function placeThroughGateway(items: Array<{ productId: string; quantity: number }>): Promise<{ id: string; status: string }> {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer()}` },
    body: JSON.stringify({ query: `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`, variables: { input: { storeId: 's-det', items } } }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data.placeOrder;
}

/** Follows one order through the gateway; every payload (or error) in the order it came. */
function follow(id: string): any[] {
  client ??= createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: { authorization: `Bearer ${bearer()}` } });
  const received: any[] = [];
  client.subscribe(
    { query: `subscription($id: ID!) { orderUpdated(id: $id) { ${ORDER_FIELDS} } }`, variables: { id } },
    { next: (v) => void received.push(v), error: (e) => void received.push({ errors: [e] }), complete: () => undefined },
  );
  return received;
}

it('the order subscription shows PLACED, then CONFIRMED or PARTIALLY_CONFIRMED with the short items', async () => {
  // No inventory writer runs while the orders are placed and first read.
  await catalog.stop();
  const full = await placeThroughGateway([{ productId: 'p-milk', quantity: 2 }]);
  const partial = await placeThroughGateway([
    { productId: 'p-loaf', quantity: 2 },
    { productId: 'p-eggs', quantity: 6 },
  ]);
  expect([full.status, partial.status]).toEqual(['PLACED', 'PLACED']);

  const fullFeed = follow(full.id);
  const partialFeed = follow(partial.id);
  const states = (feed: any[]) => feed.map((r) => r.data?.orderUpdated ?? r);
  await waitFor(() => fullFeed.length > 0 && partialFeed.length > 0, { what: 'both subscriptions to deliver the current state', timeoutMs: 30_000 });
  expect(states(fullFeed)).toEqual([
    { id: full.id, status: 'PLACED', version: expect.any(Number), items: [{ product: { id: 'p-milk' }, quantity: 2, reserved: null, short: null, notFound: false }], shortItems: [] },
  ]);
  expect(states(partialFeed)).toMatchObject([{ id: partial.id, status: 'PLACED', shortItems: [] }]);

  // The store's writer starts, finds both requests and decides them.
  await catalog.restart();
  const decidedOn = (feed: any[]) => feed.some((r) => r.errors || r.data?.orderUpdated.status !== 'PLACED');
  await waitFor(() => decidedOn(fullFeed) && decidedOn(partialFeed), { what: 'both decisions on the subscriptions', timeoutMs: 120_000 }).catch((e) => {
    console.log(JSON.stringify({ fullFeed, partialFeed }));
    throw e;
  });

  const [placedFull, confirmed] = states(fullFeed);
  expect(states(fullFeed).map((o) => o.status)).toEqual(['PLACED', 'CONFIRMED']);
  expect(confirmed.version).toBeGreaterThan(placedFull.version);
  expect(confirmed).toMatchObject({ items: [{ product: { id: 'p-milk' }, quantity: 2, reserved: 2, short: 0, notFound: false }], shortItems: [] });

  const [placedPartial, partially] = states(partialFeed);
  expect(states(partialFeed).map((o) => o.status)).toEqual(['PLACED', 'PARTIALLY_CONFIRMED']);
  expect(partially.version).toBeGreaterThan(placedPartial.version);
  expect(partially).toMatchObject({
    items: [
      { product: { id: 'p-loaf' }, quantity: 2, reserved: 1, short: 1, notFound: false },
      { product: { id: 'p-eggs' }, quantity: 6, reserved: 6, short: 0, notFound: false },
    ],
    shortItems: [{ product: { id: 'p-loaf' }, quantity: 2, short: 1 }],
  });
}, 240_000);
