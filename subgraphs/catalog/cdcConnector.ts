// The catalog's Debezium connector: the publication it reads, its configuration, and its
// registration on a Kafka Connect cluster over REST (created or updated idempotently at start,
// so every instance may do it), its state and its replication slot's lag.
import type { Pool } from 'pg';
import { CATALOG_PRODUCTS_CDC_TOPIC } from '../../schema/events';
import { ident, type CatalogSourceNames, type CatalogSourceSettings } from './catalogSource';

/** The connector's configuration as Connect's REST API takes it (all values strings). */
export function connectorConfig(settings: CatalogSourceSettings, names: CatalogSourceNames, namespace: string): Record<string, string> {
  const db = new URL(settings.databaseUrl);
  const topic = `${namespace}${CATALOG_PRODUCTS_CDC_TOPIC.name}`;
  const dataTopic = `${names.topicPrefix}.${names.schema}.products`;
  const beatTopic = `${names.topicPrefix}.${names.schema}.cdc_heartbeat`;
  const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.hostname': db.hostname,
    'database.port': db.port || '5432',
    'database.user': decodeURIComponent(db.username || 'postgres'),
    'database.password': decodeURIComponent(db.password),
    'database.dbname': decodeURIComponent(db.pathname.replace(/^\//, '')) || 'postgres',
    'plugin.name': 'pgoutput',
    'slot.name': names.slot,
    'publication.name': names.publication,
    // The publication is created by the table's owner (ensurePublication), never by Debezium.
    'publication.autocreate.mode': 'disabled',
    'table.include.list': `${names.schema}.products,${names.schema}.cdc_heartbeat`,
    'topic.prefix': names.topicPrefix,
    'snapshot.mode': 'initial',
    'tombstones.on.delete': 'true',
    // The default 500 ms is most of a change's latency; 50 ms costs little on an idle table.
    'poll.interval.ms': String(settings.pollIntervalMs),
    // Heartbeats let the connector confirm WAL positions while products are idle: otherwise its
    // slot holds all WAL other tables and databases write meanwhile. Each heartbeat updates the
    // one row of cdc_heartbeat (migration 002), so the connector has a change to read; that
    // change is dropped before Kafka (the Filter below), and the heartbeat record, which carries
    // the position Connect then commits and Debezium confirms to the slot, goes to its own small
    // topic in the namespace (created by Connect: a dropped record's position is never committed).
    'heartbeat.interval.ms': '10000',
    'heartbeat.action.query': `UPDATE ${ident(names.schema)}.cdc_heartbeat SET beat_at = now() WHERE id = 1`,
    'topic.heartbeat.prefix': `${namespace}__debezium-heartbeat`,
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '-1',
    // After a worker crash the slot may still look active for a few seconds.
    'slot.retry.delay.ms': '2000',
    'slot.max.retries': '30',
    // The contract's topic (created from the declarations), not Debezium's <prefix>.<schema>.<table>.
    transforms: 'dropBeats,route',
    'transforms.dropBeats.type': 'org.apache.kafka.connect.transforms.Filter',
    'transforms.dropBeats.predicate': 'isBeat',
    predicates: 'isBeat',
    'predicates.isBeat.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
    'predicates.isBeat.pattern': re(beatTopic),
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': re(dataTopic),
    'transforms.route.replacement': topic,
  };
}

/** duplicate_object, and unique_violation: what the loser of two concurrent CREATEs gets (two instances starting together). */
const ALREADY_EXISTS = new Set(['42710', '23505']);

/** The tables the connector reads: the products, and the row its heartbeats update. */
const PUBLISHED = ['products', 'cdc_heartbeat'] as const;

/**
 * Creates the publication of the catalog's tables when it is missing, or adds a table it lacks
 * (one created before a migration added it); it needs the tables' owner.
 */
export async function ensurePublication(pool: Pool, names: CatalogSourceNames): Promise<void> {
  const tables = PUBLISHED.map((t) => `${ident(names.schema)}.${t}`);
  const found = await pool.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [names.publication]);
  if (!found.rowCount) {
    try {
      await pool.query(`CREATE PUBLICATION ${ident(names.publication)} FOR TABLE ${tables.join(', ')}`);
      return;
    } catch (e) {
      // Another instance created it first: 42710 once it exists, 23505 when both raced into the catalog.
      if (!ALREADY_EXISTS.has((e as { code?: string }).code ?? '')) throw e;
    }
  }
  const published = await pool.query<{ tablename: string }>('SELECT tablename FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2', [
    names.publication,
    names.schema,
  ]);
  const have = new Set(published.rows.map((r) => r.tablename));
  for (const t of PUBLISHED.filter((t) => !have.has(t))) {
    try {
      await pool.query(`ALTER PUBLICATION ${ident(names.publication)} ADD TABLE ${ident(names.schema)}.${t}`);
    } catch (e) {
      if (!ALREADY_EXISTS.has((e as { code?: string }).code ?? '')) throw e; // added by another instance meanwhile
    }
  }
}

