// The operations the gateway has served recently, kept in Redis for schema checks: a publish
// that would break one of them is refused (schemaPublishing.ts). Client input feeds this, so
// every part is bounded: how many are kept, for how long, how large a document may be, and how
// many wait in memory between flushes.
import type { Cluster, Redis } from 'ioredis';
import { envWholeNumber } from './envValues';
import type { Logger } from './logger';

export interface RecordedOperation {
  /** sha256 of the document text. */
  readonly hash: string;
  readonly name: string | null;
  readonly text: string;
  /** When a gateway last served it (ms since epoch, to the flush interval). */
  readonly lastSeen: number;
}

export function operationLogKeys(namespace = ''): { seen: string; docs: string } {
  // One hash tag: the trim script touches both keys, which Redis Cluster allows only in one slot.
  const tag = `{sg:ops:${namespace}}`;
  return { seen: `${tag}:seen`, docs: `${tag}:docs` };
}

export const OPERATION_LOG_LIMITS = {
  /** Operations kept across all gateways; the least recently served go first. */
  maxOperations: 5_000,
  /** Larger documents are not kept (the schema check does not see them). */
  maxDocumentBytes: 64 * 1024,
  /** Distinct operations one gateway holds between flushes; more are counted and dropped. */
  maxPending: 1_000,
} as const;

/** How long an operation counts as "recent" for the schema check. @default 7 days */
export const DEFAULT_OPERATION_WINDOW_MS = 7 * 24 * 3600_000;

// Records a flush's operations and trims in one step, so that concurrent gateways cannot leave
// documents without an entry in the index (or the reverse). KEYS: seen, docs. ARGV: now,
// cutoff, max, then hash/document pairs.
const RECORD_SCRIPT = `
local now = ARGV[1]
for i = 4, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], now, ARGV[i])
  redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
end
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
local over = redis.call('ZCARD', KEYS[1]) - #old - tonumber(ARGV[3])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], #old, #old + over - 1)
  for _, h in ipairs(oldest) do old[#old + 1] = h end
end
for _, h in ipairs(old) do
  redis.call('ZREM', KEYS[1], h)
  redis.call('HDEL', KEYS[2], h)
end
return #old
`;

export interface OperationRecorder {
  /** Notes that an operation was served; written to Redis at the next flush. */
  record(hash: string, name: string | null, text: string): void;
  /** Writes what is pending now. */
  flush(): Promise<void>;
  /** Operations dropped because too many were pending or a document was too large. */
  dropped(): number;
  close(): Promise<void>;
}

export interface OperationRecorderOptions {
  readonly namespace?: string;
  /** @default 10000 */
  readonly flushMs?: number;
  /** @default DEFAULT_OPERATION_WINDOW_MS */
  readonly windowMs?: number;
  readonly logger: Logger;
}

export function createOperationRecorder(redis: Redis | Cluster, opts: OperationRecorderOptions): OperationRecorder {
  const keys = operationLogKeys(opts.namespace);
  const windowMs = opts.windowMs ?? DEFAULT_OPERATION_WINDOW_MS;
  let pending = new Map<string, string>();
  let dropped = 0;
  let flushing: Promise<void> = Promise.resolve();

  const flushNow = async () => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const now = Date.now();
    const args: string[] = [String(now), String(now - windowMs), String(OPERATION_LOG_LIMITS.maxOperations)];
    for (const [hash, doc] of batch) args.push(hash, doc);
    try {
      await redis.eval(RECORD_SCRIPT, 2, keys.seen, keys.docs, ...args);
    } catch (e) {
      // A Redis outage costs the schema check some recent operations, never a request.
      opts.logger.warn({ err: (e as Error).message, operations: batch.size }, 'recording served operations failed');
    }
  };
  const flush = () => (flushing = flushing.then(flushNow));
  const timer = setInterval(() => void flush(), opts.flushMs ?? 10_000);
  timer.unref();

  return {
    record(hash, name, text) {
      if (pending.has(hash)) return;
      if (pending.size >= OPERATION_LOG_LIMITS.maxPending || Buffer.byteLength(text) > OPERATION_LOG_LIMITS.maxDocumentBytes) {
        dropped++;
        return;
      }
      pending.set(hash, JSON.stringify({ name, text }));
    },
    flush,
    dropped: () => dropped,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** The operations served within `windowMs`, most recent first. */
export async function readRecentOperations(redis: Redis | Cluster, namespace = '', windowMs = DEFAULT_OPERATION_WINDOW_MS, now = Date.now()): Promise<RecordedOperation[]> {
  const keys = operationLogKeys(namespace);
  const seen = await redis.zrevrangebyscore(keys.seen, '+inf', String(now - windowMs), 'WITHSCORES');
  const hashes: string[] = [];
  const times: number[] = [];
  for (let i = 0; i < seen.length; i += 2) {
    hashes.push(seen[i]);
    times.push(Number(seen[i + 1]));
  }
  if (hashes.length === 0) return [];
  const docs = await redis.hmget(keys.docs, ...hashes);
  const out: RecordedOperation[] = [];
  hashes.forEach((hash, i) => {
    const raw = docs[i];
    if (!raw) return;
    try {
      const d = JSON.parse(raw) as { name: string | null; text: string };
      out.push({ hash, name: d.name, text: d.text, lastSeen: times[i] });
    } catch {
      // A document another version wrote differently is not checked; never a reason to fail.
    }
  });
  return out;
}

/** REGISTRY_OPERATION_WINDOW_DAYS: how long a served operation counts for the schema check. */
export function operationWindowFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return envWholeNumber(env, 'REGISTRY_OPERATION_WINDOW_DAYS', 7, 1) * 24 * 3600_000;
}
