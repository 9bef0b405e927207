// The catalog subgraph against the real broker and Redis: read-your-writes, listings, search,
// inventory, who may do what, the live inventory feed, the SDL and Redis round trips.
import fs from 'node:fs';
import { parse, type ObjectTypeDefinitionNode } from 'graphql';
import type { Admin } from 'kafkajs';
import type { Pool } from 'pg';
import { CATALOG_INVENTORY_TOPIC, CATALOG_PRODUCTS_CDC_TOPIC, type TopicSpec } from '../schema/events';
import { startCatalogSubgraph, type CatalogHandle } from '../subgraphs/catalog';
import { CATALOG_SDL_PATH } from '../subgraphs/catalog/schema';
import { createLogger } from '../platform/logger';
import type { Identity } from '../platform/identity';
import { anonymous, as, collect, gql, TEST_IDENTITY_SECRET, wsClient, type GraphQLResult } from './support/graphqlClient';
import { catalogPool, productsTable } from './support/catalogDatabase';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

let cat: CatalogHandle;
let admin: Admin;
let namespace: string;
let db: Pool;
const adminUser = as('admin-1', 'admin');

beforeAll(async () => {
  namespace = await createNamespace('catalog');
  db = catalogPool();
  cat = await startCatalogSubgraph({
    namespace,
    identitySecret: TEST_IDENTITY_SECRET,
    port: 0,
    logger: createLogger('catalog-test', process.env.LOG_LEVEL ?? 'warn'),
  });
  admin = cat.runtime.kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await cat?.close();
  await db?.end();
});

const uniq = (label: string) => `${label}-${Math.random().toString(36).slice(2, 8)}`;

function ok<T>(r: GraphQLResult<T> & { status: number }): NonNullable<T> {
  expect(r.errors).toBeUndefined();
  expect(r.status).toBe(200);
  return r.data as NonNullable<T>;
}

function denied(r: GraphQLResult & { status: number }, code: string) {
  expect(r.errors?.map((e) => e.extensions?.code)).toEqual([code]);
  expect(r.data ?? null).toBeNull();
  return r.errors![0];
}

const PRODUCT = 'id name brand category priceCents';
const LEVEL = 'storeId productId quantity status version updatedAt';

const upsertProduct = (input: Record<string, unknown>, who: Identity = adminUser) =>
  gql(cat.url, `mutation($input: ProductInput!) { upsertProduct(input: $input) { ${PRODUCT} } }`, { input }, who);
const upsertStore = (id: string, name: string, who: Identity = adminUser) =>
  gql(cat.url, `mutation($input: StoreInput!) { upsertStore(input: $input) { id name } }`, { input: { id, name } }, who);
const report = (storeId: string, productId: string, quantity: number, who: Identity = adminUser) =>
  gql(
    cat.url,
    `mutation($s: ID!, $p: ID!, $q: Int!) { reportInventory(storeId: $s, productId: $p, quantity: $q) { ${LEVEL} product { id name } } }`,
    { s: storeId, p: productId, q: quantity },
    who,
  );
const productById = (id: string, storeId = 'none') =>
  gql(cat.url, `query($id: ID!, $s: ID!) { product(id: $id) { ${PRODUCT} availability(storeId: $s) { ${LEVEL} } } }`, { id, s: storeId });

interface ProductsPage {
  products: { edges: Array<{ cursor: string; node: { id: string; name: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}
const productsPage = (args: { first?: number; after?: string | null; category?: string; search?: string }) =>
  gql<ProductsPage>(
    cat.url,
    `query($first: Int, $after: String, $category: String, $search: String) {
       products(first: $first, after: $after, category: $category, search: $search) {
         edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }`,
    { first: 20, ...args },
  );

/** Every page of a listing; checks each page's endCursor is its last edge's cursor. */
async function allPages(args: { first: number; category?: string; search?: string }) {
  const pages: ProductsPage['products'][] = [];
  let after: string | null = null;
  for (;;) {
    const page: ProductsPage['products'] = ok(await productsPage({ ...args, after })).products;
    pages.push(page);
    if (page.edges.length) expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1].cursor);
    if (!page.pageInfo.hasNextPage) return pages;
    after = page.pageInfo.endCursor;
  }
}

/** The products table (the system of record) and its change topic so far: proves a refused mutation wrote nothing. */
async function productsWritten(): Promise<string> {
  const { rows } = await db.query<{ n: number; last: string | null }>(`SELECT count(*)::int AS n, max(updated_at)::text AS last FROM ${productsTable(namespace)}`);
  return `${rows[0].n} rows, last change ${rows[0].last}, ${await logEnd(CATALOG_PRODUCTS_CDC_TOPIC)} change records`;
}

/** Records on a catalog topic so far: proves a refused mutation wrote nothing. */
async function logEnd(topic: TopicSpec): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(cat.runtime.topic(topic));
  return offsets.reduce((sum, o) => sum + Number(o.high), 0);
}

