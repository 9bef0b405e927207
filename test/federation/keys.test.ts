// Federation @key behaviour through the gateway: single, compound and nested keys, and one type
// with several keys reached from subgraphs that each know it by a different one.
import { closeAll, federation, startFederation, startFixtureSubgraph, type Federation, type FixtureSubgraph } from './fixtures';

const PRODUCTS = [
  { upc: 'p1', name: 'Table', variants: ['S', 'M'], placements: [{ sku: 'p1-S', bin: { warehouse: 'north', aisle: 1 } }] },
  { upc: 'p2', name: 'Couch', variants: ['S'], placements: [{ sku: 'p1-S', bin: { warehouse: 'north', aisle: 2 } }, { sku: 'p2-S', bin: { warehouse: 'south', aisle: 1 } }] },
];
const REVIEWS = [
  { upc: 'p1', body: 'sturdy' },
  { upc: 'p1', body: 'heavy' },
  { upc: 'p2', body: 'comfy' },
];
// Sizes repeat across products: only the whole compound key (productUpc, sku) names a variant.
const STOCK: Record<string, number> = { 'p1|S': 4, 'p1|M': 0, 'p2|S': 7 };
// The same sku sits in two aisles: only the whole nested key (sku, bin { warehouse aisle }) names a placement.
const QUANTITY: Record<string, number> = { 'p1-S|north|1': 11, 'p1-S|north|2': 22, 'p2-S|south|1': 33 };
const USERS = [
  { id: 'u1', email: 'ada@example.com', name: 'Ada' },
  { id: 'u2', email: 'bob@example.com', name: 'Bob' },
  { id: 'u3', email: 'cy@example.com', name: 'Cy' },
];
const SUBSCRIBED: Record<string, string> = { 'ada@example.com': '2024-01-01', 'cy@example.com': '2024-03-03' };
const PLANS: Record<string, string> = { u1: 'free', u2: 'pro', u3: 'team' };

type Ref = Record<string, any>;

let products: FixtureSubgraph;
let reviews: FixtureSubgraph;
let inventory: FixtureSubgraph;
let warehouse: FixtureSubgraph;
let accounts: FixtureSubgraph;
let newsletter: FixtureSubgraph;
let billing: FixtureSubgraph;
let fed: Federation;

beforeAll(async () => {
  products = await startFixtureSubgraph(
    'products',
    /* GraphQL */ `
      ${federation('@key', '@shareable')}
      type Query { products: [Product!]! }
      type Product @key(fields: "upc") { upc: ID! name: String! variants: [Variant!]! placements: [Placement!]! }
      type Variant @key(fields: "productUpc sku") { productUpc: ID! sku: String! }
      type Placement @key(fields: "sku bin { warehouse aisle }") { sku: String! bin: Bin! }
      type Bin @shareable { warehouse: String! aisle: Int! }
    `,
    {
      Query: { products: () => PRODUCTS },
      Product: {
        __resolveReference: (ref: Ref) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null,
        variants: (p: (typeof PRODUCTS)[number]) => p.variants.map((sku) => ({ productUpc: p.upc, sku })),
      },
    },
  );
  reviews = await startFixtureSubgraph(
    'reviews',
    /* GraphQL */ `
      ${federation('@key')}
      type Product @key(fields: "upc") { upc: ID! reviews: [Review!]! }
      type Review { body: String! }
    `,
    {
      Product: {
        __resolveReference: (ref: Ref) => ({ upc: ref.upc }),
        reviews: (p: Ref) => REVIEWS.filter((r) => r.upc === p.upc),
      },
    },
  );
  inventory = await startFixtureSubgraph(
    'inventory',
    /* GraphQL */ `
      ${federation('@key')}
      type Variant @key(fields: "productUpc sku") { productUpc: ID! sku: String! stock: Int! }
    `,
    {
      Variant: {
        __resolveReference: (ref: Ref) => ({ ...ref, stock: STOCK[`${ref.productUpc}|${ref.sku}`] }),
      },
    },
  );
  warehouse = await startFixtureSubgraph(
    'warehouse',
    /* GraphQL */ `
      ${federation('@key', '@shareable')}
      type Placement @key(fields: "sku bin { warehouse aisle }") { sku: String! bin: Bin! quantity: Int! }
      type Bin @shareable { warehouse: String! aisle: Int! }
    `,
    {
      Placement: {
        __resolveReference: (ref: Ref) => ({ ...ref, quantity: QUANTITY[`${ref.sku}|${ref.bin.warehouse}|${ref.bin.aisle}`] }),
      },
    },
  );
  accounts = await startFixtureSubgraph(
    'accounts',
    /* GraphQL */ `
      ${federation('@key')}
      type User @key(fields: "id") @key(fields: "email") { id: ID! email: String! name: String! }
    `,
    {
      User: {
        __resolveReference: (ref: Ref) => USERS.find((u) => (ref.id !== undefined ? u.id === ref.id : u.email === ref.email)) ?? null,
      },
    },
  );
  newsletter = await startFixtureSubgraph(
    'newsletter',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { subscribers: [User!]! }
      type User @key(fields: "email") { email: String! subscribedSince: String }
    `,
    {
      Query: { subscribers: () => Object.entries(SUBSCRIBED).map(([email, subscribedSince]) => ({ email, subscribedSince })) },
      User: { __resolveReference: (ref: Ref) => ({ email: ref.email, subscribedSince: SUBSCRIBED[ref.email] ?? null }) },
    },
  );
  billing = await startFixtureSubgraph(
    'billing',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { payingUsers: [User!]! }
      type User @key(fields: "id") { id: ID! plan: String! }
    `,
    {
      Query: { payingUsers: () => ['u2', 'u3'].map((id) => ({ id, plan: PLANS[id] })) },
      User: { __resolveReference: (ref: Ref) => ({ id: ref.id, plan: PLANS[ref.id] }) },
    },
  );
  fed = await startFederation([products, reviews, inventory, warehouse, accounts, newsletter, billing]);
});

