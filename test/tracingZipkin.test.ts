// One order followed end to end in a real Zipkin: the gateway and the orders and customers
// subgraphs as their own processes, each exporting its spans (OTEL_TRACES_EXPORTER=zipkin) to a
// Zipkin server this file starts from the jar Maven Central publishes (fetched into
// .infra-cache/ on first use). A placeOrder's trace, read back from Zipkin's API, runs from the
// gateway's request through the orders subgraph, the produce to Kafka, the orders and customers
// projections that apply the event, the change notice and the subscription event that reaches a
// subscribed client; a later change of the order reaches an `orderUpdated` subscriber in its own
// trace the same way. The order's confirmation, which the catalog's reservation relays and the
// orders' confirmation relay write in the placement's trace, reaches an `orderUpdated` subscriber
// in the placeOrder's trace (a catalog process exporting its spans, in the last test). The
// client's traceparent is honoured; a malformed one is ignored.
import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signDevToken } from '../gateway/token';
import { startZipkin, type ZipkinHandle } from '../infra/zipkin';
import type { Role } from '../platform/identity';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { GATEWAY_TEST_JWT_SECRET, startGatewayProcess, type GatewayProcess } from './support/gatewayProcess';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { freePort, startSubgraphProcess, type SubgraphProcess } from './support/subgraphProcess';
import { waitFor } from './support/waitFor';

const token = (sub: string, role: Role) => signDevToken({ sub, roles: [role], secret: GATEWAY_TEST_JWT_SECRET, expiresInSec: 3600 });
const admin = token('admin-trace', 'admin');
const shopper = token('shopper-trace', 'shopper');
const STORE = 'store-trace-1';
const PRODUCT = 'prod-trace-1';

/** A Zipkin v2 span as its API answers. */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

let zipkin: ZipkinHandle;
let namespace: string;
let gateway: GatewayProcess;
let catalog: SubgraphHandle;
/** The orders and customers subgraphs' environment: namespace, identity secret, tracing to Zipkin. */
let subgraphEnv: Record<string, string>;
const processes: SubgraphProcess[] = [];
const clients: Client[] = [];

const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');

async function gw(query: string, variables: Record<string, unknown>, bearer?: string, headers: Record<string, string> = {}) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, traceId: res.headers.get('x-trace-id'), ...((await res.json()) as { data?: any; errors?: any[] }) };
}

/** `operationName`: sent with the subscription, which names the gateway's delivery spans after it. */
function follow(bearer: string, query: string, variables: Record<string, unknown>, operationName?: string) {
  const client = createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: { authorization: `Bearer ${bearer}` } });
  clients.push(client);
  const received: any[] = [];
  client.subscribe({ query, variables, operationName }, { next: (v) => void received.push(v), error: () => undefined, complete: () => undefined });
  return received;
}

/** The trace's spans once `done` holds for them (spans arrive in batches from several processes). */
async function traceOf(traceId: string, what: string, done: (spans: ZipkinSpan[]) => boolean): Promise<ZipkinSpan[]> {
  return waitFor(
    async () => {
      const res = await fetch(`${zipkin.url}/api/v2/trace/${traceId}`);
      if (res.status !== 200) throw new Error(`Zipkin answered ${res.status} for the trace: ${(await res.text()).slice(0, 200)}`);
      const spans = (await res.json()) as ZipkinSpan[];
      // Not there yet: what is, for the timeout's message.
      if (!done(spans)) throw new Error(`${spans.length} spans so far:\n${describe_(spans)}`);
      return spans;
    },
    { what, timeoutMs: 60_000, intervalMs: 200 },
  );
}

