// Unit tests of the REDIS_* environment parsing and of the one-line "Redis did not answer" failure.

import Redis from 'ioredis';
import { ConfigError } from './configError';
import { checkRedis, parseRedisEnv, RedisUnavailableError } from './redisConfig';

describe('parseRedisEnv', () => {
  it('defaults to the local Redis', () => {
    expect(parseRedisEnv({})).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379', tls: false });
  });

  it('uses REDIS_URL, with TLS implied by rediss://', () => {
    expect(parseRedisEnv({ REDIS_URL: 'redis://cache:6380/2' })).toEqual({ kind: 'single', url: 'redis://cache:6380/2', tls: false });
    expect(parseRedisEnv({ REDIS_URL: 'rediss://:pw@cache:6380' }).tls).toBe(true);
    expect(parseRedisEnv({ REDIS_URL: 'redis://cache:6380', REDIS_TLS: 'true' }).tls).toBe(true);
  });

  it('rejects URLs that are not redis ones', () => {
    expect(() => parseRedisEnv({ REDIS_URL: 'http://cache:6379' })).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisEnv({ REDIS_URL: 'cache 6379' })).toThrow(ConfigError);
  });

  it('rejects rediss:// with REDIS_TLS=false', () => {
    expect(() => parseRedisEnv({ REDIS_URL: 'rediss://cache:6379', REDIS_TLS: 'false' })).toThrow(/REDIS_TLS=false/);
  });

  it('rejects a non-boolean REDIS_TLS', () => {
    expect(() => parseRedisEnv({ REDIS_TLS: 'on' })).toThrow('REDIS_TLS="on" is not a boolean; set it to true or false');
  });

  it('builds a cluster from REDIS_CLUSTER_NODES, which wins over REDIS_URL', () => {
    expect(parseRedisEnv({ REDIS_CLUSTER_NODES: 'a:7000, b:7001,', REDIS_URL: 'redis://ignored:1', REDIS_TLS: 'yes' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      tls: true,
      url: 'redis-cluster://a:7000,b:7001',
    });
  });

  it('rejects malformed cluster nodes', () => {
    expect(() => parseRedisEnv({ REDIS_CLUSTER_NODES: 'a' })).toThrow('REDIS_CLUSTER_NODES entry "a" is not host:port');
    expect(() => parseRedisEnv({ REDIS_CLUSTER_NODES: ' , ' })).toThrow(/REDIS_CLUSTER_NODES is empty/);
  });
});

describe('checkRedis', () => {
  it('fails in one line, naming the URL without its password, when nothing answers', async () => {
    // Port 1 is never a Redis; no retries so the client gives up at once.
    const client = new Redis('redis://:secret@127.0.0.1:1', {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      disconnectTimeout: 50, // ioredis otherwise keeps a 2s timer after a failed connect.
    });
    client.on('error', () => undefined);
    try {
      const failure = checkRedis(client, 'redis://:secret@127.0.0.1:1');
      await expect(failure).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(failure).rejects.toThrow(
        /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 did not answer: [^.]+\. Start it \(redis-server --daemonize yes --port 6379\) or set REDIS_URL\.$/,
      );
    } finally {
      client.disconnect();
    }
  });
});