afterAll(async () => {
  await closeAll(fed, products, reviews, inventory, warehouse, accounts, newsletter, billing);
});

beforeEach(() => {
  for (const f of [products, reviews, inventory, warehouse, accounts, newsletter, billing]) f.resetCalls();
});

describe('a single @key', () => {
  it('joins fields of two subgraphs on the key, sending only __typename and the key', async () => {
    const res = await fed.query(`{ products { upc name reviews { body } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', name: 'Table', reviews: [{ body: 'sturdy' }, { body: 'heavy' }] },
        { upc: 'p2', name: 'Couch', reviews: [{ body: 'comfy' }] },
      ],
    });
    expect(reviews.entityCalls()).toEqual([
      [
        { __typename: 'Product', upc: 'p1' },
        { __typename: 'Product', upc: 'p2' },
      ],
    ]);
  });

  it('does not call the other subgraph when no field of it is selected', async () => {
    const res = await fed.query(`{ products { upc name } }`);
    expect(res.data).toEqual({ products: [{ upc: 'p1', name: 'Table' }, { upc: 'p2', name: 'Couch' }] });
    expect(reviews.calls).toHaveLength(0);
  });
});

describe('a compound @key', () => {
  it('sends every field of the key, so entities that share one key field stay apart', async () => {
    const res = await fed.query(`{ products { upc variants { sku stock } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', variants: [{ sku: 'S', stock: 4 }, { sku: 'M', stock: 0 }] },
        { upc: 'p2', variants: [{ sku: 'S', stock: 7 }] },
      ],
    });
    expect(inventory.entityCalls()).toEqual([
      [
        { __typename: 'Variant', productUpc: 'p1', sku: 'S' },
        { __typename: 'Variant', productUpc: 'p1', sku: 'M' },
        { __typename: 'Variant', productUpc: 'p2', sku: 'S' },
      ],
    ]);
  });
});

describe('a nested @key', () => {
  it('sends the nested selection of the key as an object in the representation', async () => {
    const res = await fed.query(`{ products { upc placements { sku bin { warehouse aisle } quantity } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', placements: [{ sku: 'p1-S', bin: { warehouse: 'north', aisle: 1 }, quantity: 11 }] },
        {
          upc: 'p2',
          placements: [
            { sku: 'p1-S', bin: { warehouse: 'north', aisle: 2 }, quantity: 22 },
            { sku: 'p2-S', bin: { warehouse: 'south', aisle: 1 }, quantity: 33 },
          ],
        },
      ],
    });
    expect(warehouse.entityCalls()).toEqual([
      [
        { __typename: 'Placement', sku: 'p1-S', bin: { warehouse: 'north', aisle: 1 } },
        { __typename: 'Placement', sku: 'p1-S', bin: { warehouse: 'north', aisle: 2 } },
        { __typename: 'Placement', sku: 'p2-S', bin: { warehouse: 'south', aisle: 1 } },
      ],
    ]);
  });

  it('fetches the nested key fields the client did not select, and leaves them out of the response', async () => {
    const res = await fed.query(`{ products { placements { quantity } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ products: [{ placements: [{ quantity: 11 }] }, { placements: [{ quantity: 22 }, { quantity: 33 }] }] });
  });
});

describe('several @keys on one type', () => {
  it('enters the owner by the key the first subgraph knows (email), then a third by the other key (id)', async () => {
    const res = await fed.query(`{ subscribers { email name plan subscribedSince } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      subscribers: [
        { email: 'ada@example.com', name: 'Ada', plan: 'free', subscribedSince: '2024-01-01' },
        { email: 'cy@example.com', name: 'Cy', plan: 'team', subscribedSince: '2024-03-03' },
      ],
    });
    expect(accounts.entityCalls()).toEqual([
      [
        { __typename: 'User', email: 'ada@example.com' },
        { __typename: 'User', email: 'cy@example.com' },
      ],
    ]);
    expect(billing.entityCalls()).toEqual([
      [
        { __typename: 'User', id: 'u1' },
        { __typename: 'User', id: 'u3' },
      ],
    ]);
  });

  it('goes the other way: from a subgraph keyed by id to one keyed by email', async () => {
    const res = await fed.query(`{ payingUsers { id plan name subscribedSince } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      payingUsers: [
        { id: 'u2', plan: 'pro', name: 'Bob', subscribedSince: null },
        { id: 'u3', plan: 'team', name: 'Cy', subscribedSince: '2024-03-03' },
      ],
    });
    expect(accounts.entityCalls()).toEqual([
      [
        { __typename: 'User', id: 'u2' },
        { __typename: 'User', id: 'u3' },
      ],
    ]);
    expect(newsletter.entityCalls()).toEqual([
      [
        { __typename: 'User', email: 'bob@example.com' },
        { __typename: 'User', email: 'cy@example.com' },
      ],
    ]);
  });
});
