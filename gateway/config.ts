// Every gateway setting, read from the environment and checked at start.
import path from 'node:path';
import { ConfigError } from '../platform/configError';
import { envWholeNumber } from '../platform/envValues';
import { operationWindowFromEnv } from '../platform/operationLog';
import { debugErrorsFromEnv, identitySecretFromEnv, namespaceFromEnv } from '../platform/settings';
import { kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { authConfigFromEnv } from './authConfigFromEnv';
import { DEVICE_CLAIM_RULES, type DeviceClaimRule } from './events/claimableDevice';
import { DEFAULT_EVENT_INGEST, MAX_PENDING_EVENTS } from './events/eventIngest';
import { limitsFromEnv } from './limitsFromEnv';
import { DEFAULT_SUBSCRIPTION_LIMITS } from './subscriptions/subscriptionLimits';
import type { GatewayConfig } from './server';
import type { QueryPlannerChoice } from './supergraph/supergraphGateway';
import fs from 'node:fs';

export const DEFAULT_SUPERGRAPH_FILE = path.join(__dirname, '../schema/supergraph.graphql');

/** The gateway's configuration from the environment, without the Redis client (main makes it). */
export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<GatewayConfig, 'redis' | 'logger'> {
  const int = (name: string, fallback: number, min = 0) => envWholeNumber(env, name, fallback, min);
  const production = env.NODE_ENV === 'production';
  const source = (env.SUPERGRAPH_SOURCE?.trim() || 'registry').toLowerCase();
  let supergraph: GatewayConfig['supergraph'];
  if (source === 'registry')
    supergraph = { kind: 'registry', namespace: namespaceFromEnv(env), absenceWindowMs: int('REGISTRY_ABSENCE_MS', 15_000, 1000), operationWindowMs: operationWindowFromEnv(env) };
  else if (source === 'file') supergraph = { kind: 'file', path: env.SUPERGRAPH_FILE?.trim() || DEFAULT_SUPERGRAPH_FILE };
  else throw new ConfigError(`SUPERGRAPH_SOURCE="${source}" is neither registry nor file`);
  const introspectionRaw = env.GATEWAY_INTROSPECTION?.trim().toLowerCase();
  if (introspectionRaw && !['true', 'false'].includes(introspectionRaw))
    throw new ConfigError(`GATEWAY_INTROSPECTION="${introspectionRaw}" is neither true nor false`);
  return {
    port: int('PORT', 4000),
    host: env.HOST?.trim() || '127.0.0.1',
    supergraph,
    identitySecret: identitySecretFromEnv(env),
    auth: authConfigFromEnv(env),
    limits: limitsFromEnv(env),
    introspection: introspectionRaw ? introspectionRaw === 'true' : !production,
    safelist: safelistFromEnv(env),
    subgraphTimeoutMs: int('SUBGRAPH_TIMEOUT_MS', 10_000, 1),
    queryPlanner: queryPlannerFromEnv(env),
    subscriptionLimits: {
      maxConnections: int('GATEWAY_WS_MAX_CONNECTIONS', DEFAULT_SUBSCRIPTION_LIMITS.maxConnections, 1),
      maxSubscriptionsPerConnection: int('GATEWAY_WS_MAX_OPERATIONS', DEFAULT_SUBSCRIPTION_LIMITS.maxSubscriptionsPerConnection, 1),
      maxQueuedMessages: int('GATEWAY_WS_MAX_QUEUED', DEFAULT_SUBSCRIPTION_LIMITS.maxQueuedMessages, 1),
    },
    subscriptionRetryMs: int('SUBSCRIPTION_RETRY_MS', 15_000),
    debugErrors: debugErrorsFromEnv(env),
    // POST /events writes client events to Kafka (the only part of the gateway that does).
    events: {
      kafka: kafkaConfigFromEnv(env),
      settings: {
        namespace: namespaceFromEnv(env),
        maxBatch: eventsMaxBatch(int('EVENTS_MAX_BATCH', DEFAULT_EVENT_INGEST.maxBatch, 1)),
        ratePerMinute: int('EVENTS_RATE_PER_MINUTE', DEFAULT_EVENT_INGEST.ratePerMinute, 1),
        addressRatePerMinute: int('EVENTS_ADDRESS_RATE_PER_MINUTE', DEFAULT_EVENT_INGEST.addressRatePerMinute, 1),
        deviceClaims: deviceClaimsFromEnv(env),
      },
    },
  };
}

/**
 * A batch larger than what may wait for Kafka at once could never be taken: it would be answered
 * 503 "retry shortly" forever, so such a setting is refused at start.
 */
function eventsMaxBatch(n: number): number {
  if (n > MAX_PENDING_EVENTS)
    throw new ConfigError(`EVENTS_MAX_BATCH=${n} is more than the ${MAX_PENDING_EVENTS} client events the gateway lets wait for Kafka at once; no such batch could ever be taken`);
  return n;
}

/** EVENTS_DEVICE_CLAIMS: `uuid` (the default) or `any`; anything else is refused at start. */
function deviceClaimsFromEnv(env: NodeJS.ProcessEnv): DeviceClaimRule {
  const raw = env.EVENTS_DEVICE_CLAIMS?.trim().toLowerCase() || DEFAULT_EVENT_INGEST.deviceClaims;
  const rule = DEVICE_CLAIM_RULES.find((r) => r === raw);
  if (!rule) throw new ConfigError(`EVENTS_DEVICE_CLAIMS="${raw}" is neither ${DEVICE_CLAIM_RULES.join(' nor ')}`);
  return rule;
}

/** GATEWAY_SAFELIST_FILE: a JSON array of sha256 hashes (hex) of the allowed operation texts. */
function safelistFromEnv(env: NodeJS.ProcessEnv): ReadonlySet<string> | null {
  const file = env.GATEWAY_SAFELIST_FILE?.trim();
  if (!file) return null;
  let hashes: unknown;
  try {
    hashes = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`GATEWAY_SAFELIST_FILE=${file} cannot be read as JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)))
    throw new ConfigError(`GATEWAY_SAFELIST_FILE=${file} must hold a JSON array of sha256 hex hashes of operation texts`);
  return new Set(hashes as string[]);
}

/** GATEWAY_QUERY_PLANNER: `hive` (default) or `apollo`. */
function queryPlannerFromEnv(env: NodeJS.ProcessEnv): QueryPlannerChoice {
  const raw = env.GATEWAY_QUERY_PLANNER?.trim().toLowerCase() || 'hive';
  if (raw !== 'hive' && raw !== 'apollo') throw new ConfigError(`GATEWAY_QUERY_PLANNER="${raw}" is neither hive nor apollo`);
  return raw;
}
