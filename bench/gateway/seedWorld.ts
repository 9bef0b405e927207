// The data the gateway benchmark queries: stores, products with stock in every store,
// customers and orders, produced as events into a namespace's topics, and a check that the
// subgraphs' views hold all of it before any gateway is measured.
import { CATALOG_INVENTORY_TOPIC, CATALOG_PRODUCTS_CDC_TOPIC, createEvent, CUSTOMERS_TOPIC, debeziumRecord, type CatalogInventoryEvent, type CustomersEvent, type Envelope, ORDERS_TOPIC, type OrdersEvent } from '../../schema/events';
import { IDENTITY_HEADER, signIdentity } from '../../platform/identity';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import { createEventProducer } from '../../subgraphs/runtime/producer';
import { waitFor } from '../../test/support/waitFor';
import { BENCH_ADMIN } from './adminIdentity';
import { seededRandom } from '../../scripts/simulator/simulation';

export interface WorldSize {
  readonly stores: number;
  readonly products: number;
  readonly customers: number;
  readonly orders: number;
}

export interface World {
  readonly orderIds: readonly string[];
  readonly storeIds: readonly string[];
  /** Orders per customer id, to check the customers' view folded every order. */
  readonly orderCounts: ReadonlyMap<string, number>;
  readonly events: number;
}

export const storeId = (i: number) => `store-${i}`;
export const productId = (i: number) => `product-${i}`;
export const customerId = (i: number) => `customer-${i}`;
export const orderId = (i: number) => `order-${i}`;

/** Produces the world's events into `namespace`'s topics (seeded, so every run queries the same data). */
export async function produceWorld(namespace: string, size: WorldSize, seed = 42): Promise<World> {
  const random = seededRandom(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const byTopic = {
    customers: [] as CustomersEvent[],
    // Products are rows of the catalog database: their changes as Debezium writes them.
    catalogProducts: [] as Array<{ key: Buffer; value: Buffer }>,
    catalogInventory: [] as CatalogInventoryEvent[],
    orders: [] as OrdersEvent[],
  };

  const prices: number[] = [];
  for (let p = 0; p < size.products; p++) {
    prices.push(100 + pick(9_900));
    byTopic.catalogProducts.push(
      debeziumRecord({
        key: { id: productId(p) },
        op: 'r',
        lsn: p + 1,
        after: { id: productId(p), name: `Product ${p}`, brand: null, category: `category-${p % 10}`, price_cents: prices[p], updated_at: '2026-01-01T00:00:00Z' },
      }),
    );
  }
  for (let s = 0; s < size.stores; s++) {
    byTopic.catalogInventory.push(createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: storeId(s), name: `Store ${s}` }));
    // Every product in every store, quantities spread over the three stock statuses.
    for (let p = 0; p < size.products; p++)
      byTopic.catalogInventory.push(createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: storeId(s), productId: productId(p), quantity: pick(40) }));
  }
  for (let c = 0; c < size.customers; c++)
    byTopic.customers.push(
      createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId: customerId(c), name: `Customer ${c}`, email: `customer${c}@example.com`, tier: c % 5 === 0 ? 'PLUS' : 'STANDARD' }),
    );
  const orderCounts = new Map<string, number>();
  for (let o = 0; o < size.orders; o++) {
    const customer = customerId(pick(size.customers));
    orderCounts.set(customer, (orderCounts.get(customer) ?? 0) + 1);
    const chosen = new Set<number>();
    const lines = 1 + pick(4);
    while (chosen.size < lines) chosen.add(pick(size.products));
    const items = [...chosen].map((p) => ({ productId: productId(p), quantity: 1 + pick(3), unitPriceCents: prices[p] }));
    byTopic.orders.push(
      createEvent(ORDERS_TOPIC, 'OrderPlaced', {
        orderId: orderId(o),
        customerId: customer,
        storeId: storeId(pick(size.stores)),
        items,
        totalCents: items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0),
      }),
    );
  }

  const producer = await createEventProducer(createKafka(kafkaConfigFromEnv()));
  let events = 0;
  try {
    const topics: Array<[string, readonly Envelope<string, unknown>[]]> = [
      [CUSTOMERS_TOPIC.name, byTopic.customers],
      [CATALOG_INVENTORY_TOPIC.name, byTopic.catalogInventory],
      [ORDERS_TOPIC.name, byTopic.orders],
    ];
    for (const [topic, all] of topics) {
      // In slices, so no request comes near the broker's message size limit.
      for (let i = 0; i < all.length; i += 500) await producer.publishMany(`${namespace}${topic}`, all.slice(i, i + 500));
      events += all.length;
    }
    for (let i = 0; i < byTopic.catalogProducts.length; i += 500)
      await producer.publishRaw(`${namespace}${CATALOG_PRODUCTS_CDC_TOPIC.name}`, byTopic.catalogProducts.slice(i, i + 500));
    events += byTopic.catalogProducts.length;
  } finally {
    await producer.close();
  }
  return {
    orderIds: Array.from({ length: size.orders }, (_, i) => orderId(i)),
    storeIds: Array.from({ length: size.stores }, (_, i) => storeId(i)),
    orderCounts,
    events,
  };
}

