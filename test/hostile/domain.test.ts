// Domain inputs at their edges, through the gateway process with real tokens: orders for stores
// that do not exist, text holding lone UTF-16 surrogates (sent as the raw JSON escape "\ud800"),
// over-long names and ids, quantities and prices at and past their bounds, lists of items far
// too long. Each refusal must be the caller's error (NOT_FOUND or BAD_USER_INPUT naming the
// field), never an internal one, and the gateway stays alive.
import { waitFor } from '../support/waitFor';
import { expectAlive, expectRefusal, post, startHostileStack, token, type HostileStack } from './harness';

let stack: HostileStack;
const gw = () => stack.gateway();
const admin = () => token('hostile-admin-1', 'admin');
const customer = () => token('hostile-customer-1', 'customer');
const STORE = 'hostile-store-1';
const PRODUCT = 'hostile-product-1';
const LONE = '\ud800'; // JSON.stringify sends it as the escape "\ud800": valid JSON, invalid text

const call = (query: string, variables: Record<string, unknown>, bearer: string | null) =>
  post(gw(), { query, variables }, bearer ? { authorization: `Bearer ${bearer}` } : {});

const PLACE_ORDER = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id totalCents } }`;
const REGISTER = `mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id name } }`;
const UPDATE_CUSTOMER = `mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id name } }`;
const UPSERT_PRODUCT = `mutation($input: ProductInput!) { upsertProduct(input: $input) { id name } }`;
const UPSERT_STORE = `mutation($input: StoreInput!) { upsertStore(input: $input) { id name } }`;
const REPORT = `mutation($storeId: ID!, $productId: ID!, $quantity: Int!) { reportInventory(storeId: $storeId, productId: $productId, quantity: $quantity) { quantity } }`;

beforeAll(async () => {
  stack = await startHostileStack('hostile-domain');
  const store = await call(UPSERT_STORE, { input: { id: STORE, name: 'Hostile corner' } }, admin());
  expect(store.json.errors).toBeUndefined();
  const product = await call(UPSERT_PRODUCT, { input: { id: PRODUCT, name: 'Oat milk', category: 'dairy', priceCents: 250 } }, admin());
  expect(product.json.errors).toBeUndefined();
  // Stock to reserve from: without a report the store holds none, its reservations come back
  // short, and the orders subgraph then refuses the product as out of stock.
  const stock = await call(REPORT, { storeId: STORE, productId: PRODUCT, quantity: 100_000 }, admin());
  expect(stock.json.errors).toBeUndefined();
  // The orders subgraph learns prices from the catalog's events: wait until it knows this one,
  // so that refusals below are about the input under test, not an unknown product.
  await waitFor(
    async () => {
      const r = await call(PLACE_ORDER, { input: { storeId: STORE, items: [{ productId: PRODUCT, quantity: 1 }] } }, customer());
      return r.json?.data?.placeOrder ? r : null;
    },
    { what: 'the orders view to know the product', timeoutMs: 60_000, intervalMs: 200 },
  );
});
beforeEach(async () => {
  await stack?.ensureGateway();
});
afterAll(async () => {
  await stack?.stop();
});

const item = (quantity: unknown, productId: string = PRODUCT) => ({ productId, quantity });

describe('placeOrder', () => {
  it('a valid order is placed (the control)', async () => {
    const r = await call(PLACE_ORDER, { input: { storeId: STORE, items: [item(2)] } }, customer());
    expect({ status: r.status, errors: r.json.errors }).toEqual({ status: 200, errors: undefined });
    expect(r.json.data.placeOrder.totalCents).toBe(500);
    await expectAlive(gw());
  });

  it('a store that does not exist -> NOT_FOUND', async () => {
    const r = await call(PLACE_ORDER, { input: { storeId: 'hostile-no-such-store', items: [item(1)] } }, customer());
    expectRefusal(r, 200, 'NOT_FOUND');
    expect(r.json.data).toBeNull();
    await expectAlive(gw());
  });

  it.each<[string, number, Record<string, unknown>, RegExp]>([
    ['quantity 0', 200, { storeId: STORE, items: [item(0)] }, /quantity/],
    ['a negative quantity', 200, { storeId: STORE, items: [item(-1)] }, /quantity/],
    ['quantity 2^31 - 1', 200, { storeId: STORE, items: [item(2 ** 31 - 1)] }, /quantity/],
    ['quantity 2^31 (not an Int)', 400, { storeId: STORE, items: [item(2 ** 31)] }, /quantity|Int/],
    ['quantity 1.5 (not an Int)', 400, { storeId: STORE, items: [item(1.5)] }, /quantity|Int/],
    ['quantity "1" (a string)', 400, { storeId: STORE, items: [item('1')] }, /quantity|Int/],
    ['no items', 200, { storeId: STORE, items: [] }, /item/],
    ['201 items', 200, { storeId: STORE, items: Array.from({ length: 201 }, () => item(1)) }, /item/],
    ['2,500 items', 200, { storeId: STORE, items: Array.from({ length: 2500 }, () => item(1, 'p')) }, /item/],
    ['an empty storeId', 200, { storeId: '', items: [item(1)] }, /storeId/],
    ['a storeId with a lone surrogate', 200, { storeId: `s${LONE}`, items: [item(1)] }, /storeId/],
    ['a productId with a lone surrogate', 200, { storeId: STORE, items: [item(1, `p${LONE}`)] }, /productId/],
  ])('%s -> %i BAD_USER_INPUT', async (_label, status, input, names) => {
    const r = await call(PLACE_ORDER, { input }, customer());
    expectRefusal(r, status, 'BAD_USER_INPUT');
    expect(r.message).toMatch(names);
    await expectAlive(gw());
  });
});

describe('registerCustomer and updateCustomer', () => {
  it.each<[string, number, Record<string, unknown>, RegExp]>([
    ['a name of 201 characters', 200, { name: 'n'.repeat(201), email: 'a@example.com' }, /name/],
    ['a name of 50,000 characters', 200, { name: 'n'.repeat(50_000), email: 'a@example.com' }, /name/],
    ['a blank name', 200, { name: '   ', email: 'a@example.com' }, /name/],
    ['a name with a lone surrogate', 200, { name: `Ada${LONE}`, email: 'a@example.com' }, /name/],
    ['an email with a lone surrogate', 200, { name: 'Ada', email: `a${LONE}@example.com` }, /email/],
    ['an email of 10,000 characters', 200, { name: 'Ada', email: `${'a'.repeat(10_000)}@example.com` }, /email/],
    ['an unknown tier', 400, { name: 'Ada', email: 'a@example.com', tier: 'GOLD' }, /tier|CustomerTier/],
  ])('registerCustomer with %s -> %i BAD_USER_INPUT', async (_label, status, input, names) => {
    const r = await call(REGISTER, { input }, null);
    expectRefusal(r, status, 'BAD_USER_INPUT');
    expect(r.message).toMatch(names);
    await expectAlive(gw());
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a name of 201 characters', { name: 'n'.repeat(201) }, /name/],
    ['a name with a lone surrogate', { name: `Ada${LONE}` }, /name/],
  ])('updateCustomer with %s -> BAD_USER_INPUT', async (_label, input, names) => {
    const r = await call(UPDATE_CUSTOMER, { id: 'hostile-customer-1', input }, admin());
    expectRefusal(r, 200, 'BAD_USER_INPUT');
    expect(r.message).toMatch(names);
    await expectAlive(gw());
  });
});

describe('upsertProduct, upsertStore and reportInventory', () => {
  const product = (over: Record<string, unknown>) => ({ input: { name: 'Oat milk', category: 'dairy', priceCents: 199, ...over } });
  it.each<[string, number, string, Record<string, unknown>, RegExp]>([
    ['a product name of 301 characters', 200, UPSERT_PRODUCT, product({ name: 'n'.repeat(301) }), /name/],
    ['a product name of 50,000 characters', 200, UPSERT_PRODUCT, product({ name: 'n'.repeat(50_000) }), /name/],
    ['a product name with a lone surrogate', 200, UPSERT_PRODUCT, product({ name: `Oat${LONE}` }), /name/],
    ['a category with a lone surrogate', 200, UPSERT_PRODUCT, product({ category: `dairy${LONE}` }), /category/],
    ['a product id of 129 characters', 200, UPSERT_PRODUCT, product({ id: 'i'.repeat(129) }), /id/],
    ['a product id with a lone surrogate', 200, UPSERT_PRODUCT, product({ id: `p${LONE}` }), /id/],
    ['a negative price', 200, UPSERT_PRODUCT, product({ priceCents: -1 }), /priceCents/],
    ['a price of 2^31 (not an Int)', 400, UPSERT_PRODUCT, product({ priceCents: 2 ** 31 }), /priceCents|Int/],
    ['a store name with a lone surrogate', 200, UPSERT_STORE, { input: { name: `Corner${LONE}` } }, /name/],
    ['a store name of 201 characters', 200, UPSERT_STORE, { input: { name: 'n'.repeat(201) } }, /name/],
    ['a negative stock quantity', 200, REPORT, { storeId: STORE, productId: PRODUCT, quantity: -1 }, /quantity/],
    ['a stock quantity of 10,000,001', 200, REPORT, { storeId: STORE, productId: PRODUCT, quantity: 10_000_001 }, /quantity/],
    ['a stock quantity of 2^31 (not an Int)', 400, REPORT, { storeId: STORE, productId: PRODUCT, quantity: 2 ** 31 }, /quantity|Int/],
    ['a storeId with a lone surrogate', 200, REPORT, { storeId: `s${LONE}`, productId: PRODUCT, quantity: 1 }, /storeId/],
  ])('%s -> %i BAD_USER_INPUT', async (_label, status, mutation, variables, names) => {
    const r = await call(mutation, variables, admin());
    expectRefusal(r, status, 'BAD_USER_INPUT');
    expect(r.message).toMatch(names);
    await expectAlive(gw());
  });
});
