// The orders subgraph against the real broker and Redis: mutations with read-your-writes,
// validation and authorization, hostile input, the lifecycle, live subscriptions and batched reads.
import { CATALOG_INVENTORY_TOPIC, createEvent, ORDERS_TOPIC } from '../schema/events';
import { publishProductChange } from './support/catalogDatabase';
import type { Admin } from 'kafkajs';
import { startOrdersSubgraph } from '../subgraphs/orders';
import type { Identity } from '../platform/identity';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { as, collect, gql, TEST_IDENTITY_SECRET, wsClient, type GraphQLResult } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

let orders: SubgraphHandle;
const alice = as('cust-alice', 'customer');
const bob = as('cust-bob', 'customer');
const shopper = as('shopper-1', 'shopper');

const ORDER_FIELDS = 'id status version totalCents customer { id } store { id } items { product { id } quantity unitPriceCents } statusHistory { status at }';
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`;
const ADVANCE = `mutation($id: ID!, $status: OrderStatus!) { advanceOrder(id: $id, status: $status) { id status version } }`;

const view = (name: string, handle = orders) => handle.runtime.views().find((v) => v.name.endsWith(name))!;

/** Publishes stores as the catalog does and waits until `handle`'s store view knows them. */
async function publishStores(handle: SubgraphHandle, namespace: string, ...storeIds: string[]) {
  for (const storeId of storeIds) {
    const at = await handle.runtime.producer.publish(`${namespace}catalog.inventory`, createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId, name: `Store ${storeId}` }));
    await view('orders.stores', handle).handle.waitFor(at.partition, at.offset, 10_000);
  }
}

beforeAll(async () => {
  const namespace = await createNamespace('orders');
  orders = await startOrdersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, readyMaxLag: 0 });
  // The catalog publishes products and stores; orders keeps its own copy of prices and store ids.
  const products = [
    { productId: 'p-apple', name: 'Apple', category: 'fruit', priceCents: 50 },
    { productId: 'p-bread', name: 'Bread', category: 'bakery', priceCents: 300 },
    // The contract's largest price: two of them are over the largest order total.
    { productId: 'p-gold', name: 'Gold bar', category: 'luxury', priceCents: 1_000_000_000 },
  ];
  const prices = view('productPrices');
  for (const p of products) {
    const at = await publishProductChange(orders.runtime.kafka, namespace, p);
    await prices.handle.waitFor(at.partition, at.offset, 10_000);
  }
  await publishStores(orders, namespace, 'store-1', 's');
});
afterAll(async () => {
  await orders.close();
});

/** The end offsets of the orders topic: unchanged means nothing was written. */
async function ordersLogEnds(admin: Admin): Promise<string> {
  return (await admin.fetchTopicOffsets(orders.runtime.topic(ORDERS_TOPIC))).map((o) => `${o.partition}:${o.high}`).join(',');
}

/** Runs `fn` and checks it wrote nothing to the orders topic. */
async function writesNothing(fn: () => Promise<void>): Promise<void> {
  const admin = orders.runtime.kafka.admin();
  await admin.connect();
  try {
    const before = await ordersLogEnds(admin);
    await fn();
    expect(await ordersLogEnds(admin)).toBe(before);
  } finally {
    await admin.disconnect();
  }
}

/** The one error of a refused mutation: its code, field and message, with no data and nothing internal. */
function refused(res: GraphQLResult & { status: number }) {
  expect(res.errors).toHaveLength(1);
  expect(res.data ?? null).toBeNull();
  const e = res.errors![0];
  expect(e.extensions!.code).not.toBe('INTERNAL_SERVER_ERROR');
  expect(e.message).not.toMatch(/event\.|payload|expected .*, found/);
  return { code: e.extensions!.code as string, field: e.extensions!.field as string | undefined, message: e.message };
}

async function place(who = alice) {
  const res = await gql(orders.url, PLACE, { input: { storeId: 'store-1', items: [{ productId: 'p-apple', quantity: 3 }, { productId: 'p-bread', quantity: 1, unitPriceCents: 300 }] } }, who);
  expect(res.errors).toBeUndefined();
  return res.data!.placeOrder;
}

describe('orders subgraph', () => {
  it('places an order that the next query reads back (read-your-writes)', async () => {
    const order = await place();
    expect(order).toMatchObject({ status: 'PLACED', version: 1, totalCents: 3 * 50 + 300, customer: { id: 'cust-alice' }, store: { id: 'store-1' } });
    expect(order.items).toEqual([
      { product: { id: 'p-apple' }, quantity: 3, unitPriceCents: 50 },
      { product: { id: 'p-bread' }, quantity: 1, unitPriceCents: 300 },
    ]);
    const read = await gql(orders.url, `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id: order.id }, alice);
    expect(read.data!.order).toEqual(order);
  });

  it('moves an order through its lifecycle and refuses illegal transitions without writing', async () => {
    const { id } = await place();
    const illegal = await gql(orders.url, ADVANCE, { id, status: 'PICKING' }, shopper);
    expect(illegal.errors![0].extensions!.code).toBe('INVALID_TRANSITION');
    expect(illegal.data).toBeNull();
    for (const [status, version] of [['SHOPPER_ASSIGNED', 2], ['PICKING', 3], ['OUT_FOR_DELIVERY', 4], ['DELIVERED', 5]] as const) {
      const res = await gql(orders.url, ADVANCE, { id, status }, shopper);
      expect(res.data!.advanceOrder).toEqual({ id, status, version });
    }
    const late = await gql(orders.url, `mutation($id: ID!) { cancelOrder(id: $id) { id } }`, { id }, alice);
    expect(late.errors![0].extensions!.code).toBe('INVALID_TRANSITION');
    const read = await gql(orders.url, `query($id: ID!) { order(id: $id) { status version statusHistory { status } } }`, { id }, alice);
    expect(read.data!.order.version).toBe(5);
    expect(read.data!.order.statusHistory.map((h: { status: string }) => h.status)).toEqual(['PLACED', 'SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED']);
  });

  it('refuses unknown products, wrong prices, bad quantities and customers acting as shoppers, writing nothing', async () => {
    const topic = orders.runtime.topic(ORDERS_TOPIC);
    const admin = orders.runtime.kafka.admin();
    await admin.connect();
    const ends = async () => (await admin.fetchTopicOffsets(topic)).map((o) => o.high).join(',');
    const before = await ends();
    const cases: Array<[unknown, string, string?]> = [
      [{ storeId: 's', items: [{ productId: 'p-nope', quantity: 1 }] }, 'NOT_FOUND'],
      [{ storeId: 's', items: [{ productId: 'p-apple', quantity: 1, unitPriceCents: 45 }] }, 'BAD_USER_INPUT', 'input.items[0].unitPriceCents'],
      [{ storeId: 's', items: [{ productId: 'p-apple', quantity: 0 }] }, 'BAD_USER_INPUT', 'input.items[0].quantity'],
      [{ storeId: 's', items: [] }, 'BAD_USER_INPUT', 'input.items'],
    ];
    for (const [input, code, field] of cases) {
      const res = await gql(orders.url, PLACE, { input }, alice);
      expect(res.errors![0].extensions!.code).toBe(code);
      if (field) expect(res.errors![0].extensions!.field).toBe(field);
    }
    const { id } = await place();
    const afterPlace = await ends();
    const res = await gql(orders.url, ADVANCE, { id, status: 'SHOPPER_ASSIGNED' }, alice);
    expect(res.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(await ends()).toBe(afterPlace);
    expect(before).not.toBe(afterPlace); // the one valid placement did write
    await admin.disconnect();
  });

  it('refuses an order at a store or for a product the catalog never published, naming it, before writing anything', async () => {
    await writesNothing(async () => {
      const store = refused(await gql(orders.url, PLACE, { input: { storeId: 'store-nowhere', items: [{ productId: 'p-apple', quantity: 1 }] } }, alice));
      expect(store).toEqual({ code: 'NOT_FOUND', field: undefined, message: 'store store-nowhere does not exist' });
      const product = refused(await gql(orders.url, PLACE, { input: { storeId: 'store-1', items: [{ productId: 'p-apple', quantity: 1 }, { productId: 'p-nope', quantity: 1 }] } }, alice));
      expect(product).toEqual({ code: 'NOT_FOUND', field: undefined, message: 'product p-nope does not exist' });
    });
  });

  it('refuses text with a lone UTF-16 surrogate in every mutation, naming the field, before writing anything', async () => {
    const { id } = await place();
    // JSON.stringify sends each lone surrogate as the escape "\ud800", which JSON.parse accepts.
    const cases: Array<[string, Record<string, unknown>, Identity, string]> = [
      [PLACE, { input: { storeId: 'store-1\ud800', items: [{ productId: 'p-apple', quantity: 1 }] } }, alice, 'input.storeId'],
      [PLACE, { input: { storeId: 'store-1', items: [{ productId: 'p-apple', quantity: 1 }, { productId: '\udc00p', quantity: 1 }] } }, alice, 'input.items[1].productId'],
      [ADVANCE, { id: `${id}\ud800`, status: 'SHOPPER_ASSIGNED' }, shopper, 'id'],
      [`mutation($id: ID!) { cancelOrder(id: $id) { id } }`, { id: `\ud800${id}` }, alice, 'id'],
      [`mutation($id: ID!, $at: String!) { updateDeliveryEstimate(id: $id, estimatedDeliveryAt: $at) { id } }`, { id, at: '2030-01-01T00:00:00Z\ud800' }, shopper, 'estimatedDeliveryAt'],
    ];
    await writesNothing(async () => {
      for (const [query, variables, who, field] of cases)
        expect(refused(await gql(orders.url, query, variables, who))).toEqual({
          code: 'BAD_USER_INPUT',
          field,
          message: `${field} is not valid text: it holds a lone UTF-16 surrogate`,
        });
    });
  });

  it('answers input only the event contract would catch with BAD_USER_INPUT naming the field and the limit, never an internal error', async () => {
    const { id } = await place();
    await writesNothing(async () => {
      const longStore = refused(await gql(orders.url, PLACE, { input: { storeId: 's'.repeat(129), items: [{ productId: 'p-apple', quantity: 1 }] } }, alice));
      expect(longStore).toEqual({ code: 'BAD_USER_INPUT', field: 'input.storeId', message: 'input.storeId must be 1 to 128 characters' });
      const longProduct = refused(await gql(orders.url, PLACE, { input: { storeId: 'store-1', items: [{ productId: 'p'.repeat(129), quantity: 1 }] } }, alice));
      expect(longProduct.field).toBe('input.items[0].productId');
      // Two items within their limits can add up to more than an order may total.
      const total = refused(await gql(orders.url, PLACE, { input: { storeId: 'store-1', items: [{ productId: 'p-gold', quantity: 2 }] } }, alice));
      expect(total).toEqual({ code: 'BAD_USER_INPUT', field: 'input.items', message: 'the order would total 2000000000 cents; an order totals at most 1000000000 cents' });
      // A valid time whose offset carries it past year 9999, which has no four-digit ISO form.
      const eta = refused(await gql(orders.url, `mutation($id: ID!, $at: String!) { updateDeliveryEstimate(id: $id, estimatedDeliveryAt: $at) { id } }`, { id, at: '9999-12-31T23:59:59-14:00' }, shopper));
      expect(eta).toEqual({ code: 'BAD_USER_INPUT', field: 'estimatedDeliveryAt', message: 'estimatedDeliveryAt must be an ISO-8601 time' });
      // The caller's id comes from the token, and becomes the order's customer id.
      const longSub = refused(await gql(orders.url, PLACE, { input: { storeId: 'store-1', items: [{ productId: 'p-apple', quantity: 1 }] } }, as('c'.repeat(129), 'customer')));
      expect(longSub).toEqual({ code: 'BAD_USER_INPUT', field: 'token.sub', message: 'token.sub must be a string of 1 to 128 characters' });
      const longShopper = refused(await gql(orders.url, ADVANCE, { id, status: 'SHOPPER_ASSIGNED' }, as('s'.repeat(201), 'shopper')));
      expect(longShopper).toEqual({ code: 'BAD_USER_INPUT', field: 'token.sub', message: 'token.sub must be a string of 1 to 200 characters' });
    });
  });

  it("refuses another customer's order in queries, mutations and subscriptions, with no data", async () => {
    const { id } = await place(alice);
    const read = await gql(orders.url, `query($id: ID!) { order(id: $id) { id totalCents } }`, { id }, bob);
    expect(read.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(read.data).toEqual({ order: null });
    const cancel = await gql(orders.url, `mutation($id: ID!) { cancelOrder(id: $id) { id } }`, { id }, bob);
    expect(cancel.errors![0].extensions!.code).toBe('FORBIDDEN');
    const client = wsClient(orders.wsUrl, bob);
    const sub = collect(client, `subscription($id: ID!) { orderUpdated(id: $id) { id status } }`, { id });
    await waitFor(() => sub.received.length > 0 || sub.error(), { what: 'a refusal' });
    expect(sub.received[0].errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(sub.received[0].data ?? null).toBeNull();
    await client.dispose();
  });

  it('refuses calls that did not come through the gateway', async () => {
    const none = await gql(orders.url, '{ __typename }', {}, null);
    expect(none.status).toBe(401);
    expect(none.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
    const forged = await gql(orders.url, '{ __typename }', {}, alice, 'not-the-gateway-secret');
    expect(forged.status).toBe(401);
  });

  it('orderUpdated sends the current state, then every status change in order with no gaps in version', async () => {
    const { id } = await place();
    await gql(orders.url, ADVANCE, { id, status: 'SHOPPER_ASSIGNED' }, shopper);
    const client = wsClient(orders.wsUrl, alice);
    const sub = collect(client, `subscription($id: ID!) { orderUpdated(id: $id) { id status version } }`, { id });
    await waitFor(() => sub.received.length >= 1, { what: 'the current state' });
    expect(sub.received[0].data!.orderUpdated).toEqual({ id, status: 'SHOPPER_ASSIGNED', version: 2 });
    for (const status of ['PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED']) await gql(orders.url, ADVANCE, { id, status }, shopper);
    await waitFor(() => sub.received.length >= 4, { what: 'every change' });
    expect(sub.received.map((r) => r.data!.orderUpdated.version)).toEqual([2, 3, 4, 5]);
    expect(sub.received.map((r) => r.data!.orderUpdated.status)).toEqual(['SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED']);
    await client.dispose();
  });

  it("myOrders delivers changes to the caller's orders only", async () => {
    const client = wsClient(orders.wsUrl, bob);
    const sub = collect(client, `subscription { myOrders { id status version customer { id } } }`);
    // Nothing of Bob's exists yet, so no current state arrives; wait until the listener is live.
    await waitFor(() => view('orders.orders').notices.listeners() > 0, { what: 'the subscription to listen' });
    const alices = await place(alice);
    const bobs = await place(bob);
    await gql(orders.url, ADVANCE, { id: alices.id, status: 'SHOPPER_ASSIGNED' }, shopper);
    await gql(orders.url, ADVANCE, { id: bobs.id, status: 'SHOPPER_ASSIGNED' }, shopper);
    await waitFor(() => sub.received.length >= 2, { what: "Bob's two changes" });
    expect(sub.received.map((r) => r.data!.myOrders)).toEqual([
      { id: bobs.id, status: 'PLACED', version: 1, customer: { id: 'cust-bob' } },
      { id: bobs.id, status: 'SHOPPER_ASSIGNED', version: 2, customer: { id: 'cust-bob' } },
    ]);
    await client.dispose();
  });

  it('lists a customer’s orders newest first and resolves 100 order entities in one Redis round trip', async () => {
    const carol = as('cust-carol', 'customer');
    const placed: string[] = [];
    for (let i = 0; i < 5; i++) placed.push((await place(carol)).id);
    const listQuery = `query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on Customer { orders(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await gql(orders.url, listQuery, { r: [{ __typename: 'Customer', id: 'cust-carol' }], after }, carol);
      const conn = res.data._entities[0].orders;
      seen.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual([...placed].reverse());

    const many: string[] = [];
    for (let i = 0; i < 20; i++) many.push((await place(carol)).id);
    const reps = Array.from({ length: 100 }, (_, i) => ({ __typename: 'Order', id: many[i % many.length] + (i < 20 ? '' : '') }));
    const reader = view('orders.orders').reader;
    const before = reader.roundTrips();
    const res = await gql(orders.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id status items { product { id } } customer { id } } } }`, { r: reps }, shopper);
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toHaveLength(100);
    expect(reader.roundTrips() - before).toBe(1);
  });

  it('serves its SDL for composition and reports readiness and metrics', async () => {
    const sdl = await gql(orders.url, '{ _service { sdl } }', {}, shopper);
    expect(sdl.data!._service.sdl).toMatch(/type Order\s+@key\(fields: "id"\)/);
    const base = orders.url.replace('/graphql', '');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, { what: 'ready' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/streamgraph_projection_lag_records\{view="[^"]*orders\.orders"/);
    expect(metrics).toContain('streamgraph_subgraph_request_duration_seconds_bucket');
  });
});

describe('a write the view has not applied within the wait', () => {
  let slow: SubgraphHandle;
  afterAll(async () => {
    await slow?.close();
  });

  it('says the write was accepted and where it is, and the order appears once applied', async () => {
    const namespace = await createNamespace('orders-timeout');
    // A 0 ms wait: the answer always comes before the projection has applied the event.
    slow = await startOrdersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, writeTimeoutMs: 0 });
    await publishStores(slow, namespace, 's');
    const prices = view('productPrices', slow);
    const at = await publishProductChange(slow.runtime.kafka, namespace, { productId: 'p-1', name: 'Tea', category: 'drinks', priceCents: 250 });
    await prices.handle.waitFor(at.partition, at.offset, 10_000);
    const res = await gql(slow.url, `mutation { placeOrder(input: { storeId: "s", items: [{ productId: "p-1", quantity: 2 }] }) { id } }`, {}, alice);
    const error = res.errors![0];
    expect(error.extensions!.code).toBe('ACCEPTED_NOT_APPLIED');
    expect(error.message).toMatch(/the change was accepted \(.*orders\[\d\]@\d+\) but is not readable yet/);
    const { topic, partition, offset } = error.extensions as { topic: string; partition: number; offset: number };
    expect(topic).toBe(`${namespace}orders`);
    const ordersView = slow.runtime.views().find((v) => v.name.endsWith('orders.orders'))!;
    await ordersView.handle.waitFor(partition, offset, 10_000);
    const page = await ordersView.reader.indexPage('customer:cust-alice', { first: 5 });
    expect(page.ids).toHaveLength(1);
  });
});
