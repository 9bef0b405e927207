// Federation cases that @apollo/query-planner 2.14 plans wrongly (and @apollo/gateway with it),
// answered right by the gateway's planner and executor, from The Guild's federation gateway audit
// (graphql-hive/federation-gateway-audit), in fixtures of our own: @requires whose selection has
// arguments other than the client's and two @requires of one field with different arguments
// (requires-with-argument), an entity whose only key the next subgraph resolves is composite
// while it declares other keys resolvable: false (keys-mashup), and a field reachable only
// through a non-resolvable @interfaceObject (non-resolvable-interface-object). Each of these
// fails with GATEWAY_QUERY_PLANNER=apollo; each test says what Apollo answered, and checks both
// the answer and what the subgraphs were sent. Two neighbouring cases (a chain of keys, an
// @interfaceObject entered from a non-resolvable key) pass on both planners and guard the same
// ground, and so do the first and third cases of non-resolvable-interface-object (a value of an
// interface no object type implements), which @apollo/gateway answered and the gateway did not.
import { closeAll, federation, startFederation, startFixtureSubgraph, type Federation, type FixtureSubgraph } from './fixtures';

type Ref = Record<string, any>;

describe('@requires with arguments other than the client’s', () => {
  const COMMENTS = ['first', 'second', 'third', 'fourth', 'fifth'].map((body) => ({ body }));
  let posts: FixtureSubgraph;
  let stats: FixtureSubgraph;
  let fed: Federation;

  beforeAll(async () => {
    posts = await startFixtureSubgraph(
      'posts',
      /* GraphQL */ `
        ${federation('@key')}
        type Query { post: Post }
        type Post @key(fields: "id") { id: ID! comments(limit: Int!): [Comment!]! }
        type Comment { body: String! }
      `,
      {
        Query: { post: () => ({ id: 'p1' }) },
        Post: { __resolveReference: (r: Ref) => ({ id: r.id }), comments: (_: unknown, args: { limit: number }) => COMMENTS.slice(0, args.limit) },
      },
    );
    stats = await startFixtureSubgraph(
      'stats',
      /* GraphQL */ `
        ${federation('@key', '@external', '@requires')}
        type Post @key(fields: "id") {
          id: ID!
          comments(limit: Int!): [Comment!]! @external
          commentSummary: String @requires(fields: "comments(limit: 3) { body }")
        }
        type Comment { body: String! @external }
      `,
      { Post: { __resolveReference: (r: Ref) => r, commentSummary: (p: Ref) => `${p.comments.length}: ${p.comments.map((c: Ref) => c.body).join(', ')}` } },
    );
    fed = await startFederation([posts, stats]);
  });
  afterAll(() => closeAll(fed, posts, stats));

  it('gives the client the comments it asked for and the requiring subgraph the ones it requires', async () => {
    // @apollo/query-planner merged both under `comments` and sent `comments(limit: 1)` as the
    // required selection: the summary saw 1 comment instead of 3.
    stats.resetCalls();
    const res = await fed.query(`{ post { comments(limit: 1) { body } commentSummary } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ post: { comments: [{ body: 'first' }], commentSummary: '3: first, second, third' } });
    expect(stats.entityCalls()).toEqual([[{ __typename: 'Post', id: 'p1', comments: COMMENTS.slice(0, 3) }]]);
  });

  it('keeps the client’s aliases apart from the planner’s', async () => {
    const res = await fed.query(`{ post { one: comments(limit: 1) { body } two: comments(limit: 2) { body } commentSummary } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ post: { one: [{ body: 'first' }], two: [{ body: 'first' }, { body: 'second' }], commentSummary: '3: first, second, third' } });
  });
});

