// Change data capture end to end, against the real PostgreSQL, Kafka Connect (Debezium), broker
// and Redis: the catalog database's products reach the catalog's view, the orders' price view
// and the gateway; the snapshot fills a first start; insert, update and delete show in queries
// and in a subscription carrying product fields; a row image that breaks the contract (a column
// type changed) is dead-lettered with its reason and source position while the rest goes on.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { DEFAULT_LIMITS } from '../gateway/limits';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { createLogger } from '../platform/logger';
import { CATALOG_PRODUCTS_CDC_TOPIC, dlqTopicName } from '../schema/events';
import { startCatalogSubgraph, type CatalogHandle } from '../subgraphs/catalog';
import { catalogSourceFromEnv, catalogSourceNames, ident } from '../subgraphs/catalog/catalogSource';
import { connectorConfig, ensureConnector } from '../subgraphs/catalog/cdcConnector';
import { migrate, migrationFiles } from '../subgraphs/catalog/migrations';
import { startOrdersSubgraph } from '../subgraphs/orders';
import { DEAD_LETTER_HEADERS } from '../subgraphs/runtime/deadLetterHeaders';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { catalogPool, productsTable, removeRunCatalogSources } from './support/catalogDatabase';
import { testGatewayConfig } from './support/gatewayConfig';
import { as, gql, TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';
import { Client as WsClient, createClient } from 'graphql-ws';
import WebSocket from 'ws';

const JWT_SECRET = 'cdc-test-jwt-secret-0123456789abcdef';
const admin = signDevToken({ sub: 'admin-1', roles: ['admin'], secret: JWT_SECRET });
const alice = signDevToken({ sub: 'c-alice', roles: ['customer'], secret: JWT_SECRET });
const SNAPSHOT_ROWS = 50;

let namespace: string;
let db: Pool;
let table: string;
let redis: Redis;
let catalog: CatalogHandle;
let orders: SubgraphHandle;
let gateway: GatewayHandle;

async function call(query: string, variables: Record<string, unknown> = {}, bearer?: string, headers: Record<string, string> = {}) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[]; extensions?: any };
}

const product = async (id: string) =>
  (await call(`query($id: ID!) { product(id: $id) { id name brand category priceCents } }`, { id })).data?.product ?? null;

beforeAll(async () => {
  namespace = await createNamespace('cdc');
  db = catalogPool();
  // Rows that exist before the catalog ever starts: only Debezium's snapshot can bring them.
  const { schema } = catalogSourceNames(catalogSourceFromEnv(), namespace);
  await migrate(db, schema);
  table = productsTable(namespace);
  await db.query(
    `INSERT INTO ${table} (id, name, brand, category, price_cents)
     SELECT 'snap-' || i, 'Snapshot product ' || i, CASE WHEN i % 2 = 0 THEN 'Acme' END, 'pantry', 100 + i FROM generate_series(1, ${SNAPSHOT_ROWS}) AS i`,
  );
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, logger: createLogger('cdc-test', 'error') };
  [catalog, orders] = await Promise.all([startCatalogSubgraph(opts), startOrdersSubgraph(opts)]);
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'cdc-test' }, { limits: DEFAULT_LIMITS }));
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([catalog?.close(), orders?.close()]);
  // This file's connector and slot go now rather than at the end of the run: no WAL held meanwhile.
  if (namespace) await removeRunCatalogSources(namespace);
  await db?.end();
  redis?.disconnect();
});

it('fills the view from the snapshot of the rows that existed before the first start', async () => {
  await waitFor(async () => (await catalog.views.products.reader.getMany([`snap-${SNAPSHOT_ROWS}`]))[0] !== undefined, {
    timeoutMs: 60_000,
    what: 'the snapshot in the view',
  });
  const ids = Array.from({ length: SNAPSHOT_ROWS }, (_, i) => `snap-${i + 1}`);
  const states = await catalog.views.products.reader.getMany(ids);
  expect(states.filter(Boolean)).toHaveLength(SNAPSHOT_ROWS);
  expect(await product('snap-2')).toEqual({ id: 'snap-2', name: 'Snapshot product 2', brand: 'Acme', category: 'pantry', priceCents: 102 });
  expect((await catalog.views.products.reader.getMany(['snap-2']))[0]).toMatchObject({ version: 1 });
  expect(await product('snap-3')).toMatchObject({ brand: null, priceCents: 103 });
});