async function rest(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text for the error */
  }
  return { status: res.status, body };
}

/** PUTs the configuration unless the connector already has exactly it; true when it changed. */
export async function ensureConnector(connectUrl: string, name: string, config: Record<string, string>): Promise<boolean> {
  const base = `${connectUrl}/connectors/${encodeURIComponent(name)}`;
  for (let attempt = 0; ; attempt++) {
    const current = await rest(`${base}/config`);
    if (current.status === 200 && sameConfig(current.body as Record<string, string>, { ...config, name })) return false;
    const put = await rest(`${base}/config`, { method: 'PUT', body: JSON.stringify(config) });
    if (put.status === 200 || put.status === 201) return true;
    // 409: the worker group is rebalancing (another worker joined or a connector was just added).
    if (put.status === 409 && attempt < 30) {
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    throw new Error(`Kafka Connect at ${connectUrl} refused connector ${name} (HTTP ${put.status}): ${JSON.stringify(put.body)}`);
  }
}

function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

export interface ConnectorStatus {
  /** RUNNING, PAUSED, FAILED, UNASSIGNED, or MISSING when the cluster does not know it. */
  readonly state: string;
  readonly tasks: ReadonlyArray<{ readonly id: number; readonly state: string; readonly trace?: string }>;
  readonly workerId?: string;
}

export async function connectorStatus(connectUrl: string, name: string): Promise<ConnectorStatus> {
  const res = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/status`);
  if (res.status === 404) return { state: 'MISSING', tasks: [] };
  if (res.status !== 200) throw new Error(`Kafka Connect at ${connectUrl}: status of ${name} failed (HTTP ${res.status})`);
  const body = res.body as { connector: { state: string; worker_id?: string }; tasks: Array<{ id: number; state: string; trace?: string }> };
  return { state: body.connector.state, workerId: body.connector.worker_id, tasks: body.tasks.map((t) => ({ id: t.id, state: t.state, trace: t.trace })) };
}

/** Restarts a failed connector and its tasks (e.g. after the database was away too long). */
export async function restartConnector(connectUrl: string, name: string): Promise<void> {
  await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`, { method: 'POST' });
}

export async function deleteConnector(connectUrl: string, name: string): Promise<boolean> {
  const res = await rest(`${connectUrl}/connectors/${encodeURIComponent(name)}`, { method: 'DELETE' });
  return res.status === 204 || res.status === 200;
}

/** The names of the connectors on the cluster. */
export async function listConnectors(connectUrl: string): Promise<string[]> {
  const res = await rest(`${connectUrl}/connectors`);
  return res.status === 200 ? (res.body as string[]) : [];
}

export interface SlotState {
  readonly slot: string;
  readonly active: boolean;
  /** WAL the slot holds that the connector has not confirmed yet, in bytes. */
  readonly lagBytes: number;
}

/** The replication slot's state, or null when it does not exist (yet). */
export async function slotState(pool: Pool, slot: string): Promise<SlotState | null> {
  const res = await pool.query<{ active: boolean; lag: string | null }>(
    `SELECT active, (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = res.rows[0];
  return row ? { slot, active: row.active, lagBytes: Number(row.lag ?? 0) } : null;
}
