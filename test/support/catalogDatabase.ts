// The catalog database in tests: each test namespace has its own schema, publication,
// replication slot and connector (subgraphs/catalog/catalogSource.ts); these helpers read the
// table directly and remove a namespace's (or a whole run's) sources again, so no test leaves a
// slot holding WAL.
import type { Kafka } from 'kafkajs';
import { Client, Pool } from 'pg';
import { CATALOG_PRODUCTS_CDC_TOPIC, debeziumRecord } from '../../schema/events';
import { catalogSourceFromEnv, catalogSourceNames, ident, sqlNamespace } from '../../subgraphs/catalog/catalogSource';
import { deleteConnector, listConnectors } from '../../subgraphs/catalog/cdcConnector';
import { dropReplicationSlots } from '../../infra/postgres';

/** A pool on the catalog database (CATALOG_DATABASE_URL, set by global setup). */
export function catalogPool(): Pool {
  return new Pool({ connectionString: catalogSourceFromEnv().databaseUrl, max: 4 });
}

/** The products table of a namespace, quoted. */
export function productsTable(namespace: string): string {
  return `${ident(catalogSourceNames(catalogSourceFromEnv(), namespace).schema)}.products`;
}

/**
 * Deletes the connectors whose names start with `prefix`, then drops the slots, publications
 * and schemas of namespaces starting with it. Connectors first: a running one would take its
 * slot again.
 */
export async function removeRunCatalogSources(prefix: string, opts: { connectUrl?: string; databaseUrl?: string } = {}): Promise<void> {
  const settings = catalogSourceFromEnv();
  const connectUrl = opts.connectUrl ?? settings.connectUrl;
  const databaseUrl = opts.databaseUrl ?? settings.databaseUrl;
  for (const name of (await listConnectors(connectUrl)).filter((n) => n.startsWith(prefix))) await deleteConnector(connectUrl, name);
  const sql = sqlNamespace(prefix);
  await dropReplicationSlots(databaseUrl, sql);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const pubs = await client.query<{ pubname: string }>('SELECT pubname FROM pg_publication WHERE starts_with(pubname, $1)', [sql]);
    for (const p of pubs.rows) await client.query(`DROP PUBLICATION IF EXISTS ${ident(p.pubname)}`);
    const schemas = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [sql]);
    for (const s of schemas.rows) await client.query(`DROP SCHEMA IF EXISTS ${ident(s.nspname)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs older than this cannot still be going (jest's and CI's timeouts end any run long before). */
export const ABANDONED_RUN_AGE_MS = 3 * 60 * 60 * 1000;
const EARLIEST_RUN = Date.UTC(2025, 0, 1);

/**
 * The test runs whose sources are named in `names` (connectors `t-<run>-...`, slots,
 * publications and schemas `t_<run>_...`) and that started more than `maxAgeMs` before `now`:
 * a run id is its start time in base 36 (global setup). Younger runs may be going on beside
 * this one, so they are left alone.
 */
export function abandonedRunIds(names: readonly string[], now: number, maxAgeMs = ABANDONED_RUN_AGE_MS): string[] {
  const runs = new Set<string>();
  for (const name of names) {
    const run = /^t[-_]([0-9a-z]+)[-_]/.exec(name)?.[1];
    if (!run) continue;
    const startedAt = parseInt(run, 36);
    // A run id that is not a time (`local`: a benchmark or a test file run without global setup) is never swept.
    if (Number.isFinite(startedAt) && startedAt > EARLIEST_RUN && now - startedAt > maxAgeMs) runs.add(run);
  }
  return [...runs].sort();
}

/**
 * Removes the catalog sources (connectors, replication slots, publications, schemas) of test
 * runs that were interrupted before their teardown (Ctrl-C, a CI timeout): their slots would
 * otherwise hold WAL until someone drops them by hand. Returns the runs removed.
 */
export async function removeAbandonedRunSources(now = Date.now()): Promise<string[]> {
  const { connectUrl, databaseUrl } = catalogSourceFromEnv();
  const names = [...(await listConnectors(connectUrl))];
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ name: string }>(
      `SELECT slot_name AS name FROM pg_replication_slots WHERE starts_with(slot_name, 't_')
       UNION SELECT pubname FROM pg_publication WHERE starts_with(pubname, 't_')
       UNION SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 't_')`,
    );
    names.push(...rows.rows.map((r) => r.name));
  } finally {
    await client.end();
  }
  const runs = abandonedRunIds(names, now);
  for (const run of runs) await removeRunCatalogSources(`t-${run}-`);
  return runs;
}

let lastLsn = Date.now() * 1000;

/**
 * Writes a product change to a namespace's CDC topic exactly as Debezium would (for tests of
 * the views that read it without running the catalog's database and connector). Returns where
 * it landed, for waitFor.
 */
export async function publishProductChange(
  kafka: Kafka,
  namespace: string,
  p: { productId: string; name: string; category: string; priceCents: number; brand?: string },
  op: 'c' | 'u' | 'd' = 'c',
): Promise<{ partition: number; offset: number }> {
  const row = { id: p.productId, name: p.name, brand: p.brand ?? null, category: p.category, price_cents: p.priceCents, updated_at: new Date().toISOString() };
  const rec = debeziumRecord({ key: { id: p.productId }, op, lsn: ++lastLsn, ...(op === 'd' ? { before: row } : { after: row }) });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const [meta] = await producer.send({ topic: `${namespace}${CATALOG_PRODUCTS_CDC_TOPIC.name}`, acks: -1, messages: [rec] });
    return { partition: meta.partition, offset: Number(meta.baseOffset) };
  } finally {
    await producer.disconnect();
  }
}
