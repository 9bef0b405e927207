// The entry-point routine of every subgraph process: read the environment, check Redis,
// start, and stop cleanly on SIGINT/SIGTERM (leaving consumer groups so partitions move at
// once). Configuration mistakes end it with one clear line, not a stack trace.
import type { Cluster, Redis } from 'ioredis';
import { ConfigError } from '../../platform/configError';
import { createLogger } from '../../platform/logger';
import { connectRedis, RedisUnavailableError } from '../../platform/redisConfig';
import { startTracing, type TracingHandle } from '../../platform/tracing';
import type { SubgraphDeclaration } from './declaration';
import type { SubgraphHandle, SubgraphOptions } from './startSubgraph';
import { subgraphOptionsFromEnv } from './subgraphConfig';

/** Runs the subgraph `declaration` declares (its name, port and port setting) with `start`. */
export function runSubgraphMain(declaration: SubgraphDeclaration, start: (opts: SubgraphOptions) => Promise<SubgraphHandle>): void {
  const { name, portVariable, port: defaultPort } = declaration;
  const logger = createLogger(name);
  let handle: SubgraphHandle | undefined;
  let redis: Redis | Cluster | undefined;
  let tracing: TracingHandle | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal while stopping means "now": do not wait for a hung close.
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    (handle?.close() ?? Promise.resolve()).then(
      async () => {
        // Spans still buffered go out before the process does.
        await tracing?.shutdown().catch(() => undefined);
        redis?.disconnect();
        process.exit(0);
      },
      (e: unknown) => {
        logger.error({ err: e }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  (async () => {
    const opts = subgraphOptionsFromEnv(portVariable, defaultPort);
    // OTEL_TRACES_EXPORTER and friends; off (nothing loaded) unless set.
    tracing = startTracing(name);
    redis = await connectRedis(logger);
    handle = await start({ ...opts, redis, logger });
    console.log(`${name} subgraph ready at ${handle.url} (graphql-ws ${handle.wsUrl})`);
  })().catch((e: unknown) => {
    const err = e as NodeJS.ErrnoException & { port?: number; address?: string };
    if (e instanceof ConfigError || e instanceof RedisUnavailableError) console.error(`${name}: ${err.message}`);
    else if (err.code === 'EADDRINUSE') console.error(`${name}: ${err.address}:${err.port} is in use; stop what holds it or set ${portVariable} to a free port`);
    else console.error(`${name}: ${err.stack}`);
    process.exit(1);
  });
}
