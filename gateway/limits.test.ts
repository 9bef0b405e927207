// Unit tests of the operation limits: measuring depth, aliases and cost, and the errors (GATEWAY_* parsing: limitsFromEnv.test.ts).

import { buildSchema, getIntrospectionQuery, parse, validate, type DocumentNode } from 'graphql';
import { checkLimits, DEFAULT_LIMITS, measureOperation, type OperationLimits } from './limits';

// Shaped like the public schema in API.md, plus a union (abstract types) and a `limit` argument.
const schema = buildSchema(`
  type Query {
    customer(id: ID!): Customer
    customers(first: Int = 20, after: String): CustomerConnection!
    product(id: ID!): Product
    search(text: String!): [SearchResult!]!
  }
  type Customer { id: ID!  name: String!  email: String!  orders(first: Int = 20, after: String): OrderConnection!  favorites(limit: Int): [Product!]! }
  type CustomerConnection { edges: [CustomerEdge!]!  pageInfo: PageInfo! }
  type CustomerEdge { cursor: String!  node: Customer! }
  type Order { id: ID!  status: OrderStatus!  items: [OrderItem!]!  tags: [String!]! }
  type OrderConnection { edges: [OrderEdge!]!  pageInfo: PageInfo! }
  type OrderEdge { cursor: String!  node: Order! }
  type OrderItem { product: Product!  quantity: Int! }
  type Product { id: ID!  name: String!  availability(storeId: ID!): InventoryLevel }
  type InventoryLevel { storeId: ID!  product: Product!  quantity: Int! }
  type PageInfo { hasNextPage: Boolean!  endCursor: String }
  enum OrderStatus { PLACED  DELIVERED }
  union SearchResult = Customer | Product
`);

/** Parses and validates, as the gateway does before it checks limits. */
function doc(source: string): DocumentNode {
  const document = parse(source);
  const errors = validate(schema, document);
  if (errors.length > 0) throw new Error(`test query is invalid: ${errors.map((e) => e.message).join('; ')}`);
  return document;
}

const NO_INTROSPECTION = { introspectionFields: 0, introspectionDepth: 0 };

function measure(source: string, variables?: Record<string, unknown>, limits: OperationLimits = DEFAULT_LIMITS, operationName?: string) {
  return measureOperation(schema, doc(source), operationName, variables, limits);
}

function check(source: string, variables?: Record<string, unknown>, limits: OperationLimits = DEFAULT_LIMITS) {
  return checkLimits(schema, doc(source), undefined, variables, limits);
}

// customers(1) edges(2) node(3) orders(4) edges(5) node(6) items(7) product(8) availability(9) product(10) availability(11) ...
const nestedTo = (leaf: string) => `{
  customers(first: 1) { edges { node { orders(first: 1) { edges { node { items { product {
    availability(storeId: "s1") { product { availability(storeId: "s1") { ${leaf} } } }
  } } } } } } } } }`;

