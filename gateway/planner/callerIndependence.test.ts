// Which entity fetches may serve several callers: pure logic over supergraph SDL and operations.
import fs from 'node:fs';
import { buildASTSchema, parse } from 'graphql';
import { SUPERGRAPH_PATH } from '../../schema/subgraphs';
import { callerIndependentNames, isCallerIndependentFetch, markedFields } from './callerIndependence';

const supergraph = (link: string, fields: string) =>
  parse(`schema @link(url: "https://specs.apollo.dev/link/v1.0") ${link} { query: Query }
    directive @link(url: String, as: String, import: [String]) repeatable on SCHEMA
    directive @callerIndependent on FIELD_DEFINITION
    directive @renamed on FIELD_DEFINITION
    directive @caller__callerIndependent on FIELD_DEFINITION
    type Query { _x: Int }
    type Product { ${fields} }
    type Level { quantity: Int @callerIndependent  reserved: Int }
    type Customer { name: String }`);

describe('callerIndependentNames', () => {
  it('follows the import, a rename, or the spec prefix; nothing without the link', () => {
    expect([...callerIndependentNames(supergraph('@link(url: "https://streamgraph.dev/caller/v1.0", import: ["@callerIndependent"])', 'id: ID'))]).toEqual(['callerIndependent']);
    expect([...callerIndependentNames(supergraph('@link(url: "https://streamgraph.dev/caller/v1.0", import: [{name: "@callerIndependent", as: "@renamed"}])', 'id: ID'))]).toEqual(['renamed']);
    expect([...callerIndependentNames(supergraph('@link(url: "https://streamgraph.dev/caller/v1.0")', 'id: ID'))]).toEqual(['caller__callerIndependent']);
    expect(callerIndependentNames(supergraph('', 'id: ID')).size).toBe(0);
  });

  it('marks no field when the directive is not linked, whatever it is called', () => {
    expect(markedFields(supergraph('', 'name: String @callerIndependent')).size).toBe(0);
  });
});

describe('isCallerIndependentFetch', () => {
  const doc = supergraph(
    '@link(url: "https://streamgraph.dev/caller/v1.0", import: ["@callerIndependent"])',
    'name: String @callerIndependent  price: Int  level: Level @callerIndependent',
  );
  const schema = buildASTSchema(doc, { assumeValidSDL: true });
  const marked = markedFields(doc);
  const check = (op: string) => isCallerIndependentFetch(op, schema, marked);
  const entities = (sel: string) => `query($representations:[_Any!]!){_entities(representations:$representations){${sel}}}`;

  it('is true for an entity fetch of marked fields only, at every depth', () => {
    expect(marked).toEqual(new Set(['Product.name', 'Product.level', 'Level.quantity']));
    expect(check(entities('...on Product{__typename name level{quantity}}'))).toBe(true);
    expect(check(`query($representations:[_Any!]!){_entities(representations:$representations){...P}} fragment P on Product{name}`)).toBe(true);
  });

  it('is false as soon as one field is not marked, nested or not', () => {
    expect(check(entities('...on Product{name price}'))).toBe(false);
    expect(check(entities('...on Product{level{quantity reserved}}'))).toBe(false);
    expect(check(entities('...on Product{name} ...on Customer{name}'))).toBe(false);
    expect(check(`query($representations:[_Any!]!){_entities(representations:$representations){...P}} fragment P on Product{price}`)).toBe(false);
  });

  it('is false for anything but an entity query, and for text it cannot parse', () => {
    expect(check('query{product{name}}')).toBe(false);
    expect(check(`mutation($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}`)).toBe(false);
    expect(check(entities('name'))).toBe(false);
    expect(check('query{')).toBe(false);
  });
});

describe('the checked-in supergraph', () => {
  it("marks the catalog's product and stock fields, and none of the customers' or orders'", () => {
    const marked = markedFields(parse(fs.readFileSync(SUPERGRAPH_PATH, 'utf8')));
    expect(marked).toContain('Product.name');
    expect(marked).toContain('Product.availability');
    expect(marked).toContain('InventoryLevel.quantity');
    for (const f of marked) expect(f).not.toMatch(/^(Customer|Order|PageInfo)\./);
  });
});
