// Replaying a dead-letter topic: re-publishes the original records to their source topic and
// records in Redis how far it got, so that running it twice replays nothing twice.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Cluster, Redis } from 'ioredis';
import type { Message } from 'kafkajs';
import { REPLAYED_FROM_HEADER } from './deadLetterHeaders';
import { parseDeadLetter, type DeadLetter } from './deadLetters';
import { describeDeadLetterTopic, replayKeys, scanTopic, type ReadProgress, type ScanOptions } from './deadLetterScan';
import { createEventProducer } from './producer';
import { createReplayPlanner, type HeldBack, type ReplayCounts, type ReplayRules } from './replayPlanner';

export interface ReplayOptions extends ScanOptions, ReplayRules {
  readonly redis: Redis | Cluster;
  /** Decide and report, publish nothing, keep the replay position. @default false */
  readonly dryRun?: boolean;
  /** Read from each partition's log start instead of the replay position: replays again. @default false */
  readonly fromStart?: boolean;
  /** Called after each batch read. */
  readonly onProgress?: (p: ReadProgress & { readonly replayed: number }) => void;
  /** Called for each source record re-published (or, in a dry run, that would be). */
  readonly onReplay?: (deadLetter: DeadLetter) => void;
  /** How long the replay lock lives without being renewed (a crashed run frees it). @default 60000 */
  readonly lockTtlMs?: number;
}

export interface ReplayResult extends ReplayCounts {
  readonly topic: string;
  readonly dryRun: boolean;
  /** Dead letters read. */
  readonly read: number;
  /** The offsets read per partition: [from, to). */
  readonly ranges: ReadonlyArray<{ partition: number; from: number; to: number }>;
  /** The records counted in heldBack, with the views they failed in and the ones they did not. */
  readonly held: readonly HeldBack[];
  /** Partitions left alone, and why (e.g. a replay position past the log end). */
  readonly problems: readonly string[];
}

/** Thrown when another replay of the same topic holds the lock. Retrying after it ends helps. */
export class ReplayInProgressError extends Error {
  readonly retriable = true;
  constructor(topic: string, holder: string) {
    super(`another replay of ${topic} is running (${holder}); wait for it to finish (its lock expires a minute after it stops)`);
    this.name = 'ReplayInProgressError';
  }
}

// KEYS: lock, position. ARGV: token, ttl ms, then partition/offset pairs to record.
// Renews the lock and records the position only while the lock is still this run's.
const RENEW_AND_RECORD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Re-publishes dead letters to their source topic partition with their original key and bytes
 * (plus a `dlq-replayed-from` header), so that a fixed projection applies them. Each run reads
 * from the replay position up to the log end it found, records its progress after every
 * batch, and so never re-publishes what an earlier run handled, unless `fromStart`.
 */
export async function replayDeadLetters(opts: ReplayOptions): Promise<ReplayResult> {
  const { redis, topic } = opts;
  const dryRun = opts.dryRun ?? false;
  const keys = replayKeys(topic);
  const ttl = opts.lockTtlMs ?? 60_000;
  const token = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  if (!dryRun) {
    const got = await redis.set(keys.lock, token, 'PX', ttl, 'NX');
    if (got !== 'OK') throw new ReplayInProgressError(topic, (await redis.get(keys.lock)) ?? 'lock just released');
  }
  const renewAndRecord = async (positions: ReadonlyArray<readonly [number, number]>) => {
    const args = positions.flatMap(([p, o]) => [String(p), String(o)]);
    const ok = await redis.eval(RENEW_AND_RECORD, 2, keys.lock, keys.position, token, String(ttl), ...args);
    if (ok !== 1) throw new Error(`the replay lock of ${topic} expired (a stall longer than ${ttl / 1000} s?); run the replay again`);
  };
  const renewal = dryRun ? undefined : setInterval(() => void renewAndRecord([]).catch(() => undefined), Math.max(1000, ttl / 3));
  renewal?.unref();
  const producer = dryRun ? undefined : await createEventProducer(opts.kafka);
  try {
    const partitions = await describeDeadLetterTopic(opts.admin, topic, redis);
    const problems: string[] = [];
    const ranges = partitions.map((p) => {
      if (opts.fromStart || p.replayedUpTo === null) return { partition: p.partition, from: p.logStart, to: p.logEnd };
      if (p.replayedUpTo > p.logEnd) {
        // The position belongs to an earlier incarnation of the topic. Guessing could replay
        // records twice, so the operator decides.
        problems.push(
          `${topic}[${p.partition}]: the replay position ${p.replayedUpTo} is past the log end ${p.logEnd} (topic recreated?); ` +
            `nothing replayed there: pass --from-start to replay from offset ${p.logStart}`,
        );
        return { partition: p.partition, from: p.logEnd, to: p.logEnd };
      }
      return { partition: p.partition, from: Math.max(p.logStart, p.replayedUpTo), to: p.logEnd };
    });
    const planner = createReplayPlanner(opts);
    const total = ranges.reduce((a, r) => a + (r.to - r.from), 0);
    let read = 0;
    await scanTopic(opts, ranges, async (partition, records, next) => {
      const chosen: DeadLetter[] = [];
      for (const r of records) {
        const decision = planner.decide(parseDeadLetter(r));
        if (decision.action === 'replay') chosen.push(decision.deadLetter);
      }
      read += records.length;
      if (producer) {
        // Checked before publishing too, so a run that lost its lock stops before doing harm.
        await renewAndRecord([]);
        // Grouped by source topic in dead-letter order, which keeps each key's records in order.
        const byTopic = new Map<string, Message[]>();
        for (const d of chosen) {
          const list = byTopic.get(d.source.topic) ?? [];
          list.push({
            key: d.sourceKey,
            value: d.value,
            partition: d.source.partition,
            headers: { [REPLAYED_FROM_HEADER]: `${d.position.topic}:${d.position.partition}:${d.position.offset}` },
          });
          byTopic.set(d.source.topic, list);
        }
        for (const [sourceTopic, messages] of byTopic) await producer.publishRaw(sourceTopic, messages);
        await renewAndRecord([[partition, next]]);
      }
      for (const d of chosen) opts.onReplay?.(d);
      opts.onProgress?.({ read, total, replayed: planner.counts().replayed });
      return 'more';
    });
    return { topic, dryRun, read, ranges, held: planner.heldBack(), problems, ...planner.counts() };
  } finally {
    if (renewal) clearInterval(renewal);
    await producer?.close();
    if (!dryRun) await redis.eval(RELEASE, 1, keys.lock, token).catch(() => undefined);
  }
}
