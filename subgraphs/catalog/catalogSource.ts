// Where the catalog's system of record lives and how its changes reach Kafka: the database URL,
// the Kafka Connect worker, and the names of the replication slot, publication, connector and
// schema, per namespace (so isolated copies of the system, e.g. test files, share one cluster
// and one worker without sharing a table, slot or topic).
import { ConfigError } from '../../platform/configError';

export interface CatalogSourceSettings {
  /** CATALOG_DATABASE_URL: the catalog database (its role needs REPLICATION for Debezium). */
  readonly databaseUrl: string;
  /** KAFKA_CONNECT_URL: the REST API of the Connect cluster that runs the connector. */
  readonly connectUrl: string;
  /** CATALOG_CDC_SLOT: the replication slot (namespaced). */
  readonly slot: string;
  /** CATALOG_CDC_PUBLICATION: the publication of the products table (namespaced). */
  readonly publication: string;
  /** CATALOG_CDC_POLL_MS: how often the connector polls for changes (its poll.interval.ms). */
  readonly pollIntervalMs: number;
}

/** The local cluster started by `infra up` (infra/postgres.ts) and its `catalog` database. */
export const DEFAULT_CATALOG_DATABASE_URL = 'postgresql://postgres@127.0.0.1:55432/catalog';
export const DEFAULT_KAFKA_CONNECT_URL = 'http://127.0.0.1:8083';

export function catalogSourceFromEnv(env: NodeJS.ProcessEnv = process.env): CatalogSourceSettings {
  const value = (name: string) => env[name]?.trim() || undefined;
  const poll = value('CATALOG_CDC_POLL_MS') ?? '50';
  if (!/^\d+$/.test(poll) || Number(poll) < 1 || Number(poll) > 60_000)
    throw new ConfigError(`CATALOG_CDC_POLL_MS="${poll}" is not a whole number of milliseconds from 1 to 60000`);
  const slotName = (setting: string, fallback: string) => {
    const v = value(setting) ?? fallback;
    if (!/^[a-z0-9_]{1,40}$/.test(v)) throw new ConfigError(`${setting}="${v}" must be 1 to 40 of a-z, 0-9 and _ (a PostgreSQL slot name)`);
    return v;
  };
  const databaseUrl = value('CATALOG_DATABASE_URL') ?? DEFAULT_CATALOG_DATABASE_URL;
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('CATALOG_DATABASE_URL must be a postgresql:// URL');
  const connectUrl = (value('KAFKA_CONNECT_URL') ?? DEFAULT_KAFKA_CONNECT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(connectUrl)) throw new ConfigError('KAFKA_CONNECT_URL must be an http(s):// URL');
  return {
    databaseUrl,
    connectUrl,
    slot: slotName('CATALOG_CDC_SLOT', 'catalog_products'),
    publication: slotName('CATALOG_CDC_PUBLICATION', 'catalog_products'),
    pollIntervalMs: Number(poll),
  };
}

/** The namespace as a PostgreSQL identifier part: lower case letters, digits and _. */
export function sqlNamespace(namespace: string): string {
  return namespace.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** The names one copy of the catalog uses, all derived from the namespace ('' in production). */
export interface CatalogSourceNames {
  /** The PostgreSQL schema holding `products` and `schema_migrations`. */
  readonly schema: string;
  readonly slot: string;
  readonly publication: string;
  /** The Kafka Connect connector. */
  readonly connector: string;
  /** Debezium's topic.prefix: unique per connector (it also names the connector's metrics). */
  readonly topicPrefix: string;
}

export function catalogSourceNames(settings: Pick<CatalogSourceSettings, 'slot' | 'publication'>, namespace: string): CatalogSourceNames {
  const ns = sqlNamespace(namespace);
  const names = { schema: `${ns}catalog`, slot: `${ns}${settings.slot}`, publication: `${ns}${settings.publication}` };
  for (const [what, v] of Object.entries(names))
    if (v.length > 63) throw new ConfigError(`the catalog's ${what} name ${v} is longer than PostgreSQL's 63 characters: use a shorter STREAMGRAPH_NAMESPACE`);
  return { ...names, connector: `${namespace}catalog-products-cdc`, topicPrefix: `${ns}catalog` };
}

/** A quoted SQL identifier. */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
