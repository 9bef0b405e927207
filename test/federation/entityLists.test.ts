// Lists of entities through the gateway: one batched `_entities` call per subgraph and level
// (counted in the fixtures), order kept through nested lists, and references the owner lacks.
import { closeAll, federation, startFederation, startFixtureSubgraph, type Federation, type FixtureSubgraph } from './fixtures';

const PRODUCTS = Array.from({ length: 12 }, (_, i) => ({ upc: `p${i + 1}`, name: `Product ${i + 1}` }));
const USERS = Array.from({ length: 4 }, (_, i) => ({ id: `u${i + 1}`, name: `User ${i + 1}` }));
/** Product i has (i % 3) + 1 reviews; authors cycle through the users, so they repeat. */
const REVIEWS = PRODUCTS.flatMap((p, i) =>
  Array.from({ length: (i % 3) + 1 }, (_, j) => ({ upc: p.upc, body: `${p.upc}-r${j + 1}`, authorId: USERS[(i + j) % USERS.length]!.id })),
);
/** The newest reviews, one about a product the products subgraph has never heard of. */
const LATEST = [
  { body: 'fine', upc: 'p2' },
  { body: 'lost', upc: 'p404' },
  { body: 'great', upc: 'p1' },
];

type Ref = Record<string, any>;

let products: FixtureSubgraph;
let reviews: FixtureSubgraph;
let accounts: FixtureSubgraph;
let fed: Federation;

beforeAll(async () => {
  products = await startFixtureSubgraph(
    'products',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { products(first: Int!): [Product!]! }
      type Product @key(fields: "upc") { upc: ID! name: String! }
    `,
    {
      Query: { products: (_: unknown, args: { first: number }) => PRODUCTS.slice(0, args.first) },
      Product: { __resolveReference: (ref: Ref) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null },
    },
  );
  reviews = await startFixtureSubgraph(
    'reviews',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { latestReviews: [Review!]! }
      type Product @key(fields: "upc") { upc: ID! reviews: [Review!]! }
      type Review { body: String! author: User! product: Product }
      type User @key(fields: "id", resolvable: false) { id: ID! }
    `,
    {
      Query: { latestReviews: () => LATEST },
      Product: {
        __resolveReference: (ref: Ref) => ({ upc: ref.upc }),
        reviews: (p: Ref) => REVIEWS.filter((r) => r.upc === p.upc),
      },
      Review: {
        author: (r: Ref) => ({ id: r.authorId }),
        product: (r: Ref) => ({ upc: r.upc }),
      },
    },
  );
  accounts = await startFixtureSubgraph(
    'accounts',
    /* GraphQL */ `
      ${federation('@key')}
      type User @key(fields: "id") { id: ID! name: String! }
    `,
    { User: { __resolveReference: (ref: Ref) => USERS.find((u) => u.id === ref.id) ?? null } },
  );
  fed = await startFederation([products, reviews, accounts]);
});

afterAll(async () => {
  await closeAll(fed, products, reviews, accounts);
});

beforeEach(() => {
  for (const f of [products, reviews, accounts]) f.resetCalls();
});

const reviewsOf = (upc: string) => REVIEWS.filter((r) => r.upc === upc);

describe('a list of entities', () => {
  it('resolves 10 entities in another subgraph with one _entities call carrying all 10, in order', async () => {
    const res = await fed.query(`query ($n: Int!) { products(first: $n) { upc name reviews { body } } }`, { n: 10 });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: PRODUCTS.slice(0, 10).map((p) => ({ upc: p.upc, name: p.name, reviews: reviewsOf(p.upc).map((r) => ({ body: r.body })) })),
    });
    expect(reviews.calls).toHaveLength(1);
    expect(reviews.entityCalls()).toEqual([PRODUCTS.slice(0, 10).map((p) => ({ __typename: 'Product', upc: p.upc }))]);
  });

  it('batches a list inside a list (products -> reviews -> author) into one call per subgraph', async () => {
    const res = await fed.query(`{ products(first: 10) { upc reviews { body author { id name } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      products: PRODUCTS.slice(0, 10).map((p) => ({
        upc: p.upc,
        reviews: reviewsOf(p.upc).map((r) => ({ body: r.body, author: { id: r.authorId, name: USERS.find((u) => u.id === r.authorId)!.name } })),
      })),
    });
    expect(products.calls).toHaveLength(1);
    expect(reviews.calls).toHaveLength(1);
    expect(accounts.calls).toHaveLength(1);
    // 19 reviews by 4 distinct authors: every author is asked for, none of them needs a second call.
    const asked = accounts.entityCalls()[0]!;
    expect(new Set(asked.map((r) => r.id))).toEqual(new Set(USERS.map((u) => u.id)));
    for (const rep of asked) expect(rep).toEqual({ __typename: 'User', id: rep.id });
  });

  it('answers aliased copies of the same list, each with its own arguments', async () => {
    const res = await fed.query(`{
      few: products(first: 2) { upc reviews { body } }
      more: products(first: 3) { name }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      few: PRODUCTS.slice(0, 2).map((p) => ({ upc: p.upc, reviews: reviewsOf(p.upc).map((r) => ({ body: r.body })) })),
      more: PRODUCTS.slice(0, 3).map((p) => ({ name: p.name })),
    });
  });
});

describe('references in a list', () => {
  it('needs no call to the owner when only the key is selected', async () => {
    const res = await fed.query(`{ latestReviews { body product { upc } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      latestReviews: [
        { body: 'fine', product: { upc: 'p2' } },
        { body: 'lost', product: { upc: 'p404' } },
        { body: 'great', product: { upc: 'p1' } },
      ],
    });
    expect(products.calls).toHaveLength(0);
  });

  it('makes a reference the owner does not know null, in its place, leaving the others whole', async () => {
    const res = await fed.query(`{ latestReviews { body product { upc name } } }`);
    expect(res.data).toEqual({
      latestReviews: [
        { body: 'fine', product: { upc: 'p2', name: 'Product 2' } },
        { body: 'lost', product: null },
        { body: 'great', product: { upc: 'p1', name: 'Product 1' } },
      ],
    });
    expect(products.entityCalls()).toEqual([
      [
        { __typename: 'Product', upc: 'p2' },
        { __typename: 'Product', upc: 'p404' },
        { __typename: 'Product', upc: 'p1' },
      ],
    ]);
  });
});
