// Federation field directives through the gateway: @requires with @external (flat and nested),
// @provides, @shareable (entity fields and value types) and @override.
import { closeAll, federation, startFederation, startFixtureSubgraph, type Federation, type FixtureSubgraph } from './fixtures';

const PRODUCTS = [
  { upc: 'p1', name: 'Table', weight: 30, dimensions: { width: 10, height: 4 }, price: { amount: 899, currency: 'EUR' }, staleStock: true },
  { upc: 'p2', name: 'Couch', weight: 55, dimensions: { width: 20, height: 8 }, price: { amount: 1299, currency: 'EUR' }, staleStock: true },
];
const USERS = [
  { id: 'u1', username: 'ada', email: 'ada@example.com' },
  { id: 'u2', username: 'bob', email: 'bob@example.com' },
];
const REVIEWS = [
  { id: 'r1', body: 'sturdy', authorId: 'u1' },
  { id: 'r2', body: 'comfy', authorId: 'u2' },
];
/** The inventory subgraph's truth; the products subgraph's `staleStock` says the opposite. */
const IN_STOCK: Record<string, boolean> = { p1: false, p2: true };
const SEARCH_INDEX = [{ upc: 'p2', name: 'Couch' }];

type Ref = Record<string, any>;

let products: FixtureSubgraph;
let shipping: FixtureSubgraph;
let accounts: FixtureSubgraph;
let reviews: FixtureSubgraph;
let search: FixtureSubgraph;
let inventory: FixtureSubgraph;
let fed: Federation;
/** Calls of the products subgraph's own `inStock` resolver, which @override must make dead code. */
let overriddenResolverCalls = 0;

beforeAll(async () => {
  products = await startFixtureSubgraph(
    'products',
    /* GraphQL */ `
      ${federation('@key', '@shareable')}
      type Query { products: [Product!]! }
      type Product @key(fields: "upc") {
        upc: ID!
        name: String! @shareable
        weight: Int!
        dimensions: Dimensions!
        price: Money!
        inStock: Boolean!
      }
      type Dimensions @shareable { width: Int! height: Int! }
      type Money @shareable { amount: Int! currency: String! }
    `,
    {
      Query: { products: () => PRODUCTS },
      Product: {
        __resolveReference: (ref: Ref) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null,
        inStock: (p: (typeof PRODUCTS)[number]) => {
          overriddenResolverCalls++;
          return p.staleStock;
        },
      },
    },
  );
  shipping = await startFixtureSubgraph(
    'shipping',
    /* GraphQL */ `
      ${federation('@key', '@external', '@requires', '@shareable')}
      type Product @key(fields: "upc") {
        upc: ID!
        weight: Int! @external
        dimensions: Dimensions! @external
        shippingCost: Money! @requires(fields: "weight")
        packageArea: Int! @requires(fields: "dimensions { width height }")
      }
      type Dimensions @shareable { width: Int! height: Int! }
      type Money @shareable { amount: Int! currency: String! }
    `,
    {
      Product: {
        // The gateway must have put the @requires fields into the representation.
        __resolveReference: (ref: Ref) => ref,
        shippingCost: (ref: Ref) => {
          if (typeof ref.weight !== 'number') throw new Error(`weight missing from the representation: ${JSON.stringify(ref)}`);
          return { amount: ref.weight * 2, currency: 'EUR' };
        },
        packageArea: (ref: Ref) => {
          if (!ref.dimensions) throw new Error(`dimensions missing from the representation: ${JSON.stringify(ref)}`);
          return ref.dimensions.width * ref.dimensions.height;
        },
      },
    },
  );
  accounts = await startFixtureSubgraph(
    'accounts',
    /* GraphQL */ `
      ${federation('@key', '@shareable')}
      type User @key(fields: "id") { id: ID! username: String! @shareable email: String! }
    `,
    { User: { __resolveReference: (ref: Ref) => USERS.find((u) => u.id === ref.id) ?? null } },
  );
  reviews = await startFixtureSubgraph(
    'reviews',
    /* GraphQL */ `
      ${federation('@key', '@external', '@provides')}
      type Query { reviews: [Review!]! }
      type Review { id: ID! body: String! author: User! @provides(fields: "username") }
      type User @key(fields: "id") { id: ID! username: String! @external }
    `,
    {
      Query: { reviews: () => REVIEWS },
      Review: {
        // This subgraph stores the author's username with the review: it can provide it.
        author: (r: (typeof REVIEWS)[number]) => {
          const u = USERS.find((x) => x.id === r.authorId)!;
          return { id: u.id, username: u.username };
        },
      },
    },
  );
  search = await startFixtureSubgraph(
    'search',
    /* GraphQL */ `
      ${federation('@key', '@shareable')}
      type Query { search(term: String!): [Product!]! }
      type Product @key(fields: "upc") { upc: ID! name: String! @shareable }
    `,
    {
      Query: { search: (_: unknown, args: { term: string }) => SEARCH_INDEX.filter((p) => p.name.toLowerCase().includes(args.term)) },
      Product: { __resolveReference: (ref: Ref) => SEARCH_INDEX.find((p) => p.upc === ref.upc) ?? null },
    },
  );
  inventory = await startFixtureSubgraph(
    'inventory',
    /* GraphQL */ `
      ${federation('@key', '@override')}
      type Product @key(fields: "upc") { upc: ID! inStock: Boolean! @override(from: "products") }
    `,
    { Product: { __resolveReference: (ref: Ref) => ({ upc: ref.upc, inStock: IN_STOCK[ref.upc] }) } },
  );
  fed = await startFederation([products, shipping, accounts, reviews, search, inventory]);
});