const aliasedProducts = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `p${i}: product(id: "${i}") { id }`).join(' ')} }`;

describe('measureOperation', () => {
  it('counts a connection page once: fields cost 1, the connection multiplies by first', () => {
    // node = 1 + (id + name) = 3; edges inside the connection are not multiplied again = 4; customers = 1 + 10 x 4.
    expect(measure('{ customers(first: 10) { edges { node { id name } } } }')).toEqual({ depth: 4, aliases: 0, cost: 41, ...NO_INTROSPECTION });
  });

  it('multiplies lists inside lists', () => {
    // items (no argument) = 1 + 20 x 1; order node = 22; edges = 23; orders = 1 + 5 x 23 = 116; node 117; edges 118;
    // customers = 1 + 10 x 118.
    const m = measure('{ customers(first: 10) { edges { node { orders(first: 5) { edges { node { items { quantity } } } } } } } }');
    expect(m).toEqual({ depth: 8, aliases: 0, cost: 1181, ...NO_INTROSPECTION });
  });

  it('takes the page size from a variable, including the variable default', () => {
    const query = 'query Page($n: Int = 7) { customers(first: $n) { edges { node { id } } } }';
    expect(measure(query, { n: 100 }).cost).toBe(1 + 100 * 3);
    expect(measure(query, {}).cost).toBe(1 + 7 * 3);
  });

  it('uses the argument default of the schema before defaultListSize', () => {
    const limits = { ...DEFAULT_LIMITS, defaultListSize: 3 };
    // customers(first: Int = 20): 20, not 3.
    expect(measure('{ customers { edges { node { id } } } }', undefined, limits).cost).toBe(1 + 20 * 3);
    // items has no size argument at all: defaultListSize.
    // items = 1 + 3 x 1; order node 5; edges 6; orders = 1 + 2 x 6; customer 14.
    expect(measure('{ customer(id: "c1") { orders(first: 2) { edges { node { items { quantity } } } } } }', undefined, limits).cost).toBe(14);
  });

  it('reads a limit argument and counts scalar and enum lists as 1', () => {
    expect(measure('{ customer(id: "c1") { favorites(limit: 4) { id name } } }').cost).toBe(1 + (1 + 4 * 2));
    expect(measure('{ customer(id: "c1") { orders(first: 2) { edges { node { tags status } } } } }').cost).toBe(1 + (1 + 2 * (1 + (1 + 2))));
  });

  it('expands named fragments, counting their aliases and cost per use', () => {
    const query = `
      fragment Contact on Customer { display: name mail: email }
      { customer(id: "c1") { ...Contact } other: customer(id: "c2") { ...Contact } }`;
    expect(measure(query)).toEqual({ depth: 2, aliases: 5, cost: 3 + 3, ...NO_INTROSPECTION });
  });

  it('measures a fragment the same as the selection written out', () => {
    const inline = measure('{ customers(first: 10) { edges { node { id orders(first: 3) { edges { node { id } } } } } } }');
    const fragmented = measure(`
      fragment OrderIds on OrderConnection { edges { node { id } } }
      fragment Row on Customer { id orders(first: 3) { ...OrderIds } }
      { customers(first: 10) { edges { node { ...Row } } } }`);
    expect(fragmented).toEqual(inline);
  });

  it('sums inline fragments over the type conditions of a union', () => {
    // search has no size argument: 20 x (Customer: id + name, Product: id).
    expect(measure('{ search(text: "milk") { ... on Customer { id name } ... on Product { id } } }')).toEqual({ depth: 2, aliases: 0, cost: 1 + 20 * 3, ...NO_INTROSPECTION });
    // An inline fragment without a type condition is just more fields.
    expect(measure('{ customer(id: "c1") { ... { id } ... @include(if: true) { name } } }').cost).toBe(3);
  });

  it('counts __typename as a field, and introspection apart: its selections, its depth, its lists at 1', () => {
    expect(measure('{ __typename customer(id: "c1") { __typename } }')).toEqual({ depth: 2, aliases: 0, cost: 3, ...NO_INTROSPECTION });
    // __schema(1) types(2) name(3); the schema's own lists are not the client's to size.
    expect(measure('{ __schema { types { name } } }')).toEqual({ depth: 0, aliases: 0, cost: 3, introspectionFields: 1, introspectionDepth: 3 });
    expect(measure('{ customer(id: "c1") { id } a: __type(name: "Query") { name } b: __schema { queryType { name } } }')).toEqual({
      depth: 2,
      aliases: 2,
      cost: 2 + 2 + 3,
      introspectionFields: 2,
      introspectionDepth: 3,
    });
  });

  it('measures the named operation of a document with several', () => {
    const source = 'query Small { customer(id: "c1") { id } } query Big { customers(first: 50) { edges { node { id } } } }';
    expect(measure(source, undefined, DEFAULT_LIMITS, 'Small').cost).toBe(2);
    expect(measure(source, undefined, DEFAULT_LIMITS, 'Big').cost).toBe(1 + 50 * 3);
    // No such operation: execution reports it, so the limits have nothing to say.
    expect(measure(source, undefined, DEFAULT_LIMITS, 'Missing')).toEqual({ depth: 0, aliases: 0, cost: 0, ...NO_INTROSPECTION });
  });

  it('terminates on fragment cycles (which validation would have rejected)', () => {
    const cyclic = parse(`
      fragment A on Customer { name ...B }
      fragment B on Customer { email ...A }
      { customer(id: "c1") { ...A } }`);
    expect(measureOperation(schema, cyclic, undefined, undefined, DEFAULT_LIMITS)).toEqual({ depth: 2, aliases: 0, cost: 3, ...NO_INTROSPECTION });
  });

  it('measures each fragment once, so doubling fragments cost time linear in the document', () => {
    // F40 spreads F39 twice, ... : 2^40 uses of `name`, which a naive walk would visit one by one.
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i + 1} on Customer { ...F${i} ...F${i} }`).join('\n');
    const m = measure(`fragment F0 on Customer { name }\n${fragments}\n{ customer(id: "c1") { ...F40 } }`);
    expect(m).toEqual({ depth: 2, aliases: 0, cost: 1 + 2 ** 40, ...NO_INTROSPECTION });
    expect(check(`fragment F0 on Customer { name }\n${fragments}\n{ customer(id: "c1") { ...F40 } }`).map((e) => e.extensions.limit)).toEqual(['cost']);
  });
});

