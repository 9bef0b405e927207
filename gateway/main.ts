// Entry point of the gateway process: settings from the environment, start, stop on signals.
// With GATEWAY_WORKERS above 1 this process is the primary of that many gateway workers on
// the same port (gateway/workers.ts), and each worker runs the code below.
import cluster from 'node:cluster';
import { ConfigError } from '../platform/configError';
import { envWholeNumber } from '../platform/envValues';
import { createLogger } from '../platform/logger';
import { connectRedis, RedisUnavailableError } from '../platform/redisConfig';
import { startTracing } from '../platform/tracing';
import { gatewayConfigFromEnv } from './config';
import { startGateway, type GatewayHandle } from './server';
import { runGatewayPrimary, workerMetricsSource } from './workers';

async function main() {
  const logger = createLogger('gateway');
  const config = gatewayConfigFromEnv();
  const workers = envWholeNumber(process.env, 'GATEWAY_WORKERS', 1, 1);
  if (workers > 1 && cluster.isPrimary) return runGatewayPrimary(workers, logger);
  // OTEL_TRACES_EXPORTER and friends; off (nothing loaded) unless set. Each worker traces itself.
  // No context manager: the gateway passes each span's parent explicitly (GatewayContext.trace),
  // so no AsyncLocalStorage ever runs and its promises pay no hooks. Only @apollo/gateway's own
  // spans (GATEWAY_QUERY_PLANNER=apollo) need the active context.
  const tracing = startTracing('gateway', process.env, undefined, { contextManager: config.queryPlanner === 'apollo' });
  const redis = await connectRedis(logger);
  let handle: GatewayHandle | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal means "now", except in a worker, which gets Ctrl-C and the primary's SIGTERM both.
    if (stopping && cluster.isWorker) return;
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (handle?.close() ?? Promise.resolve())
      // Spans still buffered go out before the process does.
      .finally(() => tracing.shutdown().catch(() => undefined))
      .finally(() => {
        redis.disconnect();
        process.exit(0);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  handle = await startGateway({ ...config, redis, logger, metricsSource: cluster.isWorker ? workerMetricsSource : undefined });
  if (cluster.isPrimary) console.log(`gateway ready at ${handle.url}`);
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof RedisUnavailableError) console.error(`gateway: ${e.message}`);
  else console.error(`gateway: ${(e as Error).stack}`);
  process.exit(1);
});
