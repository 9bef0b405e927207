// Opens the catalog's system of record at start: the pool, the migrations, the publication and
// the Debezium connector (registered or updated on Kafka Connect), then waits until the
// connector streams, so the first upsertProduct is read back within its wait.
import { Pool } from 'pg';
import type { Logger } from '../../platform/logger';
import { catalogSourceNames, type CatalogSourceNames, type CatalogSourceSettings } from './catalogSource';
import { connectorConfig, connectorStatus, ensureConnector, ensurePublication, restartConnector, slotState } from './cdcConnector';
import { migrate } from './migrations';

export interface CatalogDatabase {
  readonly pool: Pool;
  /** How long upsertProduct waits for the view to hold its change (WRITE_TIMEOUT_MS). */
  readonly writeTimeoutMs: number;
  readonly names: CatalogSourceNames;
  readonly settings: CatalogSourceSettings;
  close(): Promise<void>;
}

const STREAMING_DEADLINE_MS = 120_000;

export async function openCatalogDatabase(
  settings: CatalogSourceSettings,
  opts: { readonly namespace: string; readonly logger: Logger; readonly writeTimeoutMs: number },
): Promise<CatalogDatabase> {
  const { namespace, logger } = opts;
  const names = catalogSourceNames(settings, namespace);
  const pool = new Pool({ connectionString: settings.databaseUrl, max: 10, connectionTimeoutMillis: 10_000 });
  // An idle connection the server ended (a database restart) is dropped from the pool; the
  // next query opens a new one. Without a listener the error would end the process.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'catalog database connection lost'));
  try {
    const applied = await migrate(pool, names.schema);
    if (applied.length) logger.info({ schema: names.schema, applied }, 'catalog migrations applied');
    await ensurePublication(pool, names);
    const changed = await ensureConnector(settings.connectUrl, names.connector, connectorConfig(settings, names, namespace));
    if (changed) logger.info({ connector: names.connector, connect: settings.connectUrl }, 'catalog CDC connector registered');
    await waitStreaming(pool, settings.connectUrl, names, logger);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return { pool, names, settings, writeTimeoutMs: opts.writeTimeoutMs, close: () => pool.end() };
}

/**
 * Until the connector's task runs and holds its slot: from then on every commit is streamed. A
 * connector found FAILED (the database was away longer than its retries) is restarted once: it
 * resumes from its slot.
 */
async function waitStreaming(pool: Pool, connectUrl: string, names: CatalogSourceNames, logger: Logger): Promise<void> {
  const deadline = Date.now() + STREAMING_DEADLINE_MS;
  let last = '';
  let restartedAt: number | null = null;
  for (;;) {
    const status = await connectorStatus(connectUrl, names.connector).catch((e: Error) => ({ state: `unreachable (${e.message})`, tasks: [] }));
    const failed = status.tasks.find((t) => t.state === 'FAILED');
    if ((status.state === 'FAILED' || failed) && restartedAt === null) {
      logger.warn({ connector: names.connector, trace: failed?.trace?.split('\n')[0] }, 'catalog CDC connector failed; restarting it');
      await restartConnector(connectUrl, names.connector);
      restartedAt = Date.now();
      continue;
    }
    // The restart is asynchronous: the old FAILED state may show for a moment.
    if ((status.state === 'FAILED' || failed) && restartedAt !== null && Date.now() - restartedAt > 15_000)
      throw new Error(`catalog CDC connector ${names.connector} failed: ${(failed?.trace ?? status.state).split('\n').slice(0, 3).join(' ')}`);
    const slot = await slotState(pool, names.slot);
    if (status.state === 'RUNNING' && status.tasks.some((t) => t.state === 'RUNNING') && slot?.active) return;
    last = `connector ${status.state}, tasks ${status.tasks.map((t) => t.state).join(',') || 'none'}, slot ${slot ? (slot.active ? 'active' : 'inactive') : 'missing'}`;
    if (Date.now() > deadline) throw new Error(`catalog CDC connector ${names.connector} was not streaming within ${STREAMING_DEADLINE_MS / 1000} s (${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