describe('products', () => {
  it('returns an upserted product to the very next query (read-your-writes), and replaces it on the next upsert', async () => {
    const created = ok(await upsertProduct({ name: 'Honeycrisp Apple', brand: 'Orchard', category: 'Fruit', priceCents: 199 })).upsertProduct;
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok(await productById(created.id)).product).toMatchObject({
      id: created.id,
      name: 'Honeycrisp Apple',
      brand: 'Orchard',
      category: 'Fruit',
      priceCents: 199,
      availability: null,
    });

    ok(await upsertProduct({ id: created.id, name: 'Honeycrisp Apple', category: 'Fruit', priceCents: 249 }));
    expect(ok(await productById(created.id)).product).toMatchObject({ brand: null, priceCents: 249 });
    expect(ok(await productById('no-such-product')).product).toBeNull();
  });

  it('pages through a category in name order, case-insensitively, and keeps other categories out', async () => {
    const category = uniq('Pantry');
    const names = ['Rye bread', 'almond butter', 'Basmati rice', 'Zaatar', 'cocoa', 'Oat milk', 'Maple syrup'];
    const ids = names.map((_, i) => `${category}-${i}`);
    await Promise.all(names.map((name, i) => upsertProduct({ id: ids[i], name, category, priceCents: 100 + i }).then(ok)));
    const other = ok(await upsertProduct({ name: 'Aardvark crackers', category: uniq('Snacks'), priceCents: 1 })).upsertProduct;

    const pages = await allPages({ first: 3, category });
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    const listed = pages.flatMap((p) => p.edges.map((e) => e.node.name));
    expect(listed).toEqual(['almond butter', 'Basmati rice', 'cocoa', 'Maple syrup', 'Oat milk', 'Rye bread', 'Zaatar']);

    const shouted = ok(await productsPage({ first: 10, category: category.toUpperCase() })).products;
    expect(shouted.edges.map((e) => e.node.name)).toEqual(listed);

    // Without a category, the same products come in the same order, among the others.
    const everything = (await allPages({ first: 7 })).flatMap((p) => p.edges.map((e) => e.node.id));
    expect(everything.filter((id) => ids.includes(id))).toEqual(listed.map((n) => ids[names.indexOf(n)]));
    expect(everything).toContain(other.id);
    expect(new Set(everything).size).toBe(everything.length);
  });

  it('searches names by case-insensitive substring, within a category, page by page', async () => {
    const category = uniq('Search');
    const names = ['Pineapple chunks', 'Green APPLE', 'Apple pie', 'Banana', 'Crab apples'];
    await Promise.all(names.map((name) => upsertProduct({ name, category, priceCents: 1 }).then(ok)));
    const token = Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6).padEnd(6, 'q');
    ok(await upsertProduct({ name: `Zesty ${token.toUpperCase()} bar`, category: uniq('Other'), priceCents: 1 }));

    const apple = await allPages({ first: 2, category, search: 'aPPle' });
    expect(apple.flatMap((p) => p.edges.map((e) => e.node.name))).toEqual(['Apple pie', 'Crab apples', 'Green APPLE', 'Pineapple chunks']);
    expect(apple.map((p) => p.pageInfo.hasNextPage)).toEqual([true, false]);

    // Shorter than a trigram: a bounded scan of the category instead of a trigram index.
    const pp = ok(await productsPage({ category, search: 'PP' })).products;
    expect(pp.edges.map((e) => e.node.name)).toEqual(['Apple pie', 'Crab apples', 'Green APPLE', 'Pineapple chunks']);

    const byToken = ok(await productsPage({ search: `y ${token}` })).products;
    expect(byToken.edges.map((e) => e.node.name)).toEqual([`Zesty ${token.toUpperCase()} bar`]);
    expect(ok(await productsPage({ search: `${token}zz` })).products).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('refuses bad product input with the field at fault, and writes nothing', async () => {
    const before = await productsWritten();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: '  ', category: 'Fruit', priceCents: 1 }, 'input.name'],
      [{ name: 'Fig', category: 'Fruit', priceCents: -5 }, 'input.priceCents'],
      [{ name: 'Fig', category: '', priceCents: 5 }, 'input.category'],
      [{ id: '', name: 'Fig', category: 'Fruit', priceCents: 5 }, 'input.id'],
      // The table's text cannot hold U+0000: refused before the database is touched.
      [{ name: 'Fig\u0000', category: 'Fruit', priceCents: 5 }, 'input.name'],
    ];
    for (const [input, field] of cases) expect(denied(await upsertProduct(input), 'BAD_USER_INPUT').extensions?.field).toBe(field);
    expect(denied(await productsPage({ after: 'not-a-cursor' }), 'BAD_USER_INPUT').extensions?.field).toBe('after');
    expect(denied(await productsPage({ first: 101 }), 'BAD_USER_INPUT').extensions?.field).toBe('first');
    expect(await productsWritten()).toBe(before);
  });
});

