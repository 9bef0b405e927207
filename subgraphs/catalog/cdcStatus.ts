// The health of the catalog's change stream for operators (npm run lag): the connector's state
// from Kafka Connect's REST API and the replication slot's lag from the database. Never throws:
// an unreachable part is reported as such, since that is the answer an operator needs.
import { Pool } from 'pg';
import { catalogSourceNames, type CatalogSourceSettings } from './catalogSource';
import { connectorStatus, slotState, type ConnectorStatus, type SlotState } from './cdcConnector';

export interface CatalogCdcStatus {
  readonly connector: string;
  readonly connectUrl: string;
  /** Null when Connect could not be asked (see connectError). */
  readonly status: ConnectorStatus | null;
  readonly connectError?: string;
  readonly slot: string;
  /** Null when the slot does not exist or the database could not be asked (see databaseError). */
  readonly slotState: SlotState | null;
  readonly databaseError?: string;
}

export async function catalogCdcStatus(settings: CatalogSourceSettings, namespace: string): Promise<CatalogCdcStatus> {
  const names = catalogSourceNames(settings, namespace);
  const base = { connector: names.connector, connectUrl: settings.connectUrl, slot: names.slot };
  const connect = connectorStatus(settings.connectUrl, names.connector).then(
    (status) => ({ status }),
    (e: Error) => ({ status: null, connectError: e.message }),
  );
  const pool = new Pool({ connectionString: settings.databaseUrl, max: 1, connectionTimeoutMillis: 3_000 });
  pool.on('error', () => undefined);
  const slot = slotState(pool, names.slot).then(
    (slotState) => ({ slotState }),
    (e: Error) => ({ slotState: null, databaseError: e.message }),
  );
  try {
    return { ...base, ...(await connect), ...(await slot) };
  } finally {
    await pool.end().catch(() => undefined);
  }
}

const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** One line per part: the connector and its tasks, then the slot. */
export function formatCatalogCdcStatus(s: CatalogCdcStatus): string[] {
  const connector = s.status
    ? `connector ${s.connector}: ${s.status.state}${s.status.workerId ? ` on ${s.status.workerId}` : ''}; tasks ${
        s.status.tasks.map((t) => `${t.id} ${t.state}${t.trace ? ` (${t.trace.split('\n')[0]})` : ''}`).join(', ') || 'none'
      }`
    : `connector ${s.connector}: Kafka Connect at ${s.connectUrl} not reachable (${s.connectError})`;
  const slot = s.slotState
    ? `slot ${s.slot}: ${s.slotState.active ? 'active' : 'INACTIVE (no connector reading it: it holds WAL)'}, ${bytes(s.slotState.lagBytes)} of WAL not yet confirmed by the connector`
    : s.databaseError
      ? `slot ${s.slot}: the catalog database could not be asked (${s.databaseError})`
      : `slot ${s.slot}: missing (the connector creates it when its task starts)`;
  return [connector, slot];
}
