import { checkedInSubgraphs, checkedInWarnings } from '../scripts/compose';
import { composeSupergraph } from './composeSupergraph';
import { apiSchemaOf, breakingOperations, graphExtensionWarnings, nonNullExtensionWarnings } from './schemaChecks';

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
  const sg = (name: string, sdl: string) => ({ name, url: `http://${name}/graphql`, sdl: `${LINK}\n${sdl}` });
  // The catalog's Store as in schema/catalog.graphql: two fields besides its key, and a lookup.
  const catalogStores = sg('catalog', 'type Query { store(id: ID!): Store }\ntype Store @key(fields: "id") { id: ID! name: String! inventory(first: Int): [String!]! }');
  const tastingNotes = (count: string) =>
    sg(
      'tasting-notes',
      `type Query { tastingNote(id: ID!): TastingNote }\ntype Subscription { tastingNotesChanged(storeId: ID!): Store! }\n` +
        `type TastingNote @key(fields: "id") { id: ID! store: Store score: Int! }\n` +
        `type Store @key(fields: "id") { id: ID! averageTastingNote: Float tastingNoteCount: ${count} tastingNotes: [TastingNote!] }`,
    );

  it('warns about non-null fields added to an entity another subgraph owns', () => {
    const warnings = nonNullExtensionWarnings([catalog, ratings('averageRating: Float ratingCount: Int!')], 'ratings');
    expect(warnings).toEqual([
      "ratings adds Product.ratingCount as non-null to an entity catalog owns: when ratings is down, every Product it appears in turns null, catalog's fields with it; make the field nullable",
    ]);
  });

  it('warns about an extension that serves more fields than the owner (a three-field extension of the two-field Store)', () => {
    const graph = [catalogStores, tastingNotes('Int!')];
    expect(composeSupergraph(graph).ok).toBe(true);
    expect(nonNullExtensionWarnings(graph, 'tasting-notes')).toEqual([expect.stringMatching(/^tasting-notes adds Store\.tastingNoteCount as non-null to an entity catalog owns/)]);
    // The owner's own non-null fields (Store.name) and the extension's own entity (TastingNote.score) are not extensions.
    expect(nonNullExtensionWarnings(graph, 'catalog')).toEqual([]);
    expect(nonNullExtensionWarnings([catalogStores, tastingNotes('Int')], 'tasting-notes')).toEqual([]);
  });

  it('says nothing about nullable extension fields, the owner’s own fields or key-only references', () => {
    const reference = { name: 'orders', url: 'http://o/graphql', sdl: `${LINK}\ntype Product @key(fields: "id", resolvable: false) { id: ID! }` };
    expect(nonNullExtensionWarnings([catalog, ratings('averageRating: Float'), reference], 'ratings')).toEqual([]);
    expect(nonNullExtensionWarnings([catalog, ratings('averageRating: Float'), reference], 'catalog')).toEqual([]);
    expect(nonNullExtensionWarnings([catalog, reference], 'orders')).toEqual([]);
    // The owner is not warned about its own non-null fields when an extension serves non-null ones.
    expect(nonNullExtensionWarnings([catalog, ratings('ratingCount: Int!')], 'catalog')).toEqual([]);
  });

  it('does not count key fields (compound or nested) or @external fields as served', () => {
    const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])';
    const owner = { name: 'stock', url: 'http://s/graphql', sdl: `${link}\ntype Query { level(storeId: ID!, sku: ID!): Level }\ntype Level @key(fields: "storeId item { sku }") { storeId: ID! item: Item! quantity: Int! }\ntype Item { sku: ID! }` };
    const requires = {
      name: 'forecast',
      url: 'http://f/graphql',
      sdl: `${link}\ntype Level @key(fields: "storeId item { sku }") { storeId: ID! item: Item! quantity: Int! @external daysLeft: Int @requires(fields: "quantity") }\ntype Item { sku: ID! }`,
    };
    expect(composeSupergraph([owner, requires]).ok).toBe(true);
    expect(nonNullExtensionWarnings([owner, requires], 'forecast')).toEqual([]);
    const nonNull = { ...requires, sdl: requires.sdl.replace('daysLeft: Int', 'daysLeft: Int!') };
    expect(nonNullExtensionWarnings([owner, nonNull], 'forecast')).toEqual([expect.stringMatching(/^forecast adds Level\.daysLeft as non-null to an entity stock owns/)]);
  });

  it('warns nobody for fields served with resolvable: false only (reached only on objects the subgraph returns itself)', () => {
    const own = sg('audit', 'type Query { audits: [Audit!]! }\ntype Audit { product: Product! }\ntype Product @key(fields: "id", resolvable: false) { id: ID! lastAuditedAt: String! }');
    expect(nonNullExtensionWarnings([catalog, own], 'audit')).toEqual([]);
  });

  it('with no subgraph looking the entity up, warns each side that serves non-null fields on it', () => {
    const a = sg('a', 'type Query { things: [Thing!]! }\ntype Thing @key(fields: "id") { id: ID! label: String! }');
    const b = sg('b', 'type Thing @key(fields: "id") { id: ID! score: Int! note: String }');
    expect(graphExtensionWarnings([b, a])).toEqual([
      expect.stringMatching(/^a adds Thing\.label as non-null to an entity b owns/),
      expect.stringMatching(/^b adds Thing\.score as non-null to an entity a owns/),
    ]);
  });

  it('the checked-in subgraphs compose without a warning (what `npm run compose` prints)', () => {
    expect(checkedInSubgraphs().map((s) => s.name)).toEqual(expect.arrayContaining(['customers', 'orders']));
    expect(checkedInWarnings()).toEqual([]);
  });
});
