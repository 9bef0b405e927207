// Abstract types across subgraphs through the gateway: a union and an interface whose members'
// fields live in different subgraphs, and an entity interface extended with @interfaceObject.
import { closeAll, federation, startFederation, startFixtureSubgraph, type Federation, type FixtureSubgraph } from './fixtures';

const PRODUCTS = [
  { upc: 'p1', name: 'Table' },
  { upc: 'p2', name: 'Couch' },
];
const STORES = [
  { id: 's1', name: 'Centre', city: 'Lyon' },
  { id: 's2', name: 'Harbour', city: 'Nantes' },
];
/** Search hits in relevance order, mixing both members of the union. */
const HITS = [
  { __typename: 'Store', id: 's2' },
  { __typename: 'Product', upc: 'p1' },
  { __typename: 'Store', id: 's1' },
  { __typename: 'Product', upc: 'p2' },
];
const FEED = [
  { __typename: 'Purchase', id: 'a1', at: '2024-05-01' },
  { __typename: 'ReviewPosted', id: 'a2', at: '2024-05-02' },
  { __typename: 'Purchase', id: 'a3', at: '2024-05-03' },
];
const PURCHASE_TOTALS: Record<string, number> = { a1: 120, a3: 45 };
const REVIEW_RATINGS: Record<string, number> = { a2: 4 };
const MEDIA = [
  { __typename: 'Book', id: 'm1', title: 'Dune', author: 'Herbert' },
  { __typename: 'Movie', id: 'm2', title: 'Alien', director: 'Scott' },
  { __typename: 'Book', id: 'm3', title: 'Emma', author: 'Austen' },
];
const RATINGS: Record<string, number[]> = { m1: [5, 4], m2: [3], m3: [] };

type Ref = Record<string, any>;

let search: FixtureSubgraph;
let products: FixtureSubgraph;
let stores: FixtureSubgraph;
let feed: FixtureSubgraph;
let purchases: FixtureSubgraph;
let reviews: FixtureSubgraph;
let media: FixtureSubgraph;
let ratings: FixtureSubgraph;
let fed: Federation;