describe('two @requires of one field with different arguments', () => {
  const RATES: Record<string, number> = { EUR: 1, USD: 1.1 };
  let money: FixtureSubgraph;
  let euro: FixtureSubgraph;
  let dollar: FixtureSubgraph;
  let fed: Federation;

  beforeAll(async () => {
    money = await startFixtureSubgraph(
      'money',
      /* GraphQL */ `
        ${federation('@key')}
        type Query { product: Product }
        type Product @key(fields: "id") { id: ID! price(currency: String!): Float! }
      `,
      {
        Query: { product: () => ({ id: 'p1' }) },
        Product: { __resolveReference: (r: Ref) => ({ id: r.id }), price: (_: unknown, args: { currency: string }) => 10 * (RATES[args.currency] ?? 0) },
      },
    );
    const labels = (name: string, field: string, currency: string) =>
      startFixtureSubgraph(
        name,
        /* GraphQL */ `
          ${federation('@key', '@external', '@requires')}
          type Product @key(fields: "id") {
            id: ID!
            price(currency: String!): Float! @external
            ${field}: String @requires(fields: "price(currency: \\"${currency}\\")")
          }
        `,
        { Product: { __resolveReference: (r: Ref) => r, [field]: (p: Ref) => `${p.price.toFixed(2)} ${currency}` } },
      );
    euro = await labels('euro', 'eurLabel', 'EUR');
    dollar = await labels('dollar', 'usdLabel', 'USD');
    fed = await startFederation([money, euro, dollar]);
  });
  afterAll(() => closeAll(fed, money, euro, dollar));

  it('fetches each price with its own arguments and sends each subgraph its own', async () => {
    // @apollo/query-planner fetched only price(currency: "EUR") and sent it to both: the dollar
    // label showed the euro price.
    const res = await fed.query(`{ product { eurLabel usdLabel } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ product: { eurLabel: '10.00 EUR', usdLabel: '11.00 USD' } });
    expect(euro.entityCalls().at(-1)).toEqual([{ __typename: 'Product', id: 'p1', price: 10 }]);
    expect(dollar.entityCalls().at(-1)).toEqual([{ __typename: 'Product', id: 'p1', price: 11 }]);
  });

  it('still answers the client’s own price beside them', async () => {
    const res = await fed.query(`{ product { price(currency: "USD") usdLabel eurLabel } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ product: { price: 11, usdLabel: '11.00 USD', eurLabel: '10.00 EUR' } });
  });
});

