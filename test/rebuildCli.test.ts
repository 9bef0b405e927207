// `npm run rebuild` on a running subgraph: the view is rebuilt into a new generation and
// switched while the subgraph keeps answering, with the same data.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CATALOG_INVENTORY_TOPIC, createEvent } from '../schema/events';
import { publishProductChange } from './support/catalogDatabase';
import { startOrdersSubgraph } from '../subgraphs/orders';
import { readGeneration } from '../subgraphs/runtime/generation';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { as, gql, TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';

const run = promisify(execFile);
let orders: SubgraphHandle;
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace('rebuild-cli');
  orders = await startOrdersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 });
});
afterAll(async () => {
  await orders.close();
});

it('rebuilds the orders view of a running subgraph and switches to it without losing an order', async () => {
  const prices = orders.runtime.views().find((v) => v.name.endsWith('productPrices'))!;
  const at = await publishProductChange(orders.runtime.kafka, namespace, { productId: 'p-1', name: 'Milk', category: 'dairy', priceCents: 99 });
  await prices.handle.waitFor(at.partition, at.offset, 10_000);
  // Orders are only placed at stores the catalog published.
  const stores = orders.runtime.views().find((v) => v.name.endsWith('orders.stores'))!;
  const store = await orders.runtime.producer.publish(`${namespace}catalog.inventory`, createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: 's', name: 'Corner' }));
  await stores.handle.waitFor(store.partition, store.offset, 10_000);
  const alice = as('c-alice', 'customer');
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await gql(orders.url, `mutation { placeOrder(input: { storeId: "s", items: [{ productId: "p-1", quantity: ${i + 1} }] }) { id } }`, {}, alice);
    ids.push(res.data!.placeOrder.id);
  }

  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, '../scripts/rebuild.ts'), 'orders.orders'], {
    env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace, LOG_LEVEL: 'warn' },
  });
  const switched = /switched g0 -> (g\w+) after (\d+) events/.exec(stdout);
  expect(switched).not.toBeNull();
  expect(Number(switched![2])).toBe(10);
  expect(await readGeneration(orders.runtime.redis, `${namespace}orders.orders`)).toBe(switched![1]);

  const res = await gql(orders.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id totalCents } } }`, { r: ids.map((id) => ({ __typename: 'Order', id })) }, as('admin', 'admin'));
  expect(res.data!._entities.map((o: { totalCents: number }) => o.totalCents)).toEqual(ids.map((_, i) => (i + 1) * 99));
  // The subgraph now writes the new generation: a new order is readable right away.
  const after = await gql(orders.url, `mutation { placeOrder(input: { storeId: "s", items: [{ productId: "p-1", quantity: 1 }] }) { id totalCents } }`, {}, alice);
  expect(after.data!.placeOrder.totalCents).toBe(99);
});