it('applies each migration once, recorded in the database, and registers the connector only when its config differs', async () => {
  const { schema, connector } = catalogSourceNames(catalogSourceFromEnv(), namespace);
  expect(await migrate(db, schema)).toEqual([]);
  const recorded = await db.query<{ version: string }>(`SELECT version FROM ${ident(schema)}.schema_migrations ORDER BY version`);
  expect(recorded.rows.map((r) => r.version)).toEqual(migrationFiles().map((m) => m.version));
  // What every start does: the same config again is no change (no restart of the connector).
  const settings = catalogSourceFromEnv();
  expect(await ensureConnector(settings.connectUrl, connector, connectorConfig(settings, catalogSourceNames(settings, namespace), namespace))).toBe(false);
});

it('shows an insert, an update and a delete made with SQL through the gateway, and orders use the new price', async () => {
  await db.query(`INSERT INTO ${table} (id, name, category, price_cents) VALUES ('sql-1', 'Rye bread', 'bakery', 349)`);
  await waitFor(async () => (await product('sql-1'))?.priceCents === 349, { timeoutMs: 20_000, what: 'the inserted row through the gateway' });

  await db.query(`UPDATE ${table} SET price_cents = 399, brand = 'Miller', updated_at = now() WHERE id = 'sql-1'`);
  await waitFor(async () => (await product('sql-1'))?.priceCents === 399, { timeoutMs: 20_000, what: 'the update through the gateway' });
  expect(await product('sql-1')).toEqual({ id: 'sql-1', name: 'Rye bread', brand: 'Miller', category: 'bakery', priceCents: 399 });
  expect((await catalog.views.products.reader.getMany(['sql-1']))[0]).toMatchObject({ version: 2 });

  // The orders team's own price view reads the same change stream: a new order is priced from it.
  await call(`mutation { upsertStore(input: { id: "cdc-store", name: "Corner" }) { id } }`, {}, admin);
  await waitFor(async () => ((await orders.views.prices.reader.getMany(['sql-1']))[0] as { priceCents?: number } | undefined)?.priceCents === 399, { timeoutMs: 20_000, what: 'the price in orders' });
  const placed = await waitFor(
    async () => {
      const r = await call(`mutation { placeOrder(input: { storeId: "cdc-store", items: [{ productId: "sql-1", quantity: 2 }] }) { totalCents } }`, {}, alice);
      return r.errors ? undefined : r.data.placeOrder;
    },
    { timeoutMs: 20_000, what: 'an order at the published store' },
  );
  expect(placed.totalCents).toBe(798);

  await db.query(`DELETE FROM ${table} WHERE id = 'sql-1'`);
  await waitFor(async () => (await product('sql-1')) === null, { timeoutMs: 20_000, what: 'the delete through the gateway' });
  await waitFor(async () => (await orders.views.prices.reader.getMany(['sql-1']))[0] === undefined, { timeoutMs: 20_000, what: 'the price gone from orders' });
});