export interface SubgraphUrls {
  readonly customers: string;
  readonly catalog: string;
  readonly orders: string;
}

/**
 * Waits until every subgraph says it is ready and its views hold the whole world: every order,
 * every customer's order count, every product, and each store's last stock report (a store's
 * reports share a partition, so its last one applied means all of them were).
 */
export async function waitForWorld(urls: SubgraphUrls, world: World, size: WorldSize, secret: string): Promise<void> {
  const query = async (url: string, text: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: signIdentity(BENCH_ADMIN, secret) },
      body: JSON.stringify({ query: text }),
    });
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string }> };
    if (body.errors?.length) throw new Error(`${url}: ${body.errors[0].message}`);
    return body.data ?? {};
  };
  const aliased = <T>(items: readonly T[], field: (item: T) => string) => `{ ${items.map((item, i) => `a${i}: ${field(item)}`).join(' ')} }`;
  const inChunks = async <T>(items: readonly T[], check: (chunk: readonly T[]) => Promise<boolean>) => {
    for (let i = 0; i < items.length; i += 250) if (!(await check(items.slice(i, i + 250)))) return false;
    return true;
  };

  for (const [name, url] of Object.entries(urls))
    await waitFor(async () => (await fetch(url.replace(/\/graphql$/, '/ready'))).ok, { timeoutMs: 90_000, what: `${name} /ready` });
  await waitFor(
    () =>
      inChunks(world.orderIds, async (ids) => {
        const data = await query(urls.orders, aliased(ids, (id) => `order(id: "${id}") { id }`));
        return Object.values(data).every((o) => o !== null);
      }),
    { timeoutMs: 90_000, intervalMs: 500, what: 'every order in the orders view' },
  );
  const counts = [...world.orderCounts];
  await waitFor(
    () =>
      inChunks(counts, async (chunk) => {
        const data = await query(urls.customers, aliased(chunk, ([id]) => `customer(id: "${id}") { orderCount }`));
        return chunk.every(([, n], i) => (data[`a${i}`] as { orderCount: number } | null)?.orderCount === n);
      }),
    { timeoutMs: 90_000, intervalMs: 500, what: "every customer's order count in the customers views" },
  );
  const lastProduct = productId(size.products - 1);
  await waitFor(
    async () => {
      const products = Array.from({ length: size.products }, (_, i) => productId(i));
      const all = await inChunks(products, async (ids) => Object.values(await query(urls.catalog, aliased(ids, (id) => `product(id: "${id}") { id }`))).every((p) => p !== null));
      if (!all) return false;
      const data = await query(urls.catalog, `{ product(id: "${lastProduct}") ${aliased(world.storeIds, (s) => `availability(storeId: "${s}") { quantity }`)} }`);
      const product = data.product as Record<string, unknown> | null;
      return product !== null && Object.values(product).every((level) => level !== null);
    },
    { timeoutMs: 90_000, intervalMs: 500, what: 'every product and stock level in the catalog views' },
  );
}
