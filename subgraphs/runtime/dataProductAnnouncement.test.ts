// Data product declarations as subgraphs announce them: topics and views from the declaration
// (the first product takes what none lists), contracts with their versions, a wrong view named,
// and the built-in products: every topic and view in one, every backed field in the schema, and
// every field a subgraph serves declared under the view it comes from (so fieldLineage answers).
import fs from 'node:fs';
import path from 'node:path';
import { parse, Kind } from 'graphql';
import { topLevelFields } from '../../platform/schemaChecks';
import { subgraphDeclarations } from '../../scripts/declarations';
import { dataProductAnnouncement } from './dataProductAnnouncement';
import { declareSubgraph, defineDataProducts } from './declaration';
import { CUSTOMERS_TOPIC, ORDERS_TOPIC } from '../../schema/events';
import type { AnyProjection } from './projection';

const view = (name: string, topic: typeof CUSTOMERS_TOPIC | typeof ORDERS_TOPIC) => ({ name, topic }) as unknown as AnyProjection;
const levels = { maxLag: { records: 10, seconds: 5 }, maxEventAgeSeconds: null, minValidShare: 0.9 };
const declaration = (dataProducts: ReturnType<typeof defineDataProducts>) =>
  declareSubgraph({ name: 'people', port: 1, portVariable: 'P', topics: [CUSTOMERS_TOPIC], views: { a: view('people.a', CUSTOMERS_TOPIC), b: view('people.b', ORDERS_TOPIC) }, dataProducts });

it('takes topics and views from the declaration; the first product gets what no product lists', () => {
  const [first, second] = dataProductAnnouncement(
    declaration(
      defineDataProducts([
        { name: 'people', team: 't', contact: 'c', description: 'd', serviceLevels: levels, views: { a: ['Person.name'] } },
        { name: 'people-orders', team: 't', contact: 'c', description: 'd', serviceLevels: levels, topics: [], views: { b: ['Person.orderCount'] } },
      ]),
    ),
  );
  expect(first.topics.map((t) => [t.name, t.owner, t.source, t.contract.version, t.contract.status])).toEqual([['customers', 'customers', 'events', 1, 'PUBLISHED']]);
  expect(first.views).toEqual([{ name: 'people.a', topic: 'customers', topicOwner: 'customers', groupId: 'people.people.a', fields: ['Person.name'] }]);
  expect(second.views).toEqual([{ name: 'people.b', topic: 'orders', topicOwner: 'orders', groupId: 'people.people.b', fields: ['Person.orderCount'] }]);
  expect(second.topics).toEqual([]);
  expect((first.topics[0].contract.jsonSchema as { oneOf: unknown[] }).oneOf).toHaveLength(2);
});

it('puts a view no product lists into the first product, backing no field yet', () => {
  const [only] = dataProductAnnouncement(declaration(defineDataProducts([{ name: 'people', team: 't', contact: 'c', description: 'd', serviceLevels: levels, views: { a: [] } }])));
  expect(only.views.map((v) => [v.name, v.fields])).toEqual([['people.a', []], ['people.b', []]]);
});

it('names a view or topic the declaration does not have', () => {
  expect(() => dataProductAnnouncement(declaration(defineDataProducts([{ name: 'p', team: 't', contact: 'c', description: 'd', serviceLevels: levels, views: { nope: [] } }])))).toThrow(
    'subgraphs/people/dataProducts.ts: view nope is not one people declares (a, b)',
  );
  expect(() => dataProductAnnouncement(declaration(defineDataProducts([{ name: 'p', team: 't', contact: 'c', description: 'd', serviceLevels: levels, topics: ['orders'] }])))).toThrow(/topic orders is not one people declares/);
});

describe('the built-in data products', () => {
  const declarations = subgraphDeclarations().filter((d) => ['customers', 'catalog', 'orders'].includes(d.name));
  /** Type.field of every field in the SDL files under schema/. */
  const schemaFields = new Set(
    fs
      .readdirSync(path.join(__dirname, '../../schema'))
      .filter((f) => f.endsWith('.graphql') && f !== 'supergraph.graphql')
      .flatMap((f) => parse(fs.readFileSync(path.join(__dirname, '../../schema', f), 'utf8')).definitions)
      .flatMap((d) => (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION ? (d.fields ?? []).map((f) => `${d.name.value}.${f.name.value}`) : [])),
  );

  it.each(declarations.map((d) => [d.name, d] as const))('%s: every topic and view is in a product, and every backed field exists', (_name, d) => {
    const products = dataProductAnnouncement(d);
    expect(products.length).toBeGreaterThan(0);
    expect(products.flatMap((p) => p.topics.map((t) => t.name)).sort()).toEqual(d.topics.map((t) => t.name).sort());
    expect(products.flatMap((p) => p.views.map((v) => v.name)).sort()).toEqual(Object.values(d.views).map((v) => v.name).sort());
    for (const field of products.flatMap((p) => p.views.flatMap((v) => v.fields))) expect([field, schemaFields.has(field)]).toEqual([field, true]);
    for (const p of products) for (const t of p.topics) expect([t.name, t.contract.status]).not.toEqual([t.name, 'INCOMPATIBLE']);
  });

  /**
   * What a subgraph serves that no view backs, by rule rather than by list, so that a new field
   * fails this test until its team declares where it comes from: key fields (the entity's
   * identity, which every subgraph that knows the entity repeats), the pagination wrappers
   * (PageInfo, connections and their edges carry no data of their own) and mutations (commands:
   * they write events; the views a command reads are declared where the team wants them shown).
   */
  const servedWithoutView = (type: string, field: string, keyFields: ReadonlySet<string>): boolean =>
    keyFields.has(field) || type === 'PageInfo' || type === 'Mutation' || /(Connection|Edge)$/.test(type);

  it.each(declarations.map((d) => [d.name, d] as const))('%s: every field it serves is declared under a view, so fieldLineage answers for it', (name, d) => {
    const sdl = parse(fs.readFileSync(path.join(__dirname, '../../schema', `${name}.graphql`), 'utf8'));
    const declared = new Set(dataProductAnnouncement(d).flatMap((p) => p.views.flatMap((v) => v.fields)));
    const undeclared: string[] = [];
    for (const def of sdl.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const keyFields = new Set(
        (def.directives ?? [])
          .filter((dir) => dir.name.value === 'key')
          .flatMap((dir) => dir.arguments?.filter((a) => a.name.value === 'fields' && a.value.kind === Kind.STRING).flatMap((a) => topLevelFields((a.value as { value: string }).value)) ?? []),
      );
      for (const f of def.fields ?? []) if (!servedWithoutView(def.name.value, f.name.value, keyFields) && !declared.has(`${def.name.value}.${f.name.value}`)) undeclared.push(`${def.name.value}.${f.name.value}`);
    }
    expect(undeclared).toEqual([]);
  });

  it('counts a field no view declares as undeclared (the rule above is not vacuous)', () => {
    expect(servedWithoutView('Order', 'status', new Set(['id']))).toBe(false);
    expect(servedWithoutView('Order', 'id', new Set(['id']))).toBe(true);
    expect(servedWithoutView('InventoryLevel', 'likelihoodInStock', new Set(['storeId', 'productId']))).toBe(false);
  });
});