it('answers upsertProduct from the view once its own change came back through CDC, and refuses bad input without writing', async () => {
  const r = await call(`mutation { upsertProduct(input: { id: "ryw-1", name: "Kefir", category: "dairy", priceCents: 250 }) { id priceCents } }`, {}, admin);
  expect(r.errors).toBeUndefined();
  expect(r.data.upsertProduct).toEqual({ id: 'ryw-1', priceCents: 250 });
  // The very next read sees it, and so does the table.
  expect(await product('ryw-1')).toMatchObject({ priceCents: 250 });
  expect((await db.query(`SELECT price_cents FROM ${table} WHERE id = 'ryw-1'`)).rows).toEqual([{ price_cents: 250 }]);

  const again = await call(`mutation { upsertProduct(input: { id: "ryw-1", name: "Kefir", category: "dairy", priceCents: 275 }) { priceCents } }`, {}, admin);
  expect(again.data.upsertProduct).toEqual({ priceCents: 275 });
  expect((await catalog.views.products.reader.getMany(['ryw-1']))[0]).toMatchObject({ version: 2 });
  // The same values again: nothing to write, answered from the view as it is.
  const same = await call(`mutation { upsertProduct(input: { id: "ryw-1", name: "Kefir", category: "dairy", priceCents: 275 }) { priceCents } }`, {}, admin);
  expect(same.data.upsertProduct).toEqual({ priceCents: 275 });
  expect((await catalog.views.products.reader.getMany(['ryw-1']))[0]).toMatchObject({ version: 2 });

  // The consistency token names the change's position on the CDC topic: an order placed with it
  // is priced from the orders' own view, which has waited for that position.
  expect(typeof again.extensions?.consistencyToken).toBe('string');
  await call(`mutation { upsertStore(input: { id: "ryw-store", name: "Corner" }) { id } }`, {}, admin);
  const order = await waitFor(async () => {
    const o = await call(`mutation { placeOrder(input: { storeId: "ryw-store", items: [{ productId: "ryw-1", quantity: 1 }] }) { totalCents } }`, {}, alice, {
      'x-consistency-token': again.extensions.consistencyToken,
    });
    return o.errors?.some((e) => /store/.test(e.message)) ? undefined : o; // the store, not the price, may lag
  }, { timeoutMs: 20_000, what: 'an order at the new store' });
  expect(order.errors).toBeUndefined();
  expect(order.data.placeOrder.totalCents).toBe(275);

  const before = (await db.query(`SELECT count(*)::int AS n, max(updated_at)::text AS last FROM ${table}`)).rows[0];
  const refused = await call(`mutation { upsertProduct(input: { id: "ryw-2", name: "Kefir", category: "dairy", priceCents: -1 }) { id } }`, {}, admin);
  expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.priceCents' });
  expect((await db.query(`SELECT count(*)::int AS n, max(updated_at)::text AS last FROM ${table}`)).rows[0]).toEqual(before);
});

it('answers ACCEPTED_NOT_APPLIED with the LSN when the view does not hold the change in time, which it then does', async () => {
  // A second instance of the catalog with no time to wait (the connector is the same: registering it again changes nothing).
  const hasty = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, logger: createLogger('cdc-test', 'error'), writeTimeoutMs: 0, register: false });
  try {
    const r = await gql(hasty.url, `mutation { upsertProduct(input: { id: "late-1", name: "Quark", category: "dairy", priceCents: 180 }) { id } }`, {}, as('admin-1', 'admin'));
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'ACCEPTED_NOT_APPLIED', source: 'catalog database', lsn: expect.any(Number) });
    expect(r.errors?.[0].message).toMatch(/^the change to product late-1 was committed \(catalog database, LSN at or after \d+\) but is not readable yet after 0 ms/);
    await waitFor(async () => (await product('late-1'))?.priceCents === 180, { timeoutMs: 20_000, what: 'the accepted change in the view' });
  } finally {
    await hasty.close();
  }
});

