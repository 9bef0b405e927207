import { composeSupergraph } from './composeSupergraph';
import { apiSchemaOf, breakingOperations, nonNullExtensionWarnings } from './schemaChecks';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';
const catalog = { name: 'catalog', url: 'http://c/graphql', sdl: `${LINK}\ntype Query { product(id: ID!): Product }\ntype Product @key(fields: "id") { id: ID! name: String! priceCents: Int! brand: String }` };
const ratings = (fields: string) => ({ name: 'ratings', url: 'http://r/graphql', sdl: `${LINK}\ntype Product @key(fields: "id") { id: ID! ${fields} }` });
const api = (...subgraphs: Parameters<typeof composeSupergraph>[0]) => {
  const c = composeSupergraph(subgraphs);
  if (!c.ok) throw new Error(c.errors.join('; '));
  return apiSchemaOf(c.supergraphSdl);
};
const op = (text: string, name: string | null = null) => ({ hash: `h-${text.length}-${name}`, name, text, lastSeen: 1_700_000_000_000 });

describe('breakingOperations', () => {
  const now = api(catalog, ratings('averageRating: Float ratingCount: Int'));

  it('names an operation that uses a field the candidate drops', () => {
    const candidate = api(catalog, ratings('averageRating: Float'));
    const broken = breakingOperations(now, candidate, [op('query ProductPage { product(id: "1") { name ratingCount } }', 'ProductPage'), op('{ product(id: "1") { name averageRating } }')]);
    expect(broken).toHaveLength(1);
    expect(broken[0].operation).toBe('ProductPage');
    expect(broken[0].error).toMatch(/ratingCount/);
  });

  it('calls an operation without a name by its hash', () => {
    const broken = breakingOperations(now, api(catalog), [op('{ product(id: "1") { averageRating } }')]);
    expect(broken[0].operation).toMatch(/^anonymous operation h-/);
  });

  it('does not count an operation that is already invalid, or one that does not parse', () => {
    const broken = breakingOperations(now, api(catalog), [op('{ product(id: "1") { nosuchfield } }', 'Old'), op('{ product(', 'Garbage')]);
    expect(broken).toEqual([]);
  });

  it('passes a change that only adds fields', () => {
    expect(breakingOperations(now, api(catalog, ratings('averageRating: Float ratingCount: Int ratings: [String]')), [op('{ product(id: "1") { ratingCount } }', 'P')])).toEqual([]);
  });
});

describe('nonNullExtensionWarnings', () => {
  it('warns about non-null fields added to an entity another subgraph owns', () => {
    const warnings = nonNullExtensionWarnings([catalog, ratings('averageRating: Float ratingCount: Int!')], 'ratings');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Product\.ratingCount as non-null to an entity catalog owns/);
  });

  it('says nothing about nullable extension fields, the owner’s own fields or key-only references', () => {
    const reference = { name: 'orders', url: 'http://o/graphql', sdl: `${LINK}\ntype Product @key(fields: "id", resolvable: false) { id: ID! }` };
    expect(nonNullExtensionWarnings([catalog, ratings('averageRating: Float'), reference], 'ratings')).toEqual([]);
    expect(nonNullExtensionWarnings([catalog, ratings('averageRating: Float'), reference], 'catalog')).toEqual([]);
    expect(nonNullExtensionWarnings([catalog, reference], 'orders')).toEqual([]);
  });
});
