// Automatic persisted queries kept in Redis, so every gateway instance knows a query
// once any instance has seen it.
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Cluster, Redis } from 'ioredis';

export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix = 'sg:apq:',
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    if (options?.ttl) await this.redis.set(this.prefix + key, value, 'EX', Math.max(1, Math.ceil(options.ttl)));
    else await this.redis.set(this.prefix + key, value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + key)) > 0;
  }
}
