// One failing subgraph among several, through the gateway: a resolver that throws, a subgraph that
// is down (closed port), one that never answers (timeout) and one behind a proxy answering 502.
// Each must cost only its own fields: HTTP 200, the rest of the data, and an error naming the
// subgraph in extensions.serviceName; null propagates per GraphQL's non-null rules.
import type http from 'node:http';
import {
  closeAll,
  federation,
  startFederation,
  startFixtureSubgraph,
  startStubServer,
  type Federation,
  type FixtureSubgraph,
  type GraphQLResponse,
} from './fixtures';

const PRODUCTS = [
  { upc: 'p1', name: 'Table' },
  { upc: 'p2', name: 'Couch' },
  { upc: 'p3', name: 'Chair' },
];
const REVIEWS: Record<string, string[]> = { p1: ['sturdy'], p2: ['comfy'], p3: [] };
const SUBGRAPH_TIMEOUT_MS = 500;

type Ref = Record<string, any>;

let products: FixtureSubgraph;
let reviews: FixtureSubgraph;
let inventory: FixtureSubgraph;
let ratings: FixtureSubgraph;
let hanging: { url: string; close(): Promise<void> };
let badGateway: { url: string; close(): Promise<void> };
/** Requests that reached the hanging server: proves the gateway tried before giving up. */
const hangingRequests: http.IncomingMessage[] = [];
let fed: Federation;

const SHIPPING_SDL = /* GraphQL */ `
  ${federation('@key')}
  type Product @key(fields: "upc") { upc: ID! shippingDays: Int }
`;
const PRICING_SDL = /* GraphQL */ `
  ${federation('@key')}
  type Product @key(fields: "upc") { upc: ID! price: Int }
`;

beforeAll(async () => {
  products = await startFixtureSubgraph(
    'products',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { products: [Product!]! product(upc: ID!): Product }
      type Product @key(fields: "upc") { upc: ID! name: String! }
    `,
    {
      Query: { products: () => PRODUCTS, product: (_: unknown, args: { upc: string }) => PRODUCTS.find((p) => p.upc === args.upc) ?? null },
      Product: { __resolveReference: (ref: Ref) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null },
    },
  );
  reviews = await startFixtureSubgraph(
    'reviews',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { latestReview: Review }
      type Product @key(fields: "upc") { upc: ID! reviews: [Review!] }
      type Review { body: String! }
    `,
    {
      Query: {
        latestReview: () => {
          throw new Error('the review feed is unavailable');
        },
      },
      Product: {
        __resolveReference: (ref: Ref) => ({ upc: ref.upc }),
        reviews: (p: Ref) => {
          if (p.upc === 'p2') throw new Error('reviews of p2 are unavailable');
          return (REVIEWS[p.upc] ?? []).map((body) => ({ body }));
        },
      },
    },
  );
  inventory = await startFixtureSubgraph(
    'inventory',
    /* GraphQL */ `
      ${federation('@key')}
      type Query { stockReport: String }
      type Product @key(fields: "upc") { upc: ID! inStock: Boolean stockLevel: Int! }
    `,
    {
      Query: { stockReport: () => 'all good' },
      Product: { __resolveReference: (ref: Ref) => ({ upc: ref.upc, inStock: true, stockLevel: 3 }) },
    },
  );
  // Knows no ratings for p2: its _entities answer holds null there, without an error.
  ratings = await startFixtureSubgraph(
    'ratings',
    /* GraphQL */ `
      ${federation('@key')}
      type Product @key(fields: "upc") { upc: ID! stars: Int! }
    `,
    { Product: { __resolveReference: (ref: Ref) => (ref.upc === 'p2' ? null : { upc: ref.upc, stars: 4 }) } },
  );
  // Accepts the request and never answers.
  hanging = await startStubServer((req) => void hangingRequests.push(req));
  badGateway = await startStubServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body>502 Bad Gateway</body></html>');
  });
  fed = await startFederation(
    [products, reviews, inventory, ratings, { name: 'shipping', url: hanging.url, sdl: SHIPPING_SDL }, { name: 'pricing', url: badGateway.url, sdl: PRICING_SDL }],
    { subgraphTimeoutMs: SUBGRAPH_TIMEOUT_MS },
  );
  // Composed with its real URL, then gone: nothing listens on that port any more.
  await inventory.close();
});

afterAll(async () => {
  await closeAll(fed, products, reviews, inventory, ratings, hanging, badGateway);
});

type Errors = NonNullable<GraphQLResponse['errors']>;
const fromService = (errors: Errors | undefined, serviceName: string) => (errors ?? []).filter((e) => e.extensions?.serviceName === serviceName);

describe('a subgraph resolver that throws', () => {
  it('nulls only the failing entity field, with the error at its path in the client response', async () => {
    const res = await fed.query(`{ products { upc name reviews { body } } }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', name: 'Table', reviews: [{ body: 'sturdy' }] },
        { upc: 'p2', name: 'Couch', reviews: null },
        { upc: 'p3', name: 'Chair', reviews: [] },
      ],
    });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({
      message: 'reviews of p2 are unavailable',
      path: ['products', 1, 'reviews'],
      extensions: { serviceName: 'reviews' },
    });
  });

  it('nulls a failing root field and keeps the root fields of other subgraphs', async () => {
    const res = await fed.query(`{ products { upc } latestReview { body } }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ products: [{ upc: 'p1' }, { upc: 'p2' }, { upc: 'p3' }], latestReview: null });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({
      message: 'the review feed is unavailable',
      path: ['latestReview'],
      extensions: { serviceName: 'reviews' },
    });
  });
});