it('carries product fields changed in the database in a subscription', async () => {
  await db.query(`INSERT INTO ${table} (id, name, category, price_cents) VALUES ('sub-1', 'Plums', 'fruit', 120)`);
  await call(`mutation { upsertStore(input: { id: "sub-store", name: "Market" }) { id } }`, {}, admin);
  const storeToken = signDevToken({ sub: 'sub-store', roles: ['store'], secret: JWT_SECRET });
  await waitFor(async () => (await product('sub-1')) !== null, { timeoutMs: 20_000, what: 'sub-1 in the view' });
  const client: WsClient = createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${storeToken}` }, retryAttempts: 0 });
  const seen: Array<{ quantity: number; product: { name: string; priceCents: number } }> = [];
  const done = new Promise<void>((resolve, reject) =>
    client.subscribe<{ inventoryChanged: (typeof seen)[number] }>(
      { query: `subscription { inventoryChanged(storeId: "sub-store", productIds: ["sub-1"]) { quantity product { name priceCents } } }` },
      { next: (m) => m.data && seen.push(m.data.inventoryChanged), error: reject, complete: resolve },
    ),
  );
  try {
    const report = (q: number) => call(`mutation { reportInventory(storeId: "sub-store", productId: "sub-1", quantity: ${q}) { quantity } }`, {}, storeToken);
    await waitFor(async () => {
      await report(seen.length + 1);
      return seen.length > 0;
    }, { timeoutMs: 20_000, intervalMs: 500, what: 'the subscription to deliver' });
    expect(seen[0].product).toEqual({ name: 'Plums', priceCents: 120 });
    await db.query(`UPDATE ${table} SET name = 'Damson plums', price_cents = 180 WHERE id = 'sub-1'`);
    await waitFor(async () => (await product('sub-1'))?.priceCents === 180, { timeoutMs: 20_000, what: 'the new price' });
    const n = seen.length;
    await report(100);
    await waitFor(() => seen.length > n, { timeoutMs: 20_000, what: 'the next event' });
    expect(seen[seen.length - 1]).toEqual({ quantity: 100, product: { name: 'Damson plums', priceCents: 180 } });
  } finally {
    await client.dispose();
    await done.catch(() => undefined);
  }
});

it('carries a product inserted with SQL in a subscription opened before it existed, and shows its delete there', async () => {
  // The row's insert and delete send nothing to these subscriptions by themselves (they follow
  // levels and orders); they show in the product fields of the next event. InventoryLevel.product
  // and OrderItem.product are non-null in the schema, so once the product is deleted that event
  // is data null with an error at the product's path (the catalog's own, or the gateway's for the
  // federated order item), and the subscription goes on.
  await call(`mutation { upsertStore(input: { id: "life-store", name: "Orchard" }) { id } }`, {}, admin);
  const storeToken = signDevToken({ sub: 'life-store', roles: ['store'], secret: JWT_SECRET });
  const clients: WsClient[] = [];
  const follow = (bearer: string, query: string, variables: Record<string, unknown> = {}) => {
    const client = createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${bearer}` }, retryAttempts: 0 });
    clients.push(client);
    const got: Array<{ data?: any; errors?: any[] }> = [];
    const ended: unknown[] = [];
    client.subscribe<any>({ query, variables }, { next: (m) => void got.push(m as { data?: any; errors?: any[] }), error: (e) => void ended.push(e), complete: () => void ended.push('complete') });
    return { got, ended };
  };
  const report = async (quantity: number) => {
    const r = await call(`mutation { reportInventory(storeId: "life-store", productId: "life-1", quantity: ${quantity}) { quantity } }`, {}, storeToken);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.reportInventory;
  };
  try {
    const levels = follow(storeToken, `subscription { inventoryChanged(storeId: "life-store", productIds: ["life-1"]) { quantity reserved product { name priceCents } } }`);
    await db.query(`INSERT INTO ${table} (id, name, category, price_cents) VALUES ('life-1', 'Quinces', 'fruit', 260)`);
    // Refused (NOT_FOUND) until the insert reached the catalog's view and the store is known.
    await waitFor(() => report(5), { timeoutMs: 20_000, intervalMs: 200, what: 'the first report of the inserted product' });
    await waitFor(() => levels.got.length > 0, { timeoutMs: 20_000, what: 'the level in the subscription' });
    expect(levels.got[0]).toEqual({ data: { inventoryChanged: { quantity: 5, reserved: 0, product: { name: 'Quinces', priceCents: 260 } } } });

    // An order of it: its subscription resolves the item's product through federation.
    const orderId = await waitFor(async () => {
      const r = await call(`mutation { placeOrder(input: { storeId: "life-store", items: [{ productId: "life-1", quantity: 1 }] }) { id } }`, {}, alice);
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return r.data.placeOrder.id as string;
    }, { timeoutMs: 20_000, what: 'an order of the inserted product' });
    const order = follow(alice, `subscription($id: ID!) { orderUpdated(id: $id) { status items { quantity product { name } } } }`, { id: orderId });
    // Decided and reserved before the delete, so the next event of each is the cancel's.
    await waitFor(() => order.got.some((m) => m.data?.orderUpdated?.status === 'CONFIRMED') && levels.got.some((m) => m.data?.inventoryChanged?.reserved === 1), {
      timeoutMs: 30_000,
      what: 'the reservation in both subscriptions',
    });
    expect(order.got[order.got.length - 1]).toEqual({ data: { orderUpdated: { status: 'CONFIRMED', items: [{ quantity: 1, product: { name: 'Quinces' } }] } } });

    await db.query(`DELETE FROM ${table} WHERE id = 'life-1'`);
    await waitFor(async () => (await product('life-1')) === null, { timeoutMs: 20_000, what: 'the delete through the gateway' });
    const [o, l] = [order.got.length, levels.got.length];
    expect((await call(`mutation($id: ID!) { cancelOrder(id: $id) { status } }`, { id: orderId }, alice)).data?.cancelOrder).toEqual({ status: 'CANCELED' });
    await waitFor(() => order.got.length > o && levels.got.length > l, { timeoutMs: 20_000, what: 'the cancel in both subscriptions' });
    // One event each, its one error at the product (or a field under it: the gateway reports the
    // federated item's missing product at the first field it could not fill). The order's item
    // refers to the catalog's product, nullable, so the cancel still reaches the customer with
    // the product null; the level is the catalog's own and its product non-null, so it is null.
    const afterDelete = { order: order.got.slice(o), levels: levels.got.slice(l) };
    const shape = (ms: Array<{ data?: any; errors?: any[] }>, productPath: Array<string | number>) =>
      ms.map((m) => ({ data: m.data, errors: m.errors?.map((e) => JSON.stringify(e.path?.slice(0, productPath.length)) === JSON.stringify(productPath)) }));
    expect({ afterDelete, order: shape(afterDelete.order, ['orderUpdated', 'items', 0, 'product']), levels: shape(afterDelete.levels, ['inventoryChanged', 'product']) }).toEqual({
      afterDelete,
      order: [{ data: { orderUpdated: { status: 'CANCELED', items: [{ quantity: 1, product: null }] } }, errors: [true] }],
      levels: [{ data: null, errors: [true] }],
    });

    // Inserted again, the product is back in the same subscription's next event.
    await db.query(`INSERT INTO ${table} (id, name, category, price_cents) VALUES ('life-1', 'Quinces (Portugal)', 'fruit', 290)`);
    await waitFor(() => report(7), { timeoutMs: 20_000, intervalMs: 200, what: 'a report of the product inserted again' });
    await waitFor(() => levels.got.some((m) => m.data?.inventoryChanged?.quantity === 7), { timeoutMs: 20_000, what: 'the new level' });
    expect(levels.got[levels.got.length - 1]).toEqual({ data: { inventoryChanged: { quantity: 7, reserved: 0, product: { name: 'Quinces (Portugal)', priceCents: 290 } } } });
    expect({ order: order.ended, levels: levels.ended }).toEqual({ order: [], levels: [] });
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
});

