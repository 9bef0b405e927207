// Builds the ioredis client (single node or cluster) from REDIS_* environment variables and checks it answers.

import Redis, { Cluster, type RedisOptions } from 'ioredis';
import { ConfigError } from './configError';
import type { Logger } from './logger';
import { envBool, envValue } from './envValues';

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const CHECK_DEADLINE_MS = 3_000;

export interface RedisNode {
  host: string;
  port: number;
}

/** What the environment asks for, before any client exists: the unit-testable part. */
export type RedisEnvConfig =
  | { kind: 'single'; url: string; tls: boolean }
  | { kind: 'cluster'; nodes: RedisNode[]; tls: boolean; /** for messages */ url: string };

/**
 * REDIS_URL (redis:// or rediss://, default redis://127.0.0.1:6379), REDIS_CLUSTER_NODES
 * (comma list of host:port; takes precedence and yields a cluster client), REDIS_TLS (true/false;
 * rediss:// implies it). Throws ConfigError on anything malformed or contradictory.
 */
export function parseRedisEnv(env: NodeJS.ProcessEnv = process.env): RedisEnvConfig {
  const url = envValue(env, 'REDIS_URL') ?? DEFAULT_URL;
  const tlsFlag = envBool(env, 'REDIS_TLS');
  const clusterNodes = envValue(env, 'REDIS_CLUSTER_NODES');

  if (clusterNodes !== undefined) {
    const nodes = clusterNodes
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '')
      .map(parseNode);
    if (nodes.length === 0) throw new ConfigError('REDIS_CLUSTER_NODES is empty; set it to host:port[,host:port...] or unset it');
    const shown = nodes.map((n) => `${n.host}:${n.port}`).join(',');
    return { kind: 'cluster', nodes, tls: tlsFlag ?? false, url: `redis-cluster://${shown}` };
  }

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`REDIS_URL="${url}" is not a URL; set it like redis://127.0.0.1:6379`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got ${parsed.protocol}//; set it like redis://127.0.0.1:6379`);
  }
  if (parsed.protocol === 'rediss:' && tlsFlag === false) {
    throw new ConfigError('REDIS_URL is rediss:// (TLS) but REDIS_TLS=false; use redis:// or drop REDIS_TLS');
  }
  return { kind: 'single', url, tls: parsed.protocol === 'rediss:' || tlsFlag === true };
}

/** The client the environment asks for; `opts` (e.g. lazyConnect, keyPrefix) apply to every node. */
export function redisFromEnv(env: NodeJS.ProcessEnv = process.env, opts: RedisOptions = {}): Redis | Cluster {
  const config = parseRedisEnv(env);
  const tls = config.tls ? { tls: {} } : {};
  if (config.kind === 'cluster') return new Cluster(config.nodes, { redisOptions: { ...tls, ...opts } });
  // ioredis turns rediss:// into TLS itself; REDIS_TLS=true covers proxies that only speak TLS on redis://.
  return new Redis(config.url, { ...tls, ...opts });
}

/** Thrown by checkRedis: Redis is configured but not answering. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** Fails fast, in one line, when the Redis behind `client` does not answer PING within 3s. */
export async function checkRedis(client: Redis | Cluster, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_DEADLINE_MS / 1000}s`)), CHECK_DEADLINE_MS);
      }),
    ]);
  } catch (err) {
    // ioredis messages end with a period ("Connection is closed."); the sentence below adds its own.
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\.+$/, '');
    throw new RedisUnavailableError(
      `Redis at ${redact(url)} did not answer: ${reason}. Start it (redis-server --daemonize yes --port 6379) or set REDIS_URL.`,
    );
  } finally {
    clearTimeout(timer);
  }
}

function parseNode(raw: string): RedisNode {
  const match = /^([^\s:]+):(\d+)$/.exec(raw);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(`REDIS_CLUSTER_NODES entry "${raw}" is not host:port; set REDIS_CLUSTER_NODES=host1:6379,host2:6379`);
  }
  return { host: match[1] as string, port };
}



/** Passwords in REDIS_URL must not end up in logs. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** A Redis client from the environment that answered PING, logging each new outage cause once. */
export async function connectRedis(logger: Logger): Promise<Redis | Cluster> {
  const redis = redisFromEnv();
  // ioredis reports every failed reconnect; during the check its one-line verdict says it all.
  const quiet = () => undefined;
  redis.on('error', quiet);
  await checkRedis(redis, parseRedisEnv().url).catch((e: unknown) => {
    redis.disconnect();
    throw e;
  });
  redis.off('error', quiet);
  let lastError = '';
  redis.on('error', (e: Error) => {
    if (e.message === lastError) return;
    lastError = e.message;
    logger.warn({ err: e.message }, 'Redis connection error; retrying');
  });
  redis.on('ready', () => (lastError = ''));
  return redis;
}