describe('checkLimits', () => {
  it('passes an operation within every limit', () => {
    expect(check('{ customers(first: 10) { edges { node { id name } } pageInfo { hasNextPage } } }')).toEqual([]);
  });

  it('allows depth 12 and refuses depth 13', () => {
    expect(measure(nestedTo('quantity')).depth).toBe(12);
    expect(check(nestedTo('quantity'))).toEqual([]);

    const errors = check(nestedTo('product { name }'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe('operation depth 13 exceeds the maximum of 12');
    expect(errors[0]!.extensions).toEqual({ code: 'OPERATION_LIMIT', limit: 'depth', max: 12, measured: 13 });
    expect(errors[0]!.locations).toEqual([{ line: 1, column: 1 }]);
  });

  it('counts __typename toward depth', () => {
    expect(check(nestedTo('product { __typename }')).map((e) => e.extensions.measured)).toEqual([13]);
  });

  it('allows 30 aliases and refuses 31', () => {
    expect(check(aliasedProducts(30))).toEqual([]);
    const errors = check(aliasedProducts(31));
    expect(errors.map((e) => e.message)).toEqual(['operation alias count 31 exceeds the maximum of 30']);
    expect(errors[0]!.extensions).toEqual({ code: 'OPERATION_LIMIT', limit: 'aliases', max: 30, measured: 31 });
  });

  it('allows cost up to the maximum and refuses one over, with first set by a variable', () => {
    const query = 'query Page($n: Int!) { customers(first: $n) { edges { node { id name } } } }';
    // 1 + n x 4 = 4997 at n = 1249, 5001 at n = 1250.
    expect(check(query, { n: 1249 })).toEqual([]);
    const errors = check(query, { n: 1250 });
    expect(errors.map((e) => e.message)).toEqual(['operation estimated cost 5001 exceeds the maximum of 5000']);
    expect(errors[0]!.extensions).toEqual({ code: 'OPERATION_LIMIT', limit: 'cost', max: 5000, measured: 5001 });
  });

  it('refuses a nested list fan-out that stays shallow', () => {
    const errors = check('{ customers(first: 50) { edges { node { orders(first: 50) { edges { node { items { quantity } } } } } } } }');
    expect(errors.map((e) => e.extensions.limit)).toEqual(['cost']);
    expect(errors[0]!.extensions.measured).toBe(1 + 50 * (1 + 1 + (1 + 50 * (1 + 1 + (1 + 20)))));
  });

  it('reports every limit exceeded, in the order depth, aliases, cost', () => {
    const limits = { ...DEFAULT_LIMITS, maxDepth: 2, maxAliases: 0, maxCost: 10 };
    const errors = check('{ c: customers(first: 10) { edges { node { id } } } }', undefined, limits);
    expect(errors.map((e) => e.message)).toEqual([
      'operation depth 4 exceeds the maximum of 2',
      'operation alias count 1 exceeds the maximum of 0',
      'operation estimated cost 31 exceeds the maximum of 10',
    ]);
  });

  it('lets the standard introspection query through the default limits', () => {
    const m = measureOperation(schema, parse(getIntrospectionQuery()), undefined, undefined, DEFAULT_LIMITS);
    expect(m).toMatchObject({ depth: 0, introspectionFields: 1, introspectionDepth: 15 });
    expect(checkLimits(schema, parse(getIntrospectionQuery()), undefined, undefined, DEFAULT_LIMITS)).toEqual([]);
  });

  it('holds schema-only operations to limits: many __schema selections, deep __type nesting', () => {
    const many = `{ ${Array.from({ length: 100 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`;
    expect(check(many).map((e) => e.extensions.limit)).toEqual(['aliases', 'introspection']);
    expect(check(`{ a: __schema { queryType { name } } b: __schema { queryType { name } } c: __type(name: "Query") { name } }`)).toEqual([]);
    expect(check(`{ a: __schema { queryType { name } } b: __schema { queryType { name } } c: __type(name: "Query") { name } d: __typename __type(name: "Query") { name } }`).map((e) => e.extensions.limit)).toEqual(['introspection']);
    const ofTypes = (n: number): string => (n === 0 ? 'name' : `ofType { ${ofTypes(n - 1)} }`);
    const deep = `{ __type(name: "Query") { fields { type { ${ofTypes(20)} } } } }`;
    expect(check(deep).map((e) => e.extensions)).toEqual([{ code: 'OPERATION_LIMIT', limit: 'introspectionDepth', max: 20, measured: 24 }]);
    // Fragments count per use, so spreading one __schema fragment many times counts each time.
    const spread = `fragment S on Query { __schema { queryType { name } } } { ...S ...S ... on Query { ...S ...S } }`;
    expect(check(spread).map((e) => e.extensions.limit)).toEqual(['introspection']);
  });
});
