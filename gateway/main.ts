// Entry point of the gateway process: settings from the environment, start, stop on signals.
import { ConfigError } from '../platform/configError';
import { createLogger } from '../platform/logger';
import { connectRedis, RedisUnavailableError } from '../platform/redisConfig';
import { gatewayConfigFromEnv } from './config';
import { startGateway, type GatewayHandle } from './server';

async function main() {
  const logger = createLogger('gateway');
  const config = gatewayConfigFromEnv();
  const redis = await connectRedis(logger);
  let handle: GatewayHandle | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (handle?.close() ?? Promise.resolve()).finally(() => {
      redis.disconnect();
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  handle = await startGateway({ ...config, redis, logger });
  console.log(`gateway ready at ${handle.url}`);
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof RedisUnavailableError) console.error(`gateway: ${e.message}`);
  else console.error(`gateway: ${(e as Error).stack}`);
  process.exit(1);
});
