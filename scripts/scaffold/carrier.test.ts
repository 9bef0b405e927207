// Which topic carries an entity, found from the declared contracts: the one its owner's views
// fold wins, so the scaffold follows the catalog from its event topic to its CDC topic.
import { CATALOG_PRODUCTS_CDC_TOPIC, CATALOG_PRODUCTS_TOPIC, CUSTOMERS_TOPIC, ORDERS_TOPIC, type TopicContract } from '../../schema/events';
import type { SubgraphDeclaration } from '../../subgraphs/runtime/declaration';
import { findCarrier, probePayload, type Carrier } from './carrier';
import { extendedNames } from './names';

/** A declaration with only what the lookup reads: its topics and the topics its views fold. */
const declared = (name: string, owns: TopicContract[], folds: TopicContract[]) =>
  ({ name, port: 0, portVariable: 'X_PORT', topics: owns, views: Object.fromEntries(folds.map((t, i) => [`v${i}`, { name: `${name}.v${i}`, topic: t }])) }) as unknown as SubgraphDeclaration;
const product = extendedNames('Product', 'id', 'ID');
const carrier = (found: Carrier | string): Carrier => {
  if (typeof found === 'string') throw new Error(found);
  return found;
};

it('takes the topic the owner folds: its event topic, keyed by the id', () => {
  const found = carrier(findCarrier(product, ['catalog'], [declared('catalog', [CATALOG_PRODUCTS_TOPIC], [CATALOG_PRODUCTS_TOPIC]), declared('cdc', [CATALOG_PRODUCTS_CDC_TOPIC], [])]));
  expect(found).toMatchObject({ exportName: 'CATALOG_PRODUCTS_TOPIC', idField: 'productId', keyedById: true, creates: ['ProductUpserted'], deletes: [], debeziumRow: null });
  expect(found.sample).toEqual({ productId: 'sample', name: 'x', category: 'x', priceCents: 0 });
});

it('follows the owner to its CDC topic: the id is a payload field, a lookup asks every partition, tests write Debezium changes', () => {
  const found = carrier(findCarrier(product, ['catalog'], [declared('legacy', [CATALOG_PRODUCTS_TOPIC], []), declared('catalog', [CATALOG_PRODUCTS_CDC_TOPIC], [CATALOG_PRODUCTS_CDC_TOPIC])]));
  expect(found).toMatchObject({ exportName: 'CATALOG_PRODUCTS_CDC_TOPIC', idField: 'id', keyedById: false, creates: ['ProductRowUpserted'], deletes: ['ProductRowDeleted'], sample: null });
  expect(found.debeziumRow).toMatchObject({ id: 'sample' });
});

it('says why when no declared topic carries the type', () => {
  expect(findCarrier(extendedNames('Widget', 'id', 'ID'), ['catalog'], [declared('customers', [CUSTOMERS_TOPIC], [CUSTOMERS_TOPIC])])).toMatch(/^no declared topic carries Widget/);
});

it('builds a payload by asking the contract, nested objects and arrays included', () => {
  expect(probePayload(CUSTOMERS_TOPIC, 'CustomerRegistered').sample).toEqual({ customerId: 'sample', name: 'x', email: 'x', tier: 'STANDARD' });
  expect(probePayload(ORDERS_TOPIC, 'OrderPlaced').sample).toEqual({
    orderId: 'sample',
    customerId: 'x',
    storeId: 'x',
    items: [{ productId: 'x', quantity: 1, unitPriceCents: 0 }],
    totalCents: 0,
  });
});