// A neighbouring case (passes on both planners): the next subgraph's composite key is not
// resolvable, but an intermediate subgraph turns it into one that is.
describe('an entity reached through a chain of keys', () => {
  const USERS = [
    { id: 'u1', org: 'acme', login: 'ada', name: 'Ada Lovelace' },
    { id: 'u2', org: 'acme', login: 'bob', name: 'Bob Bobson' },
  ];
  let directory: FixtureSubgraph;
  let identity: FixtureSubgraph;
  let profiles: FixtureSubgraph;
  let fed: Federation;

  beforeAll(async () => {
    // The directory knows users only by a composite key; profiles knows them by id and declares
    // the composite key only as resolvable: false. Only identity turns one key into the other.
    directory = await startFixtureSubgraph(
      'directory',
      /* GraphQL */ `
        ${federation('@key')}
        type Query { users: [User!]! }
        type User @key(fields: "org login") { org: String! login: String! }
      `,
      { Query: { users: () => USERS.map(({ org, login }) => ({ org, login })) } },
    );
    identity = await startFixtureSubgraph(
      'identity',
      /* GraphQL */ `
        ${federation('@key')}
        type User @key(fields: "org login") @key(fields: "id") { id: ID! org: String! login: String! }
      `,
      { User: { __resolveReference: (r: Ref) => USERS.find((u) => (r.id ? u.id === r.id : u.org === r.org && u.login === r.login)) ?? null } },
    );
    profiles = await startFixtureSubgraph(
      'profiles',
      /* GraphQL */ `
        ${federation('@key')}
        type User @key(fields: "id") @key(fields: "org login", resolvable: false) { id: ID! org: String! login: String! name: String! }
      `,
      { User: { __resolveReference: (r: Ref) => USERS.find((u) => u.id === r.id) ?? null } },
    );
    fed = await startFederation([directory, identity, profiles]);
  });
  afterAll(() => closeAll(fed, directory, identity, profiles));

  it('enters the next subgraph only by a key it resolves, never by its non-resolvable one', async () => {
    const res = await fed.query(`{ users { login name } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ users: [{ login: 'ada', name: 'Ada Lovelace' }, { login: 'bob', name: 'Bob Bobson' }] });
    for (const reps of profiles.entityCalls()) for (const rep of reps) expect(rep).toEqual({ __typename: 'User', id: expect.any(String) });
  });
});

// A neighbouring case (passes on both planners): the @interfaceObject is entered by a key that is
// resolvable in the subgraph that has the field.
describe('an @interfaceObject reached from a subgraph whose key is not resolvable', () => {
  let accounts: FixtureSubgraph;
  let ranking: FixtureSubgraph;
  let scores: FixtureSubgraph;
  let fed: Federation;

  beforeAll(async () => {
    accounts = await startFixtureSubgraph(
      'accounts',
      /* GraphQL */ `
        ${federation('@key')}
        type Query { accounts: [Account!]! }
        interface Account @key(fields: "id") { id: ID! }
        type User implements Account @key(fields: "id") { id: ID! handle: String! }
      `,
      {
        Query: { accounts: () => [{ id: 'a1', handle: 'ada' }] },
        Account: { __resolveReference: (r: Ref) => ({ id: r.id, handle: 'ada', __typename: 'User' }), __resolveType: () => 'User' },
        User: { __resolveReference: (r: Ref) => ({ id: r.id, handle: 'ada' }) },
      },
    );
    ranking = await startFixtureSubgraph(
      'ranking',
      /* GraphQL */ `
        ${federation('@key', '@interfaceObject')}
        type Query { topAccount: Account }
        type Account @key(fields: "id", resolvable: false) @interfaceObject { id: ID! }
      `,
      { Query: { topAccount: () => ({ id: 'a1' }) } },
    );
    scores = await startFixtureSubgraph(
      'scores',
      /* GraphQL */ `
        ${federation('@key', '@interfaceObject')}
        type Account @key(fields: "id") @interfaceObject { id: ID! score: Int! }
      `,
      { Account: { __resolveReference: (r: Ref) => ({ id: r.id, score: 42 }) } },
    );
    fed = await startFederation([accounts, ranking, scores]);
  });
  afterAll(() => closeAll(fed, accounts, ranking, scores));

  it('resolves the interface object’s field and the concrete type of what the ranking returned', async () => {
    const res = await fed.query(`{ topAccount { __typename id score ... on User { handle } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ topAccount: { __typename: 'User', id: 'a1', score: 42, handle: 'ada' } });
  });
});

// Audit suite keys-mashup. The shelves subgraph knows a book by four keys and resolves only the
// composite one with the id, `id edition { volume printing }`; it declares `edition { series volume }`
// resolvable: false. The catalog resolves books only by id. @apollo/query-planner entered shelves
// with the non-resolvable key: the representation had `edition { series volume }` and no id, the
// shelves subgraph found no such book (`_entities: [null]`), and `label: String!` took the shelf
// down to `{ shelf: null }`, the reason only in extensions.valueCompletion (which this gateway's
// plugin moves into errors); a nullable requiring field was a silent null.
describe('an entity whose only key the next subgraph resolves is composite, beside keys it does not resolve', () => {
  type Book = { id: string; isbn: string; edition: { series: string; volume: string; printing: string }; title: string };
  const BOOKS: Book[] = [
    { id: 'b1', isbn: '978-0-441-17271-9', edition: { series: 'dune', volume: '1', printing: '3' }, title: 'Dune' },
    { id: 'b2', isbn: '978-0-441-10402-4', edition: { series: 'dune', volume: '2', printing: '1' }, title: 'Dune Messiah' },
  ];
  const withoutTitle = ({ title: _title, ...book }: Book) => book;
  let catalog: FixtureSubgraph;
  let shelves: FixtureSubgraph;
  let fed: Federation;

  beforeAll(async () => {
    catalog = await startFixtureSubgraph(
      'catalog',
      /* GraphQL */ `
        ${federation('@key')}
        type Book
          @key(fields: "id")
          @key(fields: "isbn", resolvable: false)
          @key(fields: "edition { series volume }", resolvable: false)
          @key(fields: "id edition { volume printing }", resolvable: false) {
          id: ID!
          isbn: ID!
          edition: Edition!
          title: String!
        }
        type Edition { series: ID! volume: ID! printing: ID! }
      `,
      { Book: { __resolveReference: (r: Ref) => BOOKS.find((b) => b.id === r.id) ?? null } },
    );
    shelves = await startFixtureSubgraph(
      'shelves',
      /* GraphQL */ `
        ${federation('@key', '@external', '@requires')}
        type Query { shelf: Shelf }
        type Shelf @key(fields: "id") { id: ID! books: [Book!]! }
        type Book
          @key(fields: "edition { series volume }", resolvable: false)
          @key(fields: "id edition { volume printing }")
          @key(fields: "isbn", resolvable: false)
          @key(fields: "id", resolvable: false) {
          id: ID!
          isbn: ID!
          edition: Edition!
          title: String! @external
          label: String! @requires(fields: "title")
          note: String @requires(fields: "title")
        }
        type Edition { series: ID! volume: ID! printing: ID! }
      `,
      {
        Query: { shelf: () => ({ id: 'fiction' }) },
        Shelf: { books: () => BOOKS.map(withoutTitle) },
        Book: {
          // Found by its resolvable key only: the id and the edition's volume and printing.
          __resolveReference: (r: Ref) => {
            const book = BOOKS.find((b) => b.id === r.id && b.edition.volume === r.edition?.volume && b.edition.printing === r.edition?.printing);
            return book ? { ...withoutTitle(book), title: r.title } : null;
          },
          label: (b: Ref) => `${b.title}, vol. ${b.edition.volume}`,
          note: (b: Ref) => `on the shelf: ${b.title}`,
        },
      },
    );
    fed = await startFederation([catalog, shelves]);
  });
  afterAll(() => closeAll(fed, catalog, shelves));

  it('enters the next subgraph by the composite key it resolves, with what it requires', async () => {
    // @apollo/gateway: { shelf: null } and Book.label's non-null violation at [shelf, books, 0, label]; shelves
    // was sent { __typename, title, edition { series volume } }, without the id.
    shelves.resetCalls();
    const res = await fed.query(`{ shelf { id books { id title label } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      shelf: {
        id: 'fiction',
        books: [
          { id: 'b1', title: 'Dune', label: 'Dune, vol. 1' },
          { id: 'b2', title: 'Dune Messiah', label: 'Dune Messiah, vol. 2' },
        ],
      },
    });
    expect(shelves.entityCalls()).toEqual([
      [
        { __typename: 'Book', id: 'b1', edition: { volume: '1', printing: '3' }, title: 'Dune' },
        { __typename: 'Book', id: 'b2', edition: { volume: '2', printing: '1' }, title: 'Dune Messiah' },
      ],
    ]);
  });

  it('answers a nullable requiring field with its value, where the wrong key nulled it without an error', async () => {
    // @apollo/gateway: { shelf: { books: [{ id: 'b1', note: null }, { id: 'b2', note: null }] } } and no error at all.
    const res = await fed.query(`{ shelf { books { id note } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ shelf: { books: [{ id: 'b1', note: 'on the shelf: Dune' }, { id: 'b2', note: 'on the shelf: Dune Messiah' }] } });
  });
});

// Audit suite non-resolvable-interface-object, its first three cases. Asset is an entity interface
// of the library subgraph that no object type implements; the tagging subgraph adds `tag` to it as
// an @interfaceObject whose key is resolvable: false, so nothing can enter tagging from the
// library's `featured` asset. Second case: @apollo/query-planner made an empty plan and
// @apollo/gateway answered { featured: null } without any error, having asked no subgraph; the
// gateway refuses the operation and says which field it cannot reach. First and third: tagging's
// own root field `tagged` answers an Asset, whose fields it has; @apollo/gateway answers them, and
// the gateway answered `tagged: null` with "Abstract type Asset must resolve to an Object type at
// runtime" until such a value was answered as the interface itself (supergraphInfo.ts,
// interfacesAsObjects).
describe('a field reachable only through a non-resolvable @interfaceObject', () => {
  let library: FixtureSubgraph;
  let tagging: FixtureSubgraph;
  let fed: Federation;

  beforeAll(async () => {
    library = await startFixtureSubgraph(
      'library',
      /* GraphQL */ `
        ${federation('@key')}
        type Query { featured: Asset }
        interface Asset @key(fields: "id") { id: ID! }
      `,
      { Query: { featured: () => ({ id: 'a1' }) }, Asset: { __resolveType: () => null } },
    );
    tagging = await startFixtureSubgraph(
      'tagging',
      /* GraphQL */ `
        ${federation('@key', '@interfaceObject')}
        type Query { tagged: Asset }
        type Asset @key(fields: "id", resolvable: false) @interfaceObject { id: ID! tag: String! }
      `,
      { Query: { tagged: () => ({ id: 'a1', tag: 'classic' }) } },
    );
    fed = await startFederation([library, tagging]);
  });
  afterAll(() => closeAll(fed, library, tagging));

  it('answers an error naming the field it cannot reach, never a silent null', async () => {
    // @apollo/gateway: HTTP 200, { data: { featured: null } }, no errors, no subgraph called.
    library.resetCalls();
    tagging.resetCalls();
    const res = await fed.query(`{ featured { tag } }`);
    expect(res.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/\btag\b/), extensions: expect.objectContaining({ code: 'QUERY_PLANNING_FAILED' }) })]);
    expect(res.data ?? null).toBeNull();
    expect(library.calls).toEqual([]);
    expect(tagging.calls).toEqual([]);
  });

  it('answers the interface object’s own root field with the fields it has, in one fetch', async () => {
    // @apollo/gateway: the same.
    library.resetCalls();
    tagging.resetCalls();
    const res = await fed.query(`{ tagged { id tag } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ tagged: { id: 'a1', tag: 'classic' } });
    expect(library.calls).toEqual([]);
    expect(tagging.calls).toHaveLength(1);
  });

  it('answers the interface object’s own root field with its key alone', async () => {
    // @apollo/gateway: the same.
    const res = await fed.query(`{ tagged { id } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ tagged: { id: 'a1' } });
  });

  it('applies fragments on the interface to it, and introspection still calls it an interface without possible types', async () => {
    // @apollo/gateway: the same.
    const res = await fed.query(`{ tagged { ... on Asset { tag } } __type(name: "Asset") { kind possibleTypes { name } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ tagged: { tag: 'classic' }, __type: { kind: 'INTERFACE', possibleTypes: [] } });
  });
});