describe('inventory', () => {
  let storeA: string;
  let storeB: string;
  let products: string[];

  beforeAll(async () => {
    storeA = uniq('store-a');
    storeB = uniq('store-b');
    ok(await upsertStore(storeA, 'A Street'));
    ok(await upsertStore(storeB, 'B Road'));
    products = await Promise.all(
      ['Eggs', 'Milk', 'Flour'].map(async (name) => ok(await upsertProduct({ name, category: 'Dairy', priceCents: 300 })).upsertProduct.id as string),
    );
  });

  const inventory = (storeId: string, args: { status?: string; first?: number; after?: string | null } = {}) =>
    gql(
      cat.url,
      `query($s: ID!, $status: StockStatus, $first: Int, $after: String) { store(id: $s) { id name
         inventory(status: $status, first: $first, after: $after) { edges { cursor node { productId quantity status } } pageInfo { hasNextPage endCursor } } } }`,
      { s: storeId, first: 50, ...args },
    );
  const productsIn = async (storeId: string, status?: string) =>
    ok(await inventory(storeId, { status })).store.inventory.edges.map((e: any) => e.node.productId).sort();

  it('reports stock as the store itself, then shows it as availability and in the store by status', async () => {
    const [eggs, milk, flour] = products;
    const level = ok(await report(storeA, eggs, 3, as(storeA, 'store'))).reportInventory;
    expect(level).toMatchObject({ storeId: storeA, productId: eggs, quantity: 3, status: 'LOW_STOCK', version: 1, product: { id: eggs, name: 'Eggs' } });
    expect(Date.parse(level.updatedAt)).not.toBeNaN();
    ok(await report(storeA, milk, 20));
    ok(await report(storeA, flour, 0));

    expect(ok(await productById(eggs, storeA)).product.availability).toMatchObject({ quantity: 3, status: 'LOW_STOCK', version: 1 });
    expect(ok(await productById(eggs, storeB)).product.availability).toBeNull();
    expect(ok(await inventory(storeA)).store.name).toBe('A Street');
    expect(await productsIn(storeA)).toEqual([eggs, milk, flour].sort());
    expect(await productsIn(storeA, 'LOW_STOCK')).toEqual([eggs]);
    expect(await productsIn(storeA, 'OUT_OF_STOCK')).toEqual([flour]);
    expect(await productsIn(storeA, 'IN_STOCK')).toEqual([milk]);

    // A change moves the level between status indexes and bumps its version.
    expect(ok(await report(storeA, eggs, 8, as(storeA, 'store'))).reportInventory).toMatchObject({ status: 'IN_STOCK', version: 2 });
    expect(await productsIn(storeA, 'LOW_STOCK')).toEqual([]);
    expect(await productsIn(storeA, 'IN_STOCK')).toEqual([eggs, milk].sort());
    expect(await productsIn(storeB)).toEqual([]);

    // Pages of a store's inventory join up without gaps or repeats.
    const first = ok(await inventory(storeA, { first: 2 })).store.inventory;
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.pageInfo.endCursor).toBe(first.edges[1].cursor);
    const second = ok(await inventory(storeA, { first: 2, after: first.pageInfo.endCursor })).store.inventory;
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect([...first.edges, ...second.edges].map((e: any) => e.node.productId).sort()).toEqual([eggs, milk, flour].sort());
    expect(ok(await gql<Record<string, any>>(cat.url, `{ store(id: "no-such-store") { id } }`)).store).toBeNull();
  });

  it("refuses a customer's upsertProduct and another store's report with FORBIDDEN, anonymous ones with UNAUTHENTICATED, writing nothing", async () => {
    const [eggs] = products;
    const productsBefore = await productsWritten();
    const inventoryBefore = await logEnd(CATALOG_INVENTORY_TOPIC);
    const id = uniq('p-denied');

    const e1 = denied(await upsertProduct({ id, name: 'Contraband', category: 'X', priceCents: 1 }, as('c-1', 'customer')), 'FORBIDDEN');
    expect(e1.message).not.toContain(id);
    denied(await upsertProduct({ id, name: 'Contraband', category: 'X', priceCents: 1 }, anonymous), 'UNAUTHENTICATED');
    denied(await upsertStore(uniq('s'), 'Mine', as(storeA, 'store')), 'FORBIDDEN');
    const e2 = denied(await report(storeB, eggs, 1, as(storeA, 'store')), 'FORBIDDEN');
    expect(e2.message).not.toContain(storeB);
    // Denied before anything is looked up: an unknown product does not turn it into NOT_FOUND.
    denied(await report(storeB, 'no-such-product', 1, as(storeA, 'store')), 'FORBIDDEN');
    denied(await report(storeA, eggs, 1, as(storeA, 'customer')), 'FORBIDDEN');
    denied(await report(storeA, eggs, 1, anonymous), 'UNAUTHENTICATED');

    expect(ok(await productById(id)).product).toBeNull();
    expect(await productsWritten()).toBe(productsBefore);
    expect(await logEnd(CATALOG_INVENTORY_TOPIC)).toBe(inventoryBefore);
  });

  it('answers NOT_FOUND for an unknown product or store', async () => {
    const e = denied(await report(storeA, 'no-such-product', 1, as(storeA, 'store')), 'NOT_FOUND');
    expect(e.extensions?.id).toBe('no-such-product');
    denied(await report('no-such-store', products[0], 1), 'NOT_FOUND');
  });

  it('refuses text with a lone UTF-16 surrogate and over-long fields in every mutation, naming the field, writing nothing', async () => {
    const [eggs] = products;
    const productsBefore = await productsWritten();
    const inventoryBefore = await logEnd(CATALOG_INVENTORY_TOPIC);
    // JSON.stringify sends each lone surrogate as the escape "\ud800", which JSON.parse accepts.
    const cases: Array<[GraphQLResult & { status: number }, string, string]> = [
      [await upsertProduct({ name: 'Fig \ud800', category: 'Fruit', priceCents: 5 }), 'input.name', 'input.name is not valid text: it holds a lone UTF-16 surrogate'],
      [await upsertProduct({ name: 'Fig', brand: '\udc00', category: 'Fruit', priceCents: 5 }), 'input.brand', 'input.brand is not valid text: it holds a lone UTF-16 surrogate'],
      [await upsertProduct({ id: 'p-\ud800', name: 'Fig', category: 'Fruit', priceCents: 5 }), 'input.id', 'input.id is not valid text: it holds a lone UTF-16 surrogate'],
      [await upsertProduct({ name: 'F'.repeat(301), category: 'Fruit', priceCents: 5 }), 'input.name', 'input.name must be at most 300 characters'],
      [await upsertStore(storeA, 'A Street \ud800'), 'input.name', 'input.name is not valid text: it holds a lone UTF-16 surrogate'],
      [await upsertStore('s'.repeat(129), 'Long'), 'input.id', 'input.id must be 1 to 128 characters'],
      [await report(`${storeA}\ud800`, eggs, 1), 'storeId', 'storeId is not valid text: it holds a lone UTF-16 surrogate'],
      [await report(storeA, `\ud800${eggs}`, 1, as(storeA, 'store')), 'productId', 'productId is not valid text: it holds a lone UTF-16 surrogate'],
    ];
    for (const [res, field, message] of cases) {
      const e = denied(res, 'BAD_USER_INPUT');
      expect({ field: e.extensions?.field, message: e.message }).toEqual({ field, message });
    }
    expect(await productsWritten()).toBe(productsBefore);
    expect(await logEnd(CATALOG_INVENTORY_TOPIC)).toBe(inventoryBefore);
    expect(ok(await inventory(storeA)).store.name).toBe('A Street');
  });

  it('refuses a negative quantity with BAD_USER_INPUT and leaves the view and the log as they were', async () => {
    const [, milk] = products;
    const before = ok(await productById(milk, storeA)).product.availability;
    const logBefore = await logEnd(CATALOG_INVENTORY_TOPIC);
    const e = denied(await report(storeA, milk, -1, as(storeA, 'store')), 'BAD_USER_INPUT');
    expect(e.extensions?.field).toBe('quantity');
    expect(await logEnd(CATALOG_INVENTORY_TOPIC)).toBe(logBefore);
    expect(ok(await productById(milk, storeA)).product.availability).toEqual(before);
    expect(before).toMatchObject({ quantity: 20 });
  });
});