it('dead-letters row images whose column type changed, naming the column and source position, and goes on', async () => {
  await db.query(`INSERT INTO ${table} (id, name, category, price_cents) VALUES ('type-1', 'Figs', 'fruit', 500), ('type-2', 'Dates', 'fruit', 600)`);
  await waitFor(async () => (await product('type-2')) !== null, { timeoutMs: 20_000, what: 'the rows in the view' });
  const deadBefore = deadLetters(catalog);

  // A type change under the connector: prices become numeric, which Debezium writes as a string.
  await db.query(`ALTER TABLE ${table} ALTER COLUMN price_cents TYPE numeric(12, 2)`);
  await db.query(`UPDATE ${table} SET price_cents = 510 WHERE id = 'type-1'`);
  await db.query(`UPDATE ${table} SET price_cents = 610 WHERE id = 'type-2'`);
  // A delete needs no row image: the partition is not stuck behind the poison.
  await db.query(`DELETE FROM ${table} WHERE id = 'snap-1'`);
  await waitFor(async () => (await product('snap-1')) === null, { timeoutMs: 20_000, what: 'the delete after the bad rows' });
  await waitFor(() => deadLetters(catalog) >= deadBefore + 2, { timeoutMs: 20_000, what: 'two dead letters' });
  expect(await product('type-1')).toMatchObject({ priceCents: 500 });

  const letters = await readDeadLetters(catalog, `${namespace}${dlqTopicName(CATALOG_PRODUCTS_CDC_TOPIC.name)}`, 2);
  for (const l of letters) {
    expect(l.reason).toMatch(/^contract: after\.price_cents: expected an integer, found the string .* \(u at .*\.products lsn \d+ txId \d+\)$/);
    expect(l.sourceTopic).toBe(`${namespace}${CATALOG_PRODUCTS_CDC_TOPIC.name}`);
    expect(l.sourceOffset).toMatch(/^\d+$/);
  }
  // The runtime may write a dead letter twice (before its checkpoint moves), never lose one: one per source position.
  const bySource = new Map(letters.map((l) => [`${l.sourceTopic}:${l.sourceOffset}:${l.key}`, l]));
  expect([...bySource.values()].map((l) => l.key).sort()).toEqual(['{"id":"type-1"}', '{"id":"type-2"}']);

  // Fixed in the database: later changes apply again.
  await db.query(`ALTER TABLE ${table} ALTER COLUMN price_cents TYPE integer`);
  await db.query(`UPDATE ${table} SET price_cents = 520 WHERE id = 'type-1'`);
  await waitFor(async () => (await product('type-1'))?.priceCents === 520, { timeoutMs: 20_000, what: 'a change after the fix' });
});

