// Rate limits of POST /events, per device, per customer and per client address, counted in Redis
// so that every gateway instance and worker shares them. Fixed one-minute windows: one counter
// per actor and minute, each expiring two minutes after it was made, so the state is bounded by
// the actors active in the last two minutes (ids are at most 128 characters) whatever clients send.
//
// A batch is admitted only when every counter it touches has room for all its events: a refused
// batch produces nothing. Counters are incremented one script call each (Redis Cluster puts them
// on different nodes, so no one script may touch them all); when a later one is full the earlier
// increments are given back.
import type { Cluster, Redis } from 'ioredis';

export interface RateLimitCharge {
  /** `device`, `customer` or `address`: part of the key and of the refusal. */
  readonly kind: 'device' | 'customer' | 'address';
  readonly id: string;
  /** Events this batch adds to the actor's count. */
  readonly events: number;
  /** Events the actor may send per window. */
  readonly limit: number;
}

export type RateLimitDecision =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly kind: RateLimitCharge['kind']; readonly limit: number; readonly retryAfterSeconds: number };

export interface EventRateLimiter {
  charge(charges: readonly RateLimitCharge[], now?: number): Promise<RateLimitDecision>;
}

const WINDOW_MS = 60_000;

// Adds ARGV[1] events to KEYS[1] unless that would pass ARGV[2]; returns the new count or -1.
const CHARGE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if current + n > tonumber(ARGV[2]) then return -1 end
local after = redis.call('INCRBY', KEYS[1], n)
if after == n then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return after
`;

type ChargingRedis = (Redis | Cluster) & {
  eventsRateCharge(key: string, events: number, limit: number, ttlMs: number): Promise<number>;
};

export function createEventRateLimiter(redis: Redis | Cluster, namespace = ''): EventRateLimiter {
  const r = redis as ChargingRedis;
  if (typeof r.eventsRateCharge !== 'function') r.defineCommand('eventsRateCharge', { numberOfKeys: 1, lua: CHARGE });
  const keyOf = (c: RateLimitCharge, window: number) => `sg:events:rate:${namespace}:${c.kind}:${c.id}:${window}`;
  return {
    async charge(charges, now = Date.now()) {
      const window = Math.floor(now / WINDOW_MS);
      const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
      // A batch bigger than a limit can never pass; saying so needs no round trip.
      const hopeless = charges.find((c) => c.events > c.limit);
      if (hopeless) return { admitted: false, kind: hopeless.kind, limit: hopeless.limit, retryAfterSeconds };
      const results = await Promise.all(charges.map((c) => r.eventsRateCharge(keyOf(c, window), c.events, c.limit, 2 * WINDOW_MS)));
      const full = results.findIndex((n) => n < 0);
      if (full < 0) return { admitted: true };
      // Give back what this batch took from the counters that had room.
      await Promise.all(charges.map((c, i) => (results[i] >= 0 ? r.decrby(keyOf(c, window), c.events) : null)));
      return { admitted: false, kind: charges[full].kind, limit: charges[full].limit, retryAfterSeconds };
    },
  };
}