describe('inventoryChanged', () => {
  it('sends the current levels first, then only the subscribed store and products, in version order', async () => {
    const s = uniq('sub-s');
    const t = uniq('sub-t');
    ok(await upsertStore(s, 'Subscribed'));
    ok(await upsertStore(t, 'Other store'));
    const [p1, p2, p3] = await Promise.all(
      ['Tea', 'Coffee', 'Cocoa'].map(async (name) => ok(await upsertProduct({ name, category: 'Drinks', priceCents: 1 })).upsertProduct.id as string),
    );
    ok(await report(s, p1, 10));
    ok(await report(s, p3, 7));

    const client = wsClient(cat.wsUrl, anonymous);
    try {
      const some = collect(
        client,
        `subscription($s: ID!, $p: [ID!]) { inventoryChanged(storeId: $s, productIds: $p) { storeId productId quantity status version product { name } } }`,
        { s, p: [p1, p2] },
      );
      const whole = collect(client, `subscription($s: ID!) { inventoryChanged(storeId: $s) { productId quantity version } }`, { s });
      await waitFor(() => some.received.length === 1 && whole.received.length === 2, { what: 'the current state' });
      expect(some.received[0].data?.inventoryChanged).toEqual({ storeId: s, productId: p1, quantity: 10, status: 'IN_STOCK', version: 1, product: { name: 'Tea' } });
      const current = whole.received.map((r) => r.data?.inventoryChanged);
      expect(current).toEqual(expect.arrayContaining([{ productId: p1, quantity: 10, version: 1 }, { productId: p3, quantity: 7, version: 1 }]));

      ok(await report(t, p1, 4)); // another store
      ok(await report(s, p3, 2)); // another product
      ok(await report(s, p1, 4));
      ok(await report(s, p2, 0));
      ok(await upsertProduct({ id: p1, name: 'Green tea', category: 'Drinks', priceCents: 1 }));
      ok(await report(s, p1, 9));
      await waitFor(() => some.received.length >= 4 && whole.received.length >= 6, { what: 'the changes' });

      const summary = (r: GraphQLResult) => {
        const l = r.data?.inventoryChanged;
        return [l.productId, l.quantity, l.version];
      };
      expect(some.received.map(summary)).toEqual([
        [p1, 10, 1],
        [p1, 4, 2],
        [p2, 0, 1],
        [p1, 9, 3],
      ]);
      expect(some.received.every((r) => r.data?.inventoryChanged.storeId === s)).toBe(true);
      // Each event resolves the product afresh: the rename shows in the last one.
      expect(some.received[3].data?.inventoryChanged.product).toEqual({ name: 'Green tea' });
      expect(whole.received.slice(2).map(summary)).toEqual([
        [p3, 2, 2],
        [p1, 4, 2],
        [p2, 0, 1],
        [p1, 9, 3],
      ]);
      expect(some.error()).toBeUndefined();

      // Unsubscribing frees the listeners at once, without waiting for the store's next change.
      some.dispose();
      whole.dispose();
      await waitFor(() => cat.views.inventory.notices.listeners() === 0, { what: 'listeners released', timeoutMs: 10_000 });
    } finally {
      await client.dispose();
    }
  });
});

