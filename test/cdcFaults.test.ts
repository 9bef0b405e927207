// Change data capture under faults, each against a private part so other test files are not
// disturbed: a Kafka Connect worker killed with SIGKILL mid-stream of updates, with updates
// committed while it is down (0 lost, the view equals the table, re-sent changes counted and not
// applied twice), and the catalog's PostgreSQL restarted mid-stream while updates retry (the
// connector resumes, nothing lost).
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { startConnectWorker, type ConnectWorkerHandle } from '../infra/connect';
import { ensureDatabase, localPostgresUrl, startPostgres, type PostgresHandle } from '../infra/postgres';
import { createLogger } from '../platform/logger';
import { startCatalogSubgraph, type CatalogHandle } from '../subgraphs/catalog';
import { catalogSourceFromEnv } from '../subgraphs/catalog/catalogSource';
import type { ProductState } from '../subgraphs/catalog/projection';
import { productsTable, removeRunCatalogSources } from './support/catalogDatabase';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

const PRODUCTS = 20;
const UPDATES = 600;
const logger = createLogger('cdc-faults-test', 'error');

/** Updates that failed and were tried again (the database was going down or starting). */
let retriedWrites = 0;

/** Inserts the products, then `UPDATES` updates (each a new price), `onUpdate` after each; returns how many updates each product got. */
async function stream(db: Pool, table: string, onUpdate: (i: number) => Promise<void>): Promise<Map<string, number>> {
  await db.query(
    `INSERT INTO ${table} (id, name, category, price_cents) SELECT 'p-' || i, 'Product ' || i, 'bench', 0 FROM generate_series(1, ${PRODUCTS}) AS i`,
  );
  const updates = new Map<string, number>();
  for (let i = 1; i <= UPDATES; i++) {
    const id = `p-${(i % PRODUCTS) + 1}`;
    // A write that fails while the database restarts is retried: every update commits once.
    await waitFor(() => db.query(`UPDATE ${table} SET price_cents = $1, updated_at = now() WHERE id = $2`, [i, id]).then(
        () => true,
        (e: Error) => {
          retriedWrites++;
          throw e;
        },
      ), {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `update ${i}`,
    });
    updates.set(id, (updates.get(id) ?? 0) + 1);
    await onUpdate(i);
    // About 200 updates per second: a stream the crash lands in the middle of, not a burst.
    await new Promise((r) => setTimeout(r, 5));
  }
  return updates;
}

/** Until every product's state equals its row and its version counts exactly its changes (insert + updates). */
async function expectViewEqualsTable(catalog: CatalogHandle, db: Pool, table: string, updates: Map<string, number>): Promise<void> {
  const rows = (await db.query<{ id: string; price_cents: number }>(`SELECT id, price_cents FROM ${table} ORDER BY id`)).rows;
  expect(rows).toHaveLength(PRODUCTS);
  const wanted = new Map(rows.map((r) => [r.id, { priceCents: r.price_cents, version: 1 + (updates.get(r.id) ?? 0) }]));
  const ids = [...wanted.keys()];
  const seen = () => catalog.views.products.reader.getMany(ids);
  await waitFor(async () => (await seen()).every((s, i) => s?.priceCents === wanted.get(ids[i])!.priceCents), {
    timeoutMs: 90_000,
    intervalMs: 250,
    what: 'the view to equal the table',
  });
  const states = (await seen()) as ProductState[];
  expect(states.map((s) => [s.id, { priceCents: s.priceCents, version: s.version }])).toEqual(ids.map((id) => [id, wanted.get(id)]));
}

const resent = (catalog: CatalogHandle) => catalog.views.products.handle.stats().reduce((a, s) => a + s.resent, 0);

describe('a Kafka Connect worker killed with SIGKILL mid-stream', () => {
  let namespace: string;
  let worker: ConnectWorkerHandle | undefined;
  let catalog: CatalogHandle | undefined;
  let db: Pool | undefined;

  afterAll(async () => {
    await catalog?.close();
    if (worker && namespace) await removeRunCatalogSources(namespace, { connectUrl: worker.url });
    await worker?.stop();
    await db?.end();
  });

  it('loses nothing: the view equals the table, and re-sent changes are counted, not applied twice', async () => {
    namespace = await createNamespace('cdc-crash');
    const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
    // Its own worker group and internal topics (named in the namespace, removed with the run's topics).
    const workerOpts = { brokers, port: 0, groupId: `${namespace}connect` };
    worker = await startConnectWorker(workerOpts);
    catalog = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, logger, source: { connectUrl: worker.url } });
    db = new Pool({ connectionString: catalogSourceFromEnv().databaseUrl, max: 2 });
    const table = productsTable(namespace);

    // Killed a third of the way in; a hundred more updates commit while no worker runs; then it
    // starts again with the same group and REST port (the connector's config and offsets are in
    // the group's topics) while the stream goes on.
    const killedAt = UPDATES / 3;
    let restarted: Promise<ConnectWorkerHandle> | undefined;
    let writtenWhileDown = 0;
    const updates = await stream(db, table, async (i) => {
      if (i === killedAt) await worker!.kill();
      else if (i > killedAt && !restarted) writtenWhileDown++;
      if (i === killedAt + 100) restarted = startConnectWorker({ ...workerOpts, port: worker!.port });
    });
    worker = await restarted!;
    expect(writtenWhileDown).toBe(100);
    await expectViewEqualsTable(catalog, db, table, updates);
    // Debezium re-sends what it had not flushed (offset.flush.interval.ms=1000) when it crashed.
    expect(resent(catalog)).toBeGreaterThan(0);
  });
});

describe('the catalog database restarted mid-stream', () => {
  let namespace: string;
  let pg: PostgresHandle | undefined;
  let catalog: CatalogHandle | undefined;
  let db: Pool | undefined;
  let databaseUrl: string;

  afterAll(async () => {
    await catalog?.close();
    await db?.end();
    if (pg && namespace) await removeRunCatalogSources(namespace, { databaseUrl });
    await pg?.stop();
    if (pg) fs.rmSync(path.dirname(pg.dataDir), { recursive: true, force: true });
  });

  it('resumes streaming once it is back, and loses nothing', async () => {
    namespace = await createNamespace('cdc-pg-restart');
    pg = await startPostgres({ port: 0 });
    await ensureDatabase(pg.url, 'catalog');
    databaseUrl = localPostgresUrl(pg.port, 'catalog');
    catalog = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, logger, source: { databaseUrl } });
    db = new Pool({ connectionString: databaseUrl, max: 2 });
    db.on('error', () => undefined); // idle connections end with the restart
    const table = productsTable(namespace);

    // Restarted without waiting: the updates go on against a database that is going down and
    // coming back, each retried until it commits once (stream's retry).
    let restarted: Promise<void> | undefined;
    const updates = await stream(db, table, async (i) => {
      if (i === UPDATES / 3) restarted = pg!.restart();
    });
    await restarted;
    // Some updates met the database down and committed on a later try.
    expect(retriedWrites).toBeGreaterThan(0);
    await expectViewEqualsTable(catalog, db, table, updates);
  });
});