describe('a subgraph that answers null for an entity', () => {
  it('reports the null in a non-null position in errors with its path, not only in an extension', async () => {
    const res = await fed.query(`{ product(upc: "p2") { name stars } }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ product: null });
    expect(res.errors).toEqual([expect.objectContaining({ path: ['product', 'stars'], extensions: expect.objectContaining({ code: 'NON_NULL_VIOLATION' }) })]);
    expect(res.errors![0].message).toMatch(/Product\.stars/);
    expect(res.extensions?.valueCompletion).toBeUndefined();
  });
});

describe('a subgraph that is down (closed port)', () => {
  it('answers 200 with the other subgraphs data, its fields null and an error naming it', async () => {
    const res = await fed.query(`{ products { upc name inStock } }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', name: 'Table', inStock: null },
        { upc: 'p2', name: 'Couch', inStock: null },
        { upc: 'p3', name: 'Chair', inStock: null },
      ],
    });
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(fromService(res.errors, 'inventory')).toHaveLength(res.errors!.length);
    // The connection error's text names the internal address; the client sees only a code.
    expect(JSON.stringify(res.errors)).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(res.errors![0].message).toBe('subgraph inventory is unreachable (ECONNREFUSED)');
  });

  it('propagates the null of a missing non-null field to the nearest nullable parent', async () => {
    const res = await fed.query(`{ product(upc: "p1") { name stockLevel } }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ product: null });
    expect(fromService(res.errors, 'inventory').length).toBeGreaterThan(0);
  });

  it('nulls its root field and keeps the root fields of other subgraphs', async () => {
    const res = await fed.query(`{ products { upc } stockReport }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ products: [{ upc: 'p1' }, { upc: 'p2' }, { upc: 'p3' }], stockReport: null });
    expect(fromService(res.errors, 'inventory').length).toBeGreaterThan(0);
  });
});

describe('a subgraph that does not answer (timeout)', () => {
  it('gives up after the subgraph timeout and returns the rest', async () => {
    const before = hangingRequests.length;
    const started = Date.now();
    const res = await fed.query(`{ products { upc name shippingDays } }`);
    const elapsed = Date.now() - started;
    expect(hangingRequests.length).toBeGreaterThan(before);
    expect(elapsed).toBeGreaterThanOrEqual(SUBGRAPH_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(SUBGRAPH_TIMEOUT_MS + 3_000);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', name: 'Table', shippingDays: null },
        { upc: 'p2', name: 'Couch', shippingDays: null },
        { upc: 'p3', name: 'Chair', shippingDays: null },
      ],
    });
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(fromService(res.errors, 'shipping')).toHaveLength(res.errors!.length);
  });
});

describe('a subgraph behind a proxy that answers 502', () => {
  it('nulls its fields, keeps the rest and names it in the error', async () => {
    const res = await fed.query(`{ products { upc price } }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ products: [{ upc: 'p1', price: null }, { upc: 'p2', price: null }, { upc: 'p3', price: null }] });
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(fromService(res.errors, 'pricing')).toHaveLength(res.errors!.length);
  });

  it('does not hand the client the subgraph\'s internal address or the proxy\'s raw body', async () => {
    const res = await fed.query(`{ products { upc price } }`);
    expect(res.errors?.length).toBeGreaterThan(0);
    const exposed = JSON.stringify(res.errors);
    expect(exposed).not.toContain(new URL(badGateway.url).host);
    expect(exposed).not.toContain('<html>');
  });
});

describe('several failing subgraphs in one request', () => {
  it('reports each failure by its subgraph and still returns every field that could be resolved', async () => {
    const res = await fed.query(`{ products { upc name reviews { body } inStock shippingDays price } }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      products: [
        { upc: 'p1', name: 'Table', reviews: [{ body: 'sturdy' }], inStock: null, shippingDays: null, price: null },
        { upc: 'p2', name: 'Couch', reviews: null, inStock: null, shippingDays: null, price: null },
        { upc: 'p3', name: 'Chair', reviews: [], inStock: null, shippingDays: null, price: null },
      ],
    });
    const services = new Set((res.errors ?? []).map((e) => e.extensions?.serviceName));
    expect(services).toEqual(new Set(['reviews', 'inventory', 'shipping', 'pricing']));
  });

  it('leaves the gateway serving: healthy queries answer fully while failing ones run alongside', async () => {
    const [healthy, failing] = await Promise.all([
      fed.query(`{ products { upc name } }`),
      fed.query(`{ products { inStock shippingDays price } }`),
    ]);
    expect(healthy.status).toBe(200);
    expect(healthy.errors).toBeUndefined();
    expect(healthy.data).toEqual({ products: PRODUCTS });
    expect(failing.status).toBe(200);
    expect(failing.data).toEqual({ products: PRODUCTS.map(() => ({ inStock: null, shippingDays: null, price: null })) });
    const after = await fed.query(`{ product(upc: "p3") { name reviews { body } } }`);
    expect(after.status).toBe(200);
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual({ product: { name: 'Chair', reviews: [] } });
  });
});