const service = (s: ZipkinSpan) => s.localEndpoint?.serviceName ?? '';
/** The first span of `serviceName` whose name starts with `prefix` (Zipkin lowercases names). */
const find = (spans: ZipkinSpan[], serviceName: string, prefix: string) => spans.find((s) => service(s) === serviceName && s.name.startsWith(prefix.toLowerCase()));
/** Whether `ancestor` is `span`'s parent, grandparent, ... */
function descends(spans: ZipkinSpan[], span: ZipkinSpan | undefined, ancestor: ZipkinSpan | undefined): boolean {
  if (!span || !ancestor) return false;
  const byId = new Map(spans.map((s) => [s.id, s]));
  for (let s: ZipkinSpan | undefined = span; s?.parentId; s = byId.get(s.parentId)) if (s.parentId === ancestor.id) return true;
  return false;
}
const describe_ = (spans: ZipkinSpan[]) => spans.map((s) => `${service(s)}: ${s.name} (${s.id} <- ${s.parentId ?? 'root'})`).join('\n');

beforeAll(async () => {
  // The first run downloads the Zipkin jar (about 130 MB) from Maven Central.
  zipkin = await startZipkin({ port: await freePort() });
  namespace = await createNamespace('trace');
  const tracing = {
    OTEL_TRACES_EXPORTER: 'zipkin',
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.spansUrl,
    // The SDK's batch delay (default 5 s): the test reads the spans back soon after.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  subgraphEnv = { STREAMGRAPH_NAMESPACE: namespace, GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET, ...tracing };
  processes.push(...(await Promise.all([startSubgraphProcess('orders', subgraphEnv), startSubgraphProcess('customers', subgraphEnv)])));
  // The catalog sets up the world here, in this (untraced) test process, so the reservations it
  // decides (and the confirmations they become) are in no trace; the last test replaces it with
  // a traced catalog process to follow a placement through the reservation to its confirmation.
  catalog = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 });
  gateway = await startGatewayProcess({ namespace, env: tracing });
  await waitFor(async () => (await gw(`mutation { upsertStore(input: { id: "${STORE}", name: "Traced corner" }) { id } }`, {}, admin)).data?.upsertStore, {
    what: 'the gateway to serve the catalog',
  });
  expect((await gw(`mutation { upsertProduct(input: { id: "${PRODUCT}", name: "Oat milk", category: "food", priceCents: 199 }) { id } }`, {}, admin)).errors).toBeUndefined();
  expect((await gw(`mutation { reportInventory(storeId: "${STORE}", productId: "${PRODUCT}", quantity: 40) { quantity } }`, {}, token(STORE, 'store'))).errors).toBeUndefined();
}, 300_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await gateway?.stop();
  await Promise.all(processes.map((p) => p.stop()));
  await catalog?.close();
  await zipkin?.stop();
});

