// Automatic persisted queries kept in Redis, so every gateway instance knows a query once any
// instance has seen it. Clients choose what gets registered, so the store is bounded in bytes
// of query text across all instances: the oldest registrations are dropped first. Apollo Server
// registers a query only after it passed validation and every limit.
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Cluster, Redis } from 'ioredis';

export interface PersistedQueryStoreOptions {
  /** Key prefix; its `{...}` hash tag keeps every key of the store in one Redis Cluster slot. */
  readonly prefix?: string;
  /** Bytes of query text kept at most; the oldest registrations go first. @default 64 MiB */
  readonly maxBytes?: number;
}

// KEYS: entry, index (zset member -> registration time), sizes (hash member -> bytes), total.
// ARGV: value, ttl seconds (0: none), now ms, max bytes, member, entry key prefix.
// Entries that expired by TTL are still in the index; they are swept (oldest first) like evictions.
const SET_SCRIPT = `
local size = string.len(ARGV[1])
local max = tonumber(ARGV[4])
if size > max then return 0 end
local old = redis.call('HGET', KEYS[3], ARGV[5])
if old then redis.call('DECRBY', KEYS[4], old) end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
redis.call('HSET', KEYS[3], ARGV[5], size)
local total = redis.call('INCRBY', KEYS[4], size)
while total > max do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local member = oldest[1]
  local bytes = tonumber(redis.call('HGET', KEYS[3], member) or '0')
  redis.call('HDEL', KEYS[3], member)
  redis.call('DEL', ARGV[6] .. member)
  total = redis.call('DECRBY', KEYS[4], bytes)
end
return 1
`;

// KEYS as SET_SCRIPT's; ARGV: member.
const DELETE_SCRIPT = `
local bytes = redis.call('HGET', KEYS[3], ARGV[1])
if bytes then redis.call('DECRBY', KEYS[4], bytes) end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
`;

export class RedisKeyValueCache implements KeyValueCache<string> {
  private readonly prefix: string;
  private readonly maxBytes: number;

  constructor(
    private readonly redis: Redis | Cluster,
    opts: PersistedQueryStoreOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'sg:apq:{apq}:';
    this.maxBytes = opts.maxBytes ?? 64 * 2 ** 20;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl ? Math.max(1, Math.ceil(options.ttl)) : 0;
    await this.redis.eval(
      SET_SCRIPT,
      4,
      this.prefix + key,
      `${this.prefix}#index`,
      `${this.prefix}#sizes`,
      `${this.prefix}#bytes`,
      value,
      ttl,
      Date.now(),
      this.maxBytes,
      key,
      this.prefix,
    );
  }

  /** Removes a registration and its share of the byte count. */
  async delete(key: string): Promise<boolean> {
    const removed = await this.redis.eval(DELETE_SCRIPT, 4, this.prefix + key, `${this.prefix}#index`, `${this.prefix}#sizes`, `${this.prefix}#bytes`, key);
    return Number(removed) > 0;
  }

  /** Bytes of query text registered now (expired entries count until they are swept). */
  async bytes(): Promise<number> {
    return Number((await this.redis.get(`${this.prefix}#bytes`)) ?? 0);
  }
}
