// Settings every subgraph process reads from its environment, checked at start.
import { ConfigError } from './kafkaConfig';
import type { SubgraphOptions } from './startSubgraph';

/** Only for local development; production must set GATEWAY_IDENTITY_SECRET. */
export const DEV_IDENTITY_SECRET = 'streamgraph-dev-identity-secret';

export function identitySecretFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const secret = env.GATEWAY_IDENTITY_SECRET?.trim();
  if (secret) {
    if (secret.length < 16) throw new ConfigError('GATEWAY_IDENTITY_SECRET is shorter than 16 characters; use a long random value');
    return secret;
  }
  if (env.NODE_ENV === 'production')
    throw new ConfigError('GATEWAY_IDENTITY_SECRET is not set; set the same long random value on the gateway and every subgraph');
  return DEV_IDENTITY_SECRET;
}

/**
 * GATEWAY_DEBUG_ERRORS: whether error responses carry stack traces (`extensions.stacktrace`).
 * Off unless asked for, whatever NODE_ENV says: a stack trace shows clients the server's file
 * paths and code. The gateway and the subgraphs read it here, so both agree. @default false
 */
export function debugErrorsFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env.GATEWAY_DEBUG_ERRORS?.trim() ?? '';
  const v = raw.toLowerCase();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new ConfigError(`GATEWAY_DEBUG_ERRORS="${raw}" is not a boolean; set it to true or false (or leave it unset)`);
}

/** A subgraph's options from `<NAME>_PORT`, `SUBGRAPH_HOST`, `STREAMGRAPH_NAMESPACE`, `GATEWAY_IDENTITY_SECRET`, `GATEWAY_DEBUG_ERRORS`, `READY_MAX_LAG`, `WRITE_TIMEOUT_MS`, `KAFKA_SESSION_TIMEOUT_MS`. */
export function subgraphOptionsFromEnv(portVariable: string, defaultPort: number, env: NodeJS.ProcessEnv = process.env): SubgraphOptions {
  const int = (name: string, fallback: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name}="${raw}" is not a whole number`);
    return n;
  };
  return {
    port: int(portVariable, defaultPort),
    host: env.SUBGRAPH_HOST?.trim() || '127.0.0.1',
    identitySecret: identitySecretFromEnv(env),
    debugErrors: debugErrorsFromEnv(env),
    readyMaxLag: int('READY_MAX_LAG', 1000),
    writeTimeoutMs: int('WRITE_TIMEOUT_MS', 5000),
    // How soon the partitions of an instance that died move to the others (the broker's
    // group.min.session.timeout.ms, 6000 by default, is the floor).
    sessionTimeoutMs: int('KAFKA_SESSION_TIMEOUT_MS', 30_000),
    namespace: namespaceFromEnv(env),
    advertisedUrl: env.SUBGRAPH_ADVERTISED_URL?.trim() || undefined,
  };
}

/**
 * STREAMGRAPH_NAMESPACE prefixes every topic, view and consumer group, so several copies of
 * the system (or test runs) can share one Kafka cluster and Redis. @default ''
 */
export function namespaceFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const ns = env.STREAMGRAPH_NAMESPACE?.trim() ?? '';
  if (ns && !/^[A-Za-z0-9._-]+$/.test(ns))
    throw new ConfigError(`STREAMGRAPH_NAMESPACE="${ns}" may only hold letters, digits, dots, dashes and underscores`);
  return ns;
}
