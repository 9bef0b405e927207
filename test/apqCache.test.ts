// The persisted-query store in the real Redis: bounded in bytes across registrations, oldest dropped first.
import Redis from 'ioredis';
import { RedisKeyValueCache } from '../gateway/apqCache';
import { uniqueName } from './support/waitFor';

let redis: Redis;
let prefix: string;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  prefix = `sg:apq:{${uniqueName('apq')}}:`;
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

it('keeps at most maxBytes of query text, dropping the oldest registrations first', async () => {
  const store = new RedisKeyValueCache(redis, { prefix, maxBytes: 10_000 });
  for (let i = 0; i < 50; i++) await store.set(`h${i}`, `query Q${i} { ${'a '.repeat(500)}}`, { ttl: 60 });
  expect(await store.bytes()).toBeLessThanOrEqual(10_000);
  expect(await store.get('h0')).toBeUndefined();
  expect(await store.get('h49')).toContain('query Q49');
  const kept = (await redis.keys(`${prefix}h*`)).length;
  expect(kept).toBeGreaterThan(5);
  expect(kept).toBeLessThanOrEqual(10);
  expect(await redis.zcard(`${prefix}#index`)).toBe(kept);
});

it('does not count a query registered twice twice, and refuses one larger than the whole budget', async () => {
  const store = new RedisKeyValueCache(redis, { prefix: `${prefix}b:`, maxBytes: 1000 });
  await store.set('same', 'x'.repeat(100));
  await store.set('same', 'x'.repeat(100));
  expect(await store.bytes()).toBe(100);
  await store.set('big', 'x'.repeat(1001));
  expect(await store.get('big')).toBeUndefined();
  expect(await store.get('same')).toBe('x'.repeat(100));
});

it('gives back a deleted registration’s bytes', async () => {
  const store = new RedisKeyValueCache(redis, { prefix: `${prefix}c:`, maxBytes: 1000 });
  await store.set('a', 'x'.repeat(300));
  await store.set('b', 'x'.repeat(200));
  expect(await store.delete('a')).toBe(true);
  expect(await store.bytes()).toBe(200);
  expect(await store.get('a')).toBeUndefined();
  expect(await store.delete('a')).toBe(false);
});
