// What the reservation tests share: a store with stock published as the catalog does, orders
// placed concurrently through a subgraph, and waits on the orders' decisions.
import type { Kafka } from 'kafkajs';
import { CATALOG_INVENTORY_TOPIC, createEvent } from '../../schema/events';
import { as, gql, type GraphQLResult } from './graphqlClient';
import { waitFor } from './waitFor';

export const ORDER = 'id status version items { product { id } quantity reserved short notFound } shortItems { product { id } short }';

/** Publishes a store and stock reports onto catalog.inventory, as the catalog's commands do. */
export async function publishStock(kafka: Kafka, namespace: string, storeId: string, levels: Record<string, number>): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const events = [
      createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId, name: `Store ${storeId}` }),
      ...Object.entries(levels).map(([productId, quantity]) => createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId, productId, quantity })),
    ];
    await producer.send({
      topic: `${namespace}${CATALOG_INVENTORY_TOPIC.name}`,
      acks: -1,
      messages: events.map((e) => ({ key: e.key, value: JSON.stringify(e), headers: { 'event-type': e.type } })),
    });
  } finally {
    await producer.disconnect();
  }
}

export interface Placed {
  readonly customer: string;
  readonly result: GraphQLResult & { status: number };
}

/** `n` customers each order `quantity` of `productId` at `storeId` at the same moment. */
export function placeConcurrently(url: string, storeId: string, productId: string, n: number, label: string, quantity = 1): Promise<Placed[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const customer = `${label}-${i}`;
      const result = await gql(
        url,
        `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER} } }`,
        { input: { storeId, items: [{ productId, quantity }] } },
        as(customer, 'customer'),
      );
      return { customer, result };
    }),
  );
}

type OrderRead = { id: string; status: string; items: Array<{ reserved: number | null; short: number | null; quantity: number }>; shortItems: unknown[] };

/** Waits until every order is decided (CONFIRMED or PARTIALLY_CONFIRMED) and returns them. */
export async function decided(url: string, ids: readonly string[], timeoutMs = 60_000): Promise<OrderRead[]> {
  const admin = as('admin-1', 'admin');
  return waitFor(
    async () => {
      const orders = await Promise.all(ids.map(async (id) => (await gql(url, `query($id: ID!) { order(id: $id) { ${ORDER} } }`, { id }, admin)).data?.order as OrderRead));
      const open = orders.filter((o) => o.status === 'PLACED').length;
      return open === 0 ? orders : null;
    },
    { what: `${ids.length} orders to be decided`, timeoutMs },
  );
}
