// The CLIs' view of the subgraphs: every declaration under subgraphs/, in port order, and the
// topics and views they declare, each once.
import os from 'node:os';
import { CATALOG_INVENTORY_TOPIC, CATALOG_PRODUCTS_CDC_TOPIC, CUSTOMERS_TOPIC, defineTopic, ORDERS_TOPIC } from '../schema/events';
import { ConfigError } from '../platform/configError';
import { declaredTopics, declaredTopicSpecs, declaredViews, findView, subgraphDeclarations, viewNames } from './declarations';

it('finds the subgraphs by their declarations, with their ports, topics and views', () => {
  const declarations = subgraphDeclarations({});
  expect(declarations.slice(0, 3).map((d) => [d.name, d.port, d.portVariable])).toEqual([
    ['customers', 4001, 'CUSTOMERS_PORT'],
    ['catalog', 4002, 'CATALOG_PORT'],
    ['orders', 4003, 'ORDERS_PORT'],
  ]);
  // The shared topics in subgraph order (a subgraph may own more topics than these).
  const shared = [CUSTOMERS_TOPIC, CATALOG_PRODUCTS_CDC_TOPIC, CATALOG_INVENTORY_TOPIC, ORDERS_TOPIC];
  expect(declaredTopics(declarations).filter((t) => shared.includes(t as never))).toEqual(shared);
  const specs = declaredTopicSpecs(declarations).map((s) => s.name);
  expect(specs).toEqual(expect.arrayContaining(['orders', 'orders.dlq', 'catalog.inventory.dlq']));
  expect(new Set(specs).size).toBe(specs.length);
  const views = declaredViews(declarations);
  expect(views.map((v) => v.projection.name)).toEqual(expect.arrayContaining(['customers.orders360', 'orders.stores']));
  expect(viewNames(findView('customers.orders360', views)!, 'ns.')).toEqual({
    view: 'ns.customers.orders360',
    topic: 'ns.orders',
    groupId: 'ns.customers.customers.orders360',
  });
});

it('refuses a folder without a declaration and two contracts for one topic', () => {
  expect(() => subgraphDeclarations({ SUBGRAPH_DIRS: os.tmpdir() })).toThrow(ConfigError);
  const impostor = defineTopic({ ...ORDERS_TOPIC, owner: 'someone-else' });
  const [orders] = subgraphDeclarations({}).filter((d) => d.name === 'orders');
  expect(() => declaredTopics([orders, { ...orders, name: 'copy', topics: [impostor] }])).toThrow(/two different contracts declare the topic orders/);
});
