// Settings every subgraph process reads from its environment, checked at start.
import { fetchSettingsFromEnv } from '../../platform/kafkaConfig';
import { PUBLISH_ON_START_VALUES, type PublishOnStart } from '../../platform/announceSubgraph';
import { ConfigError } from '../../platform/configError';
import { envValue, envWholeNumber } from '../../platform/envValues';
import { debugErrorsFromEnv, identitySecretFromEnv, namespaceFromEnv } from '../../platform/settings';
import type { SubgraphOptions } from './startSubgraph';

/** A subgraph's options from `<NAME>_PORT`, `SUBGRAPH_HOST`, `STREAMGRAPH_NAMESPACE`, `GATEWAY_IDENTITY_SECRET`, `GATEWAY_DEBUG_ERRORS`, `READY_MAX_LAG`, `WRITE_TIMEOUT_MS`, `KAFKA_SESSION_TIMEOUT_MS`, `SUBGRAPH_PUBLISH_ON_START`. */
export function subgraphOptionsFromEnv(portVariable: string, defaultPort: number, env: NodeJS.ProcessEnv = process.env): SubgraphOptions {
  const int = (name: string, fallback: number) => envWholeNumber(env, name, fallback);
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
    fetch: fetchSettingsFromEnv(env),
    namespace: namespaceFromEnv(env),
    advertisedUrl: env.SUBGRAPH_ADVERTISED_URL?.trim() || undefined,
    publishOnStart: publishOnStartFromEnv(env),
  };
}

/** SUBGRAPH_PUBLISH_ON_START: first (default), always or never. */
export function publishOnStartFromEnv(env: NodeJS.ProcessEnv = process.env): PublishOnStart {
  const raw = envValue(env, 'SUBGRAPH_PUBLISH_ON_START')?.toLowerCase() ?? 'first';
  if (!(PUBLISH_ON_START_VALUES as readonly string[]).includes(raw))
    throw new ConfigError(`SUBGRAPH_PUBLISH_ON_START="${raw}" is not one of ${PUBLISH_ON_START_VALUES.join(', ')}`);
  return raw as PublishOnStart;
}