/** Subscriptions the orders subgraph has started over graphql-ws, from its /metrics. */
async function ordersSubscriptionsStarted(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${processes[0]!.port}/metrics`)).text();
  return Number(/^streamgraph_subgraph_subscriptions_started_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
}

const PLACE = `mutation Place($store: ID!, $product: ID!, $quantity: Int!) { placeOrder(input: { storeId: $store, items: [{ productId: $product, quantity: $quantity }] }) { id status } }`;

it('follows a placeOrder from the client through Kafka and both projections to a subscribed client, in one trace', async () => {
  const customerToken = await waitFor(async () => {
    const r = await gw(`mutation { registerCustomer(input: { name: "Tracy", email: "tracy@example.com" }) { id } }`, {});
    return r.data?.registerCustomer ? token(r.data.registerCustomer.id, 'customer') : null;
  }, { what: 'the gateway to serve the customers subgraph' });
  // Subscribed before the order exists: its first change is the order being placed. A new
  // customer's myOrders sends nothing until then, so the test waits for the orders subgraph to
  // have started the subscription (its listener is registered in the same turn); placed before
  // that, the order would arrive as the subscription's current state, outside the trace.
  const startedBefore = await ordersSubscriptionsStarted();
  const mine = follow(customerToken, `subscription { myOrders { id status } }`, {});
  await waitFor(async () => (await ordersSubscriptionsStarted()) > startedBefore, { what: 'the orders subgraph to start the myOrders subscription' });

  // The client's own trace context is honoured: the trace id it sent comes back.
  const traceId = newTraceId();
  const clientSpan = newSpanId();
  const placed = await waitFor(async () => {
    const r = await gw(PLACE, { store: STORE, product: PRODUCT, quantity: 2 }, customerToken, { traceparent: `00-${traceId}-${clientSpan}-01` });
    return r.data?.placeOrder ? r : null;
  }, { what: 'the orders views to know the store and the product' });
  expect(placed.traceId).toBe(traceId);
  const orderId = placed.data!.placeOrder.id as string;
  await waitFor(() => mine.some((m) => m.data?.myOrders?.id === orderId), { what: 'the myOrders subscriber to get the placed order' });

  const named = (spans: ZipkinSpan[]) => ({
    request: spans.find((s) => service(s) === 'gateway' && s.kind === 'SERVER'),
    fetch: find(spans, 'gateway', 'subgraph orders'),
    served: spans.find((s) => service(s) === 'orders' && s.kind === 'SERVER'),
    command: find(spans, 'orders', 'Mutation.placeOrder'),
    produce: spans.find((s) => service(s) === 'orders' && s.kind === 'PRODUCER'),
    ordersApply: find(spans, 'orders', `apply ${namespace}orders.orders`),
    customersApply: find(spans, 'customers', `apply ${namespace}customers.orders360`),
    notice: find(spans, 'orders', `notice ${namespace}orders.orders`),
    subgraphEvent: find(spans, 'orders', 'subscription event'),
    // The delivery that reached the client: under load the placement can be superseded by its
    // confirmation while it resolves, and the confirmation's delivery then carries its trace.
    delivery: spans.find((s) => service(s) === 'gateway' && s.name.startsWith('subscription event') && s.tags?.['streamgraph.subscription.superseded'] !== 'true'),
  });
  // Each process exports its spans in its own batches: wait until every one of them is there.
  const spans = await traceOf(traceId, 'the whole chain in Zipkin', (s) => Object.values(named(s)).every((x) => x !== undefined));
  const { request, fetch, served, command, produce, ordersApply, customersApply, notice, subgraphEvent, delivery } = named(spans);
  const chain = describe_(spans);

  // gateway -> orders subgraph -> produce -> orders projection apply -> customers projection apply
  expect({ chain, parent: request?.parentId }).toEqual({ chain, parent: clientSpan });
  expect({ chain, type: request?.tags?.['graphql.operation.type'], name: request?.tags?.['graphql.operation.name'] }).toEqual({ chain, type: 'mutation', name: 'Place' });
  expect({ chain, ok: descends(spans, fetch, request) }).toEqual({ chain, ok: true });
  expect({ chain, ok: served?.parentId === fetch?.id }).toEqual({ chain, ok: true });
  expect({ chain, ok: descends(spans, command, served) && descends(spans, produce, command) }).toEqual({ chain, ok: true });
  expect(produce?.tags?.['messaging.destination.name']).toBe(`${namespace}orders`);
  expect({ chain, ok: ordersApply?.parentId === produce?.id && customersApply?.parentId === produce?.id }).toEqual({ chain, ok: true });
  // ... -> change notice -> the subgraph's subscription event -> the gateway's, which reached the one client.
  expect({ chain, ok: notice?.parentId === ordersApply?.id && subgraphEvent?.parentId === notice?.id && delivery?.parentId === subgraphEvent?.id }).toEqual({ chain, ok: true });
  expect(delivery?.tags?.['streamgraph.subscription.clients']).toBe('1');

  // Never the variables, the document or the caller's token.
  const everything = JSON.stringify(spans);
  for (const secret of [customerToken, STORE, PRODUCT, 'placeOrder(input']) expect(everything).not.toContain(secret);
});

it('brings a later change of the order to an orderUpdated subscriber in the trace of the mutation that made it', async () => {
  const customerToken = await waitFor(async () => {
    const r = await gw(`mutation { registerCustomer(input: { name: "Olive", email: "olive@example.com" }) { id } }`, {});
    return r.data?.registerCustomer ? token(r.data.registerCustomer.id, 'customer') : null;
  });
  const placed = await waitFor(async () => {
    const r = await gw(PLACE, { store: STORE, product: PRODUCT, quantity: 1 }, customerToken);
    // The errors, if it keeps failing, are what the timeout reports.
    if (!r.data?.placeOrder) throw new Error(JSON.stringify(r.errors));
    return r;
  }, { what: 'the order to be placed' });
  const orderId = placed.data!.placeOrder.id as string;
  const updates = follow(customerToken, `subscription($id: ID!) { orderUpdated(id: $id) { status version } }`, { id: orderId });
  await waitFor(() => updates.length >= 1, { what: 'the current state' });

  const traceId = newTraceId();
  const advanced = await gw(`mutation($id: ID!) { advanceOrder(id: $id, status: SHOPPER_ASSIGNED) { version } }`, { id: orderId }, shopper, { traceparent: `00-${traceId}-${newSpanId()}-01` });
  expect(advanced.errors).toBeUndefined();
  await waitFor(() => updates.some((u) => u.data?.orderUpdated?.status === 'SHOPPER_ASSIGNED'), { what: 'the change to reach the subscriber' });

  const deliveryOf = (s: ZipkinSpan[]) => s.find((x) => service(x) === 'gateway' && x.name.startsWith('subscription event'));
  const requestOf = (s: ZipkinSpan[]) => s.find((x) => service(x) === 'gateway' && x.kind === 'SERVER');
  // The spans between them come from the orders process's own export: wait for the whole path.
  const spans = await traceOf(traceId, 'the orderUpdated delivery in Zipkin, under the mutation', (s) => descends(s, deliveryOf(s), requestOf(s)));
  const delivery = deliveryOf(spans)!;
  expect(delivery.tags?.['streamgraph.subscription.clients']).toBe('1');
});

it('ignores a malformed traceparent: the request is answered as usual, in a new trace', async () => {
  for (const bad of ['garbage', '00-00000000000000000000000000000000-0000000000000000-01', `00-${newTraceId()}-${newSpanId()}`, 'ff-'.repeat(100)]) {
    const r = await gw(`query Product($id: ID!) { product(id: $id) { name } }`, { id: PRODUCT }, undefined, { traceparent: bad });
    expect({ bad, status: r.status, errors: r.errors, data: r.data }).toEqual({ bad, status: 200, errors: undefined, data: { product: { name: 'Oat milk' } } });
    expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(bad).not.toContain(r.traceId);
  }
});

it('brings the order\'s confirmation, decided by the catalog from the placement, to an orderUpdated subscriber in the placeOrder\'s trace', async () => {
  const customerToken = await waitFor(async () => {
    const r = await gw(`mutation { registerCustomer(input: { name: "Connie", email: "connie@example.com" }) { id } }`, {});
    return r.data?.registerCustomer ? token(r.data.registerCustomer.id, 'customer') : null;
  }, { what: 'the customer to be registered' });
  // orderUpdated needs the order's id, so it can only be subscribed after placeOrder returned; its
  // first message is the order's current state, read from the view, in no trace. What reaches it
  // in the placement's trace is the placement's next change: the catalog's reservation relays
  // continue the placement's trace (relay reservationRouter, the inventory's apply, relay
  // reservationOutcomes) and the orders' confirmation relay writes CONFIRMED in it. The catalog
  // is stopped while the order is placed and subscribed to, so the first state is surely PLACED
  // (running, it often decides before the subscription starts, and the client's first state is
  // then CONFIRMED, outside the trace); then a catalog exporting its spans starts and decides.
  await catalog.close();
  const clientSpan = newSpanId();
  const { traceId, placed } = await waitFor(async () => {
    const id = newTraceId();
    const r = await gw(PLACE, { store: STORE, product: PRODUCT, quantity: 3 }, customerToken, { traceparent: `00-${id}-${clientSpan}-01` });
    if (!r.data?.placeOrder) throw new Error(JSON.stringify(r.errors));
    return { traceId: id, placed: r };
  }, { what: 'the order to be placed' });
  expect(placed.traceId).toBe(traceId);
  const orderId = placed.data!.placeOrder.id as string;
  const updates = follow(customerToken, `subscription Followed($id: ID!) { orderUpdated(id: $id) { status version } }`, { id: orderId }, 'Followed');
  await waitFor(() => updates.length >= 1, { what: 'the current state' });
  expect(updates[0]).toEqual({ data: { orderUpdated: { status: 'PLACED', version: 1 } } });

  processes.push(await startSubgraphProcess('catalog', subgraphEnv));
  await waitFor(() => updates.some((u) => u.data?.orderUpdated?.status === 'CONFIRMED'), { what: 'the confirmation to reach the subscriber', timeoutMs: 90_000 });
  expect(updates.map((u) => u.data?.orderUpdated?.status)).toEqual(['PLACED', 'CONFIRMED']);

  const under = (spans: ZipkinSpan[], ancestor: ZipkinSpan | undefined, test: (s: ZipkinSpan) => boolean) => spans.find((s) => test(s) && descends(spans, s, ancestor));
  const named = (spans: ZipkinSpan[]) => {
    const request = spans.find((s) => service(s) === 'gateway' && s.kind === 'SERVER');
    const fetch = under(spans, request, (s) => service(s) === 'gateway' && s.name.startsWith('subgraph orders'));
    const served = under(spans, fetch, (s) => service(s) === 'orders' && s.kind === 'SERVER');
    const command = under(spans, served, (s) => service(s) === 'orders' && s.name.startsWith('mutation.placeorder'));
    const produce = under(spans, command, (s) => service(s) === 'orders' && s.kind === 'PRODUCER');
    const ordersApply = spans.find((s) => s.parentId === produce?.id && service(s) === 'orders' && s.name.startsWith(`apply ${namespace}orders.orders`));
    const customersApply = spans.find((s) => s.parentId === produce?.id && service(s) === 'customers' && s.name.startsWith(`apply ${namespace}customers.orders360`));
    // The router relays the placement's record (and later the confirmation's too, which it routes nowhere: a second span deeper in the trace).
    const router = spans.find((s) => s.parentId === produce?.id && service(s) === 'catalog' && s.name === 'relay reservationrouter');
    const inventoryApply = under(spans, router, (s) => service(s) === 'catalog' && s.name.startsWith(`apply ${namespace}catalog.inventory`));
    const outcomes = under(spans, router, (s) => service(s) === 'catalog' && s.name === 'relay reservationoutcomes');
    const confirmations = under(spans, outcomes, (s) => service(s) === 'orders' && s.name === 'relay reservationconfirmations');
    const confirmedApply = under(spans, confirmations, (s) => service(s) === 'orders' && s.name.startsWith(`apply ${namespace}orders.orders`));
    const notice = spans.find((s) => s.parentId === confirmedApply?.id && service(s) === 'orders' && s.name.startsWith(`notice ${namespace}orders.orders`));
    const subgraphEvent = spans.find((s) => s.parentId === notice?.id && service(s) === 'orders' && s.name.startsWith('subscription event'));
    const delivery = spans.find((s) => s.parentId === subgraphEvent?.id && service(s) === 'gateway' && s.name.startsWith('subscription event'));
    return { request, fetch, served, command, produce, ordersApply, customersApply, router, inventoryApply, outcomes, confirmations, confirmedApply, notice, subgraphEvent, delivery };
  };
  // Four processes export their spans in their own batches: wait until every one of them is there.
  const spans = await traceOf(traceId, 'the placement, its confirmation and the orderUpdated delivery in Zipkin', (s) => Object.values(named(s)).every((x) => x !== undefined));
  const { request, produce, delivery } = named(spans);
  const chain = describe_(spans);
  // gateway -> orders subgraph -> produce -> orders and customers projections' apply ...
  expect({ chain, parent: request?.parentId, name: request?.tags?.['graphql.operation.name'] }).toEqual({ chain, parent: clientSpan, name: 'Place' });
  expect(produce?.tags?.['messaging.destination.name']).toBe(`${namespace}orders`);
  // ... -> the catalog's reservation -> the confirmation -> the delivery that reached the orderUpdated client.
  expect({ chain, operation: delivery?.tags?.['graphql.operation.name'], clients: delivery?.tags?.['streamgraph.subscription.clients'], superseded: delivery?.tags?.['streamgraph.subscription.superseded'] }).toEqual({
    chain,
    operation: 'Followed',
    clients: '1',
    superseded: 'false',
  });
}, 240_000);
