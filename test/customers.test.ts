// The customers subgraph against the real broker and Redis: sign-up and read-your-writes,
// updates, who may read what, input errors, the admin list, batched entity references and
// customer-360 counters that stay exact across a restart.
import { createEvent, ORDERS_TOPIC, type OrdersEvent } from '../schema/events';
import { startCustomersSubgraph, type CustomersSubgraphHandle } from '../subgraphs/customers';
import { createLogger } from '../platform/logger';
import type { Identity } from '../platform/identity';
import { anonymous, as, gql, TEST_IDENTITY_SECRET, type GraphQLResult } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { orderEvents, produceAll } from './support/streams';

const logger = createLogger('customers-test', process.env.LOG_LEVEL ?? 'warn');
const admin = as('admin-1', 'admin');
const shopper = as('shopper-1', 'shopper');
const store = as('store-1', 'store');

let namespace: string;
let sg: CustomersSubgraphHandle;
/** Every customer this file registers: its namespace holds exactly these. */
const registered = new Set<string>();

const start = () => startCustomersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, logger });

beforeAll(async () => {
  namespace = await createNamespace('customers');
  sg = await start();
});
afterAll(async () => {
  await sg?.close();
});

const FIELDS = 'id name email tier createdAt orderCount lifetimeSpendCents lastOrderAt';
const REGISTER = `mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { ${FIELDS} } }`;
const CUSTOMER = `query($id: ID!) { customer(id: $id) { ${FIELDS} } }`;
const ME = `{ me { id name } }`;
const LIST = `query($first: Int, $after: String) {
  customers(first: $first, after: $after) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } }
}`;
const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) { ... on Customer { id name orderCount lifetimeSpendCents lastOrderAt } }
}`;

interface Customer {
  id: string;
  name: string;
  email: string;
  tier: string;
  createdAt: string;
  orderCount: number;
  lifetimeSpendCents: number;
  lastOrderAt: string | null;
}
type Counters = Pick<Customer, 'orderCount' | 'lifetimeSpendCents' | 'lastOrderAt'>;

const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown>, identity: Identity | null) =>
  gql<T>(sg.url, query, variables, identity);
const codes = (r: GraphQLResult) => (r.errors ?? []).map((e) => e.extensions?.code);

async function register(name: string, email: string, tier?: string, identity: Identity = anonymous): Promise<Customer> {
  const r = await call<{ registerCustomer: Customer }>(REGISTER, { input: { name, email, ...(tier ? { tier } : {}) } }, identity);
  expect(r.errors).toBeUndefined();
  const c = r.data!.registerCustomer;
  registered.add(c.id);
  return c;
}

/** Records on the namespace's customers topic: what "nothing was written" is checked against. */
async function customerRecords(): Promise<number> {
  const stats = await sg.views.profiles.handle.refreshLag();
  return stats.reduce((a, s) => a + (s.highWatermark ?? 0), 0);
}

describe('customers subgraph', () => {
  it('registers a customer and returns it to that customer at once (read-your-writes)', async () => {
    const c = await register('Ada Lovelace', 'ada@example.com', 'PLUS');
    expect(c).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', tier: 'PLUS', orderCount: 0, lifetimeSpendCents: 0, lastOrderAt: null });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(c.createdAt))).toBe(false);

    const read = await call<{ customer: Customer }>(CUSTOMER, { id: c.id }, as(c.id, 'customer'));
    expect(read.errors).toBeUndefined();
    expect(read.data!.customer).toEqual(c);
    const me = await call(ME, {}, as(c.id, 'customer'));
    expect(me.data).toEqual({ me: { id: c.id, name: 'Ada Lovelace' } });

    // The tier defaults to STANDARD; names and emails are stored trimmed.
    const d = await register('  Grace  ', ' grace@example.com ');
    expect(d).toMatchObject({ name: 'Grace', email: 'grace@example.com', tier: 'STANDARD' });
  });

  it('lets admins register customers but not signed-in customers, shoppers or stores', async () => {
    await register('By Admin', 'by-admin@example.com', undefined, admin);
    const before = await customerRecords();
    for (const who of [as('someone', 'customer'), shopper, store]) {
      const r = await call(REGISTER, { input: { name: 'X', email: 'x@example.com' } }, who);
      expect(codes(r)).toEqual(['FORBIDDEN']);
      expect(r.data ?? null).toBeNull();
    }
    expect(await customerRecords()).toBe(before);
  });

  it('updates a customer as that customer or an admin, writing only what changes', async () => {
    const c = await register('Alan', 'alan@example.com');
    const self = as(c.id, 'customer');
    const r = await call<{ updateCustomer: Customer }>(UPDATE, { id: c.id, input: { name: 'Alan Turing', tier: 'PLUS' } }, self);
    expect(r.errors).toBeUndefined();
    expect(r.data!.updateCustomer).toMatchObject({ id: c.id, name: 'Alan Turing', email: 'alan@example.com', tier: 'PLUS', createdAt: c.createdAt });

    const byAdmin = await call<{ updateCustomer: Customer }>(UPDATE, { id: c.id, input: { email: 'turing@example.com', name: null } }, admin);
    expect(byAdmin.data!.updateCustomer).toMatchObject({ name: 'Alan Turing', email: 'turing@example.com', tier: 'PLUS' });

    const read = await call<{ customer: Customer }>(CUSTOMER, { id: c.id }, self);
    expect(read.data!.customer).toMatchObject({ name: 'Alan Turing', email: 'turing@example.com', tier: 'PLUS' });

    // An update that changes nothing writes no event.
    const before = await customerRecords();
    const same = await call<{ updateCustomer: Customer }>(UPDATE, { id: c.id, input: { tier: 'PLUS' } }, self);
    expect(same.data!.updateCustomer.tier).toBe('PLUS');
    expect(await customerRecords()).toBe(before);
  });

  it("refuses another customer's record (read or update) with FORBIDDEN and no data", async () => {
    const owner = await register('Owner', 'owner@example.com');
    const other = await register('Other', 'other@example.com');
    for (const who of [as(other.id, 'customer'), shopper, store, as(owner.id, 'shopper')]) {
      const r = await call(CUSTOMER, { id: owner.id }, who);
      expect(codes(r)).toEqual(['FORBIDDEN']);
      expect(r.data).toEqual({ customer: null });
      expect(JSON.stringify(r.errors)).not.toContain('owner@example.com');
    }
    const before = await customerRecords();
    const u = await call(UPDATE, { id: owner.id, input: { name: 'Hijacked' } }, as(other.id, 'customer'));
    expect(codes(u)).toEqual(['FORBIDDEN']);
    expect(u.data ?? null).toBeNull();
    expect(await customerRecords()).toBe(before);
    // A denied caller cannot tell an unknown id from someone else's.
    expect(codes(await call(CUSTOMER, { id: 'no-such-customer' }, as(other.id, 'customer')))).toEqual(['FORBIDDEN']);

    const read = await call<{ customer: Customer }>(CUSTOMER, { id: owner.id }, admin);
    expect(read.data!.customer.name).toBe('Owner');
  });

  it('answers NOT_FOUND for an unknown id to those allowed to ask', async () => {
    const r = await call(CUSTOMER, { id: 'no-such-customer' }, admin);
    expect(codes(r)).toEqual(['NOT_FOUND']);
    expect(r.data).toEqual({ customer: null });
    const before = await customerRecords();
    const u = await call(UPDATE, { id: 'no-such-customer', input: { name: 'X' } }, admin);
    expect(codes(u)).toEqual(['NOT_FOUND']);
    // A signed-in customer whose record does not exist (yet) gets the same.
    const self = await call(UPDATE, { id: 'unregistered', input: { name: 'X' } }, as('unregistered', 'customer'));
    expect(codes(self)).toEqual(['NOT_FOUND']);
    expect(await customerRecords()).toBe(before);
    expect((await call(ME, {}, as('unregistered', 'customer'))).data).toEqual({ me: null });
  });

  it('rejects a bad email or name with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const before = await customerRecords();
    for (const email of ['not-an-email', 'a@b', 'two words@example.com', '', `${'x'.repeat(320)}@example.com`]) {
      const r = await call(REGISTER, { input: { name: 'Bad Email', email } }, anonymous);
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors![0].extensions?.field).toBe('input.email');
    }
    const n = await call(REGISTER, { input: { name: '   ', email: 'ok@example.com' } }, anonymous);
    expect(codes(n)).toEqual(['BAD_USER_INPUT']);
    expect(n.errors![0].extensions?.field).toBe('input.name');
    // JSON.stringify sends a lone surrogate as the escape "\ud800", which JSON.parse accepts.
    for (const input of [{ name: 'Ada \ud800', email: 'ok@example.com' }, { name: 'Ada', email: 'ada\udc00@example.com' }]) {
      const r = await call(REGISTER, { input }, anonymous);
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      const field = input.name === 'Ada' ? 'input.email' : 'input.name';
      expect(r.errors![0]).toMatchObject({ message: `${field} is not valid text: it holds a lone UTF-16 surrogate`, extensions: { field } });
    }

    const c = await register('Valid', 'valid@example.com');
    const afterRegister = await customerRecords();
    const u = await call(UPDATE, { id: c.id, input: { email: 'broken' } }, as(c.id, 'customer'));
    expect(codes(u)).toEqual(['BAD_USER_INPUT']);
    expect(u.errors![0].extensions?.field).toBe('input.email');
    const s = await call(UPDATE, { id: c.id, input: { name: '\ud800' } }, as(c.id, 'customer'));
    expect(s.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(await customerRecords()).toBe(afterRegister);
    expect(afterRegister).toBe(before + 1);
    expect((await call<{ customer: Customer }>(CUSTOMER, { id: c.id }, admin)).data!.customer.email).toBe('valid@example.com');
  });

  it('refuses calls without a valid gateway identity (401) and anonymous reads (UNAUTHENTICATED)', async () => {
    const none = await call(ME, {}, null);
    expect(none.status).toBe(401);
    expect(codes(none)).toEqual(['UNAUTHENTICATED']);
    const forged = await gql(sg.url, ME, {}, admin, 'not-the-gateway-secret-0123456789');
    expect(forged.status).toBe(401);

    expect(codes(await call(ME, {}, anonymous))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await call(CUSTOMER, { id: 'x' }, anonymous))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await call(UPDATE, { id: 'x', input: { name: 'y' } }, anonymous))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await call(LIST, {}, anonymous))).toEqual(['UNAUTHENTICATED']);
    expect((await call(ME, {}, shopper)).data).toEqual({ me: null });
  });

  it('pages every customer to admins in registration order, and only to admins', async () => {
    for (let i = 0; i < 5; i++) await register(`Paged ${i}`, `paged-${i}@example.com`);
    type Page = { customers: { edges: Array<{ cursor: string; node: { id: string; createdAt: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const seen: Array<{ id: string; createdAt: string }> = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const r: GraphQLResult<Page> = await call<Page>(LIST, { first: 3, after }, admin);
      expect(r.errors).toBeUndefined();
      const { edges, pageInfo } = r.data!.customers;
      expect(edges.length).toBeLessThanOrEqual(3);
      if (edges.length) expect(edges[edges.length - 1].cursor).toBe(pageInfo.endCursor);
      // Any edge's cursor continues right after that edge.
      if (edges.length > 1) {
        const next = await call<Page>(LIST, { first: 1, after: edges[0].cursor }, admin);
        expect(next.data!.customers.edges[0].node.id).toBe(edges[1].node.id);
      }
      seen.push(...edges.map((e) => e.node));
      pages++;
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen.map((c) => c.id).sort()).toEqual([...registered].sort());
    expect(pages).toBe(Math.ceil(registered.size / 3));
    const key = (c: { id: string; createdAt: string }) => [Date.parse(c.createdAt), c.id] as const;
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [key(seen[i - 1]), key(seen[i])];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
    }

    const firstPage = await call<Page>(LIST, {}, admin);
    expect(firstPage.data!.customers.edges).toHaveLength(Math.min(20, registered.size));
    for (const who of [as([...registered][0], 'customer'), shopper, store]) expect(codes(await call(LIST, {}, who))).toEqual(['FORBIDDEN']);
    for (const vars of [{ first: 0 }, { first: 101 }, { after: 'garbage' }]) {
      const r = await call(LIST, vars, admin);
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('resolves a list of Customer entity references in one batch, for admins, shoppers and the customer themself', async () => {
    const cs = await Promise.all([0, 1, 2].map((i) => register(`Entity ${i}`, `entity-${i}@example.com`)));
    const reps = [...cs.map((c) => ({ __typename: 'Customer', id: c.id })), { __typename: 'Customer', id: 'no-such-customer' }];
    const profileTrips = sg.views.profiles.reader.roundTrips();
    const counterTrips = sg.views.orders360.reader.roundTrips();
    const r = await call<{ _entities: Array<{ id: string; name: string; orderCount: number } | null> }>(ENTITIES, { r: reps }, shopper);
    expect(r.errors).toBeUndefined();
    expect(r.data!._entities).toEqual([
      ...cs.map((c) => ({ id: c.id, name: c.name, orderCount: 0, lifetimeSpendCents: 0, lastOrderAt: null })),
      null,
    ]);
    expect(sg.views.profiles.reader.roundTrips() - profileTrips).toBe(1);
    expect(sg.views.orders360.reader.roundTrips() - counterTrips).toBe(1);

    expect((await call(ENTITIES, { r: reps.slice(0, 3) }, admin)).errors).toBeUndefined();
    // A customer resolves their own reference, not anyone else's; a store resolves none.
    const own = await call<{ _entities: Array<{ id: string } | null> }>(ENTITIES, { r: reps.slice(0, 2) }, as(cs[0].id, 'customer'));
    expect(own.data!._entities[0]).toMatchObject({ id: cs[0].id });
    expect(own.data!._entities[1]).toBeNull();
    expect(codes(own)).toEqual(['FORBIDDEN']);
    const byStore = await call<{ _entities: unknown[] }>(ENTITIES, { r: reps.slice(0, 3) }, store);
    expect(byStore.data!._entities).toEqual([null, null, null]);
    expect(codes(byStore)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    expect(codes(await call(ENTITIES, { r: reps.slice(0, 1) }, anonymous))).toEqual(['UNAUTHENTICATED']);
  });

  it('keeps customer-360 counters equal to the truth over hundreds of order events and across a restart', async () => {
    const customers = await Promise.all([0, 1, 2, 3, 4].map((i) => register(`Buyer ${i}`, `buyer-${i}@example.com`)));
    const ids = customers.map((c) => c.id);
    const ordersTopic = sg.runtime.topic(ORDERS_TOPIC);
    const log: OrdersEvent[] = [];
    const lastOffsets = new Map<number, number>();
    const produce = async (events: OrdersEvent[]) => {
      const written = await produceAll(sg.runtime.producer, ordersTopic, events);
      for (const w of written) lastOffsets.set(w.at.partition, Math.max(lastOffsets.get(w.at.partition) ?? -1, w.at.offset));
      log.push(...events);
      return new Set(written.map((w) => w.at.partition));
    };
    const allApplied = () =>
      Promise.all([...lastOffsets].map(([p, offset]) => sg.views.orders360.handle.waitFor(p, offset, 60_000)));
    const counters = async (): Promise<Map<string, Counters>> => {
      const r = await call<{ _entities: Customer[] }>(ENTITIES, { r: ids.map((id) => ({ __typename: 'Customer', id })) }, admin);
      expect(r.errors).toBeUndefined();
      return new Map(r.data!._entities.map((c) => [c.id, { orderCount: c.orderCount, lifetimeSpendCents: c.lifetimeSpendCents, lastOrderAt: c.lastOrderAt }]));
    };

    // 320 events over 90 orders, plus repeats of some placements and cancels (a retrying producer).
    const first = forCustomers(orderEvents({ seed: 11, count: 320, orders: 90, customers: ids.length }), ids);
    const repeats = [...first.filter((e) => e.type === 'OrderPlaced').slice(0, 5), ...first.filter(isCancel).slice(0, 5)];
    expect(first.filter(isCancel).length).toBeGreaterThan(0);
    await produce([...first, ...repeats]);
    await allApplied();
    const truth1 = truthOf(log, ids);
    expect(await counters()).toEqual(truth1);
    // The truth is not trivial: every customer ordered, and cancels took money off.
    for (const id of ids) expect(truth1.get(id)!.orderCount).toBeGreaterThan(0);

    // Restart mid-stream: close while the view may still be applying, then start a new instance
    // on the same namespace; it must resume from its checkpoints, not re-apply anything.
    const beforeRestart = log.length;
    await produce(forCustomers(orderEvents({ seed: 12, count: 150, orders: 50, customers: ids.length }), ids));
    const old = sg;
    sg = undefined as unknown as CustomersSubgraphHandle; // afterAll must not close it twice
    await old.close();
    sg = await start();
    const touched = await produce(forCustomers(orderEvents({ seed: 13, count: 80, orders: 30, customers: ids.length }), ids));
    // New events on every partition, so waiting for them means every partition has resumed.
    expect(touched.size).toBe(lastOffsets.size);
    await allApplied();
    expect(log.length).toBeGreaterThanOrEqual(550);
    expect(await counters()).toEqual(truthOf(log, ids));
    // It resumed from its checkpoints: the new instance applied at most what the old one had
    // not (the fold ignores repeats, so a full replay would still add up; this catches it).
    const appliedByNew = sg.views.orders360.handle.stats().reduce((a, s) => a + s.appliedTotal, 0);
    expect(appliedByNew).toBeGreaterThanOrEqual(80);
    expect(appliedByNew).toBeLessThanOrEqual(log.length - beforeRestart);
    // Profiles survived the restart too.
    expect((await call<{ customer: Customer }>(CUSTOMER, { id: ids[0] }, as(ids[0], 'customer'))).data!.customer.name).toBe('Buyer 0');
  });
});

const isCancel = (e: OrdersEvent) => e.type === 'OrderStatusChanged' && e.payload.to === 'CANCELED';

/** orderEvents names customers `c-<n>`; these events belong to the registered customers instead. */
function forCustomers(events: OrdersEvent[], ids: readonly string[]): OrdersEvent[] {
  return events.map((e) => {
    const customerId = ids[Number(e.payload.customerId.slice(2))];
    const opts = { eventId: e.eventId, occurredAt: e.occurredAt };
    switch (e.type) {
      case 'OrderPlaced':
        return createEvent(ORDERS_TOPIC, 'OrderPlaced', { ...e.payload, customerId }, opts);
      case 'OrderStatusChanged':
        return createEvent(ORDERS_TOPIC, 'OrderStatusChanged', { ...e.payload, customerId }, opts);
      case 'OrderEtaUpdated':
        return createEvent(ORDERS_TOPIC, 'OrderEtaUpdated', { ...e.payload, customerId }, opts);
    }
  });
}

/**
 * The counters by their definition, computed without the projection: each order id counts
 * once; spend is the totals of orders placed minus those canceled; lastOrderAt the latest placement.
 */
function truthOf(events: readonly OrdersEvent[], ids: readonly string[]): Map<string, Counters> {
  const orders = new Map<string, { customerId: string; totalCents: number; at: string; canceled: boolean }>();
  for (const e of events) {
    const o = orders.get(e.payload.orderId);
    if (e.type === 'OrderPlaced') {
      if (!o) orders.set(e.payload.orderId, { customerId: e.payload.customerId, totalCents: e.payload.totalCents, at: e.occurredAt, canceled: false });
    } else if (o && e.type === 'OrderStatusChanged' && e.payload.to === 'CANCELED') {
      o.canceled = true;
    }
  }
  const out = new Map<string, Counters>(ids.map((id) => [id, { orderCount: 0, lifetimeSpendCents: 0, lastOrderAt: null }]));
  for (const o of orders.values()) {
    const c = out.get(o.customerId)!;
    c.orderCount++;
    if (!o.canceled) c.lifetimeSpendCents += o.totalCents;
    if (c.lastOrderAt === null || Date.parse(o.at) > Date.parse(c.lastOrderAt)) c.lastOrderAt = o.at;
  }
  return out;
}