afterAll(async () => {
  await closeAll(fed, products, shipping, accounts, reviews, search, inventory);
});

beforeEach(() => {
  for (const f of [products, shipping, accounts, reviews, search, inventory]) f.resetCalls();
  overriddenResolverCalls = 0;
});

describe('@requires and @external', () => {
  it('fetches the required field from its owner first and sends it in the representation', async () => {
    const res = await fed.query(`{ products { upc shippingCost { amount currency } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', shippingCost: { amount: 60, currency: 'EUR' } },
        { upc: 'p2', shippingCost: { amount: 110, currency: 'EUR' } },
      ],
    });
    expect(shipping.entityCalls()).toEqual([
      [
        { __typename: 'Product', upc: 'p1', weight: 30 },
        { __typename: 'Product', upc: 'p2', weight: 55 },
      ],
    ]);
  });

  it('leaves the required field out of the response when the client did not select it', async () => {
    const res = await fed.query(`{ products { shippingCost { amount } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ products: [{ shippingCost: { amount: 60 } }, { shippingCost: { amount: 110 } }] });
  });

  it('sends a nested required selection as an object', async () => {
    const res = await fed.query(`{ products { upc packageArea } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ products: [{ upc: 'p1', packageArea: 40 }, { upc: 'p2', packageArea: 160 }] });
    expect(shipping.entityCalls()).toEqual([
      [
        { __typename: 'Product', upc: 'p1', dimensions: { width: 10, height: 4 } },
        { __typename: 'Product', upc: 'p2', dimensions: { width: 20, height: 8 } },
      ],
    ]);
  });

  it('works when the entity is reached through another subgraph first (search -> products -> shipping)', async () => {
    const res = await fed.query(`{ search(term: "couch") { name shippingCost { amount } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ search: [{ name: 'Couch', shippingCost: { amount: 110 } }] });
    expect(products.entityCalls()).toEqual([[{ __typename: 'Product', upc: 'p2' }]]);
    expect(shipping.entityCalls()).toEqual([[{ __typename: 'Product', upc: 'p2', weight: 55 }]]);
  });
});

describe('@provides', () => {
  it('takes the provided field from the providing subgraph without calling the owner', async () => {
    const res = await fed.query(`{ reviews { body author { id username } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      reviews: [
        { body: 'sturdy', author: { id: 'u1', username: 'ada' } },
        { body: 'comfy', author: { id: 'u2', username: 'bob' } },
      ],
    });
    expect(accounts.calls).toHaveLength(0);
  });

  it('still calls the owner, by key, for a field that is not provided', async () => {
    const res = await fed.query(`{ reviews { author { username email } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      reviews: [{ author: { username: 'ada', email: 'ada@example.com' } }, { author: { username: 'bob', email: 'bob@example.com' } }],
    });
    expect(accounts.entityCalls()).toEqual([
      [
        { __typename: 'User', id: 'u1' },
        { __typename: 'User', id: 'u2' },
      ],
    ]);
  });
});

describe('@shareable', () => {
  it('resolves a shareable entity field in the subgraph already being queried', async () => {
    const res = await fed.query(`{ search(term: "couch") { upc name } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ search: [{ upc: 'p2', name: 'Couch' }] });
    expect(products.calls).toHaveLength(0);
  });

  it('merges a shareable value type returned by two subgraphs into one shape', async () => {
    const res = await fed.query(`{ products { price { amount currency } shippingCost { amount currency } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: [
        { price: { amount: 899, currency: 'EUR' }, shippingCost: { amount: 60, currency: 'EUR' } },
        { price: { amount: 1299, currency: 'EUR' }, shippingCost: { amount: 110, currency: 'EUR' } },
      ],
    });
  });
});

describe('@override', () => {
  it('resolves the field in the overriding subgraph, never in the one it was taken from', async () => {
    const res = await fed.query(`{ products { upc name inStock } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', name: 'Table', inStock: false },
        { upc: 'p2', name: 'Couch', inStock: true },
      ],
    });
    expect(overriddenResolverCalls).toBe(0);
    expect(inventory.entityCalls()).toEqual([
      [
        { __typename: 'Product', upc: 'p1' },
        { __typename: 'Product', upc: 'p2' },
      ],
    ]);
  });
});
