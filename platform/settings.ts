// Settings the gateway and the subgraphs share, read the same way on both sides.
import { ConfigError } from './configError';

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