beforeAll(async () => {
  search = await startFixtureSubgraph(
    'search',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { search(term: String!): [SearchResult!]! }
      union SearchResult = Product | Store
      type Product @key(fields: "upc", resolvable: false) { upc: ID! }
      type Store @key(fields: "id", resolvable: false) { id: ID! }
    `,
    {
      Query: { search: () => HITS },
      SearchResult: { __resolveType: (hit: { __typename: string }) => hit.__typename },
    },
  );
  products = await startFixtureSubgraph(
    'products',
    /* GraphQL */ `
      ${federation('@key')}
      type Product @key(fields: "upc") { upc: ID! name: String! }
    `,
    { Product: { __resolveReference: (ref: Ref) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null } },
  );
  stores = await startFixtureSubgraph(
    'stores',
    /* GraphQL */ `
      ${federation('@key')}
      type Store @key(fields: "id") { id: ID! name: String! city: String! }
    `,
    { Store: { __resolveReference: (ref: Ref) => STORES.find((s) => s.id === ref.id) ?? null } },
  );
  feed = await startFixtureSubgraph(
    'feed',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { feed: [Activity!]! }
      interface Activity { id: ID! at: String! }
      type Purchase implements Activity @key(fields: "id") { id: ID! at: String! }
      type ReviewPosted implements Activity @key(fields: "id") { id: ID! at: String! }
    `,
    {
      Query: { feed: () => FEED },
      Activity: { __resolveType: (a: { __typename: string }) => a.__typename },
    },
  );
  purchases = await startFixtureSubgraph(
    'purchases',
    /* GraphQL */ `
      ${federation('@key')}
      type Purchase @key(fields: "id") { id: ID! total: Int! }
    `,
    { Purchase: { __resolveReference: (ref: Ref) => ({ id: ref.id, total: PURCHASE_TOTALS[ref.id] }) } },
  );
  reviews = await startFixtureSubgraph(
    'reviews',
    /* GraphQL */ `
      ${federation('@key')}
      type ReviewPosted @key(fields: "id") { id: ID! rating: Int! }
    `,
    { ReviewPosted: { __resolveReference: (ref: Ref) => ({ id: ref.id, rating: REVIEW_RATINGS[ref.id] }) } },
  );
  media = await startFixtureSubgraph(
    'media',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { media: [Media!]! }
      interface Media @key(fields: "id") { id: ID! title: String! }
      type Book implements Media @key(fields: "id") { id: ID! title: String! author: String! }
      type Movie implements Media @key(fields: "id") { id: ID! title: String! director: String! }
    `,
    {
      Query: { media: () => MEDIA },
      Media: {
        __resolveReference: (ref: Ref) => MEDIA.find((m) => m.id === ref.id) ?? null,
        __resolveType: (m: { __typename: string }) => m.__typename,
      },
      Book: { __resolveReference: (ref: Ref) => MEDIA.find((m) => m.id === ref.id) ?? null },
      Movie: { __resolveReference: (ref: Ref) => MEDIA.find((m) => m.id === ref.id) ?? null },
    },
  );
  ratings = await startFixtureSubgraph(
    'ratings',
    /* GraphQL */ `
      ${federation('@key', '@interfaceObject')}
      type Query { topRated: [Media!]! }
      type Media @key(fields: "id") @interfaceObject { id: ID! ratingCount: Int! }
    `,
    {
      // Knows only ids: which implementation each one is, only the media subgraph can say.
      Query: { topRated: () => [{ id: 'm2' }, { id: 'm1' }] },
      Media: {
        __resolveReference: (ref: Ref) => ({ id: ref.id }),
        ratingCount: (m: { id: string }) => RATINGS[m.id]?.length ?? 0,
      },
    },
  );
  fed = await startFederation([search, products, stores, feed, purchases, reviews, media, ratings]);
});

afterAll(async () => {
  await closeAll(fed, search, products, stores, feed, purchases, reviews, media, ratings);
});

beforeEach(() => {
  for (const f of [search, products, stores, feed, purchases, reviews, media, ratings]) f.resetCalls();
});

describe('a union whose members are owned by different subgraphs', () => {
  it('resolves each member in its own subgraph and keeps the list order', async () => {
    const res = await fed.query(`{
      search(term: "a") {
        __typename
        ... on Product { upc name }
        ... on Store { id name city }
      }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      search: [
        { __typename: 'Store', id: 's2', name: 'Harbour', city: 'Nantes' },
        { __typename: 'Product', upc: 'p1', name: 'Table' },
        { __typename: 'Store', id: 's1', name: 'Centre', city: 'Lyon' },
        { __typename: 'Product', upc: 'p2', name: 'Couch' },
      ],
    });
    expect(products.entityCalls()).toEqual([
      [
        { __typename: 'Product', upc: 'p1' },
        { __typename: 'Product', upc: 'p2' },
      ],
    ]);
    expect(stores.entityCalls()).toEqual([
      [
        { __typename: 'Store', id: 's2' },
        { __typename: 'Store', id: 's1' },
      ],
    ]);
  });

  it('calls only the subgraph of the member a fragment selects', async () => {
    const res = await fed.query(`{ search(term: "a") { ... on Store { city } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ search: [{ city: 'Nantes' }, {}, { city: 'Lyon' }, {}] });
    expect(products.calls).toHaveLength(0);
  });
});

describe('an interface whose implementations get fields from different subgraphs', () => {
  it('returns the interface fields for all and each implementation its own subgraph fields', async () => {
    const res = await fed.query(`{
      feed {
        __typename id at
        ... on Purchase { total }
        ... on ReviewPosted { rating }
      }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      feed: [
        { __typename: 'Purchase', id: 'a1', at: '2024-05-01', total: 120 },
        { __typename: 'ReviewPosted', id: 'a2', at: '2024-05-02', rating: 4 },
        { __typename: 'Purchase', id: 'a3', at: '2024-05-03', total: 45 },
      ],
    });
    expect(purchases.entityCalls()).toEqual([
      [
        { __typename: 'Purchase', id: 'a1' },
        { __typename: 'Purchase', id: 'a3' },
      ],
    ]);
    expect(reviews.entityCalls()).toEqual([[{ __typename: 'ReviewPosted', id: 'a2' }]]);
  });
});

describe('@interfaceObject', () => {
  it('adds a field to every implementation, sending representations typed as the interface', async () => {
    const res = await fed.query(`{
      media {
        __typename title ratingCount
        ... on Book { author }
        ... on Movie { director }
      }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      media: [
        { __typename: 'Book', title: 'Dune', ratingCount: 2, author: 'Herbert' },
        { __typename: 'Movie', title: 'Alien', ratingCount: 1, director: 'Scott' },
        { __typename: 'Book', title: 'Emma', ratingCount: 0, author: 'Austen' },
      ],
    });
    expect(ratings.entityCalls()).toEqual([
      [
        { __typename: 'Media', id: 'm1' },
        { __typename: 'Media', id: 'm2' },
        { __typename: 'Media', id: 'm3' },
      ],
    ]);
  });

  it('resolves the concrete type of entities that come from the @interfaceObject subgraph', async () => {
    const res = await fed.query(`{
      topRated {
        __typename id title ratingCount
        ... on Book { author }
        ... on Movie { director }
      }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      topRated: [
        { __typename: 'Movie', id: 'm2', title: 'Alien', ratingCount: 1, director: 'Scott' },
        { __typename: 'Book', id: 'm1', title: 'Dune', ratingCount: 2, author: 'Herbert' },
      ],
    });
    // The media subgraph is asked by the interface, the only type the ratings subgraph knows.
    expect(media.entityCalls()).toEqual([
      [
        { __typename: 'Media', id: 'm2' },
        { __typename: 'Media', id: 'm1' },
      ],
    ]);
  });

  it('never answers __typename with the interface name', async () => {
    const res = await fed.query(`{ topRated { __typename } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ topRated: [{ __typename: 'Movie' }, { __typename: 'Book' }] });
    expect(media.entityCalls()).toHaveLength(1);
  });
});