describe('the subgraph', () => {
  it('refuses a call without the gateway identity with HTTP 401', async () => {
    const r = await gql(cat.url, '{ products { edges { cursor } } }', {}, null);
    expect(r.status).toBe(401);
    expect(r.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const forged = await gql(cat.url, '{ products { edges { cursor } } }', {}, adminUser, 'another-secret-0123456789');
    expect(forged.status).toBe(401);
  });

  it('serves its SDL with every type and field of schema/catalog.graphql', async () => {
    const served = ok(await gql<{ _service: { sdl: string } }>(cat.url, '{ _service { sdl } }'))._service.sdl;
    expect(served).toMatch(/type Product\s+@key\(fields: "id"\)/);
    expect(served).toMatch(/type Store\s+@key\(fields: "id"\)/);
    expect(served).toMatch(/type PageInfo\s+@shareable/);
    const fieldsOf = (text: string) =>
      parse(text)
        .definitions.filter((d): d is ObjectTypeDefinitionNode => d.kind === 'ObjectTypeDefinition')
        .flatMap((d) => (d.fields ?? []).map((f) => `${d.name.value}.${f.name.value}(${(f.arguments ?? []).map((a) => a.name.value).join(',')})`));
    expect(fieldsOf(served)).toEqual(expect.arrayContaining(fieldsOf(fs.readFileSync(CATALOG_SDL_PATH, 'utf8'))));
    expect(fieldsOf(fs.readFileSync(CATALOG_SDL_PATH, 'utf8'))).toEqual(
      expect.arrayContaining(['Subscription.inventoryChanged(storeId,productIds)', 'Mutation.reportInventory(storeId,productId,quantity)']),
    );
  });

  it('reads 50 products with their availability in at most 4 Redis round trips, and batches entity fetches', async () => {
    const category = uniq('Bulk');
    const storeId = uniq('bulk-store');
    ok(await upsertStore(storeId, 'Bulk store'));
    const ids = Array.from({ length: 50 }, (_, i) => `${category}-${i}`);
    await Promise.all(ids.map((id, i) => upsertProduct({ id, name: `Bulk item ${i}`, category, priceCents: i }).then(ok)));
    await Promise.all(ids.map((id, i) => report(storeId, id, i).then(ok)));

    const trips = () => cat.views.products.reader.roundTrips() + cat.views.inventory.reader.roundTrips();
    let before = trips();
    const page = ok(
      await gql<Record<string, any>>(
        cat.url,
        `query($c: String, $s: ID!) { products(first: 50, category: $c) { edges { node { id availability(storeId: $s) { quantity } } } } }`,
        { c: category, s: storeId },
      ),
    ).products;
    const used = trips() - before;
    expect(page.edges).toHaveLength(50);
    for (const e of page.edges) expect(e.node.availability.quantity).toBe(ids.indexOf(e.node.id));
    expect(used).toBeLessThanOrEqual(4);

    before = trips();
    const representations = [...ids.map((id) => ({ __typename: 'Product', id })), { __typename: 'Store', id: storeId }];
    const entities = ok(
      await gql<Record<string, any>>(cat.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name } ... on Store { id name } } }`, {
        r: representations,
      }),
    )._entities;
    expect(entities.map((e: any) => e.id)).toEqual(representations.map((r) => r.id));
    expect(entities[50]).toEqual({ id: storeId, name: 'Bulk store' });
    expect(trips() - before).toBeLessThanOrEqual(2);
  });
});