it('npm run lag shows the connector running and its replication slot active, with its lag', () => {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/lag.ts', 'catalog.products', '--json'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace },
    encoding: 'utf8',
  });
  expect(out.stderr).toBe('');
  const report = JSON.parse(out.stdout) as { cdc: { connector: string; status: { state: string; tasks: Array<{ state: string }> }; slotState: { active: boolean; lagBytes: number } } };
  expect(report.cdc.connector).toBe(`${namespace}catalog-products-cdc`);
  expect(report.cdc.status.state).toBe('RUNNING');
  expect(report.cdc.status.tasks.map((t) => t.state)).toEqual(['RUNNING']);
  expect(report.cdc.slotState.active).toBe(true);
  expect(report.cdc.slotState.lagBytes).toBeGreaterThanOrEqual(0);
});

function deadLetters(handle: CatalogHandle): number {
  return handle.views.products.handle.stats().reduce((a, s) => a + s.deadLetters, 0);
}

async function readDeadLetters(handle: CatalogHandle, topic: string, count: number) {
  const consumer = handle.runtime.kafka.consumer({ groupId: `${topic}-reader-${Date.now()}` });
  const out: Array<{ reason: string; sourceTopic: string; sourceOffset: string; key: string }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = (name: string) => message.headers?.[name]?.toString() ?? '';
        out.push({ reason: h(DEAD_LETTER_HEADERS.reason), sourceTopic: h(DEAD_LETTER_HEADERS.sourceTopic), sourceOffset: h(DEAD_LETTER_HEADERS.sourceOffset), key: h(DEAD_LETTER_HEADERS.sourceKey) });
      },
    });
    await waitFor(() => out.length >= count, { timeoutMs: 30_000, what: `${count} dead letters on ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
