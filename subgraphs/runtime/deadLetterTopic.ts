// A dead-letter topic seen from the outside: its offsets, a bounded read of its records,
// counts by reason, and a replay that re-publishes the original records to their source
// topic and records in Redis how far it got, so that running it twice replays nothing twice.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Kafka, KafkaMessage, Message } from 'kafkajs';
import {
  createDeadLetterTally,
  createReplayPlanner,
  parseDeadLetter,
  REPLAYED_FROM_HEADER,
  type DeadLetter,
  type DeadLetterEntry,
  type DeadLetterRecord,
  type DeadLetterSummary,
  type HeldBack,
  type ReplayCounts,
  type ReplayRules,
} from './deadLetters';
import { createEventProducer } from './producer';

export interface DeadLetterPartition {
  readonly partition: number;
  /** The first offset still on the log (older dead letters expired with the topic's retention). */
  readonly logStart: number;
  /** The offset the next dead letter will get. */
  readonly logEnd: number;
  /** Offsets below this were handled by a replay (re-published or passed over); null before the first replay. */
  readonly replayedUpTo: number | null;
}

/**
 * Where replays of a dead-letter topic keep their state. In Redis rather than as a consumer
 * group's offsets: the broker forgets an idle group's offsets after a week
 * (offsets.retention.minutes) while dead letters are kept for 30 days, and a forgotten
 * position would replay everything again.
 */
export function replayKeys(dlqTopic: string): { position: string; lock: string } {
  const tag = `{${dlqTopic}}`;
  return { position: `sg:dlq:${tag}:replayed`, lock: `sg:dlq:${tag}:lock` };
}

/** The replay position of each partition of `dlqTopic` (see DeadLetterPartition.replayedUpTo). */
export async function readReplayPositions(redis: Redis | Cluster, dlqTopic: string): Promise<Map<number, number>> {
  const raw = await redis.hgetall(replayKeys(dlqTopic).position);
  return new Map(Object.entries(raw).map(([p, o]) => [Number(p), Number(o)]));
}

/** The partitions of a dead-letter topic; `redis` adds the replay positions. */
export async function describeDeadLetterTopic(admin: Admin, topic: string, redis?: Redis | Cluster): Promise<DeadLetterPartition[]> {
  if (!(await admin.listTopics()).includes(topic))
    throw new Error(`topic ${topic} does not exist: check the name and STREAMGRAPH_NAMESPACE, or run "npm run topics"`);
  const offsets = await admin.fetchTopicOffsets(topic);
  const replayed = redis ? await readReplayPositions(redis, topic) : new Map<number, number>();
  return offsets
    .map((o) => ({ partition: o.partition, logStart: Number(o.low), logEnd: Number(o.high), replayedUpTo: replayed.get(o.partition) ?? null }))
    .sort((a, b) => a.partition - b.partition);
}

interface ScanRange {
  readonly partition: number;
  readonly from: number;
  /** Exclusive: the log end when the scan began, so records written meanwhile wait for the next run. */
  readonly to: number;
}

/** Handles the records of one fetched batch; `next` is the partition's offset after them. */
type BatchHandler = (partition: number, records: DeadLetterRecord[], next: number) => Promise<'more' | 'stop'>;

export interface ScanOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  /** Give up when no batch arrives for this long. @default 30000 */
  readonly idleTimeoutMs?: number;
}

const toRecord = (topic: string, partition: number, m: KafkaMessage): DeadLetterRecord => ({
  topic,
  partition,
  offset: Number(m.offset),
  timestamp: Number(m.timestamp),
  key: m.key ?? null,
  value: m.value,
  headers: m.headers ?? {},
});

/**
 * Reads each range of `topic` once, in offset order per partition. kafkajs reads only as a
 * group member, so the scan joins a group of its own (deleted afterwards) and never commits.
 */
async function scanTopic(opts: ScanOptions, ranges: readonly ScanRange[], onBatch: BatchHandler): Promise<void> {
  const { kafka, admin, topic } = opts;
  const next = new Map(ranges.filter((r) => r.from < r.to).map((r) => [r.partition, r.from]));
  const ends = new Map(ranges.map((r) => [r.partition, r.to]));
  if (next.size === 0) return;
  const groupId = `streamgraph.dlq-reader.${topic}.${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
  let settle!: (error?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error?: unknown) => (error === undefined ? resolve() : reject(error));
  });
  let finished = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    settle(error);
  };
  let lastProgress = Date.now();
  const idleTimeout = opts.idleTimeoutMs ?? 30_000;
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress <= idleTimeout) return;
    const stuck = [...next].filter(([p, o]) => o < (ends.get(p) ?? 0)).map(([p, o]) => `${topic}[${p}] at ${o}`);
    finish(new Error(`reading ${stuck.join(', ')} made no progress for ${idleTimeout / 1000} s; is the broker healthy?`));
  }, 1000);
  watchdog.unref();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [partition, offset] of next) consumer.seek({ topic, partition, offset: String(offset) });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) finish(e.payload.error);
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const partition = batch.partition;
        const from = next.get(partition);
        const to = ends.get(partition);
        if (finished || from === undefined || to === undefined || from >= to) return;
        lastProgress = Date.now();
        // Filtering on the offset already handled also drops what a fetch made before the seek returns again.
        const records = batch.messages
          .filter((m) => Number(m.offset) >= from && Number(m.offset) < to)
          .map((m) => toRecord(topic, partition, m));
        const after = Math.min(to, Math.max(from, Number(batch.lastOffset()) + 1));
        try {
          const outcome = records.length > 0 ? await onBatch(partition, records, after) : 'more';
          lastProgress = Date.now();
          next.set(partition, after);
          if (outcome === 'stop' || [...next].every(([p, o]) => o >= (ends.get(p) ?? 0))) finish();
        } catch (e) {
          finish(e);
        }
      },
    });
    await done;
  } finally {
    clearInterval(watchdog);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

export interface ReadProgress {
  /** Dead letters read so far. */
  readonly read: number;
  /** Dead letters the run will read. */
  readonly total: number;
}

export interface DeadLetterListing {
  readonly topic: string;
  readonly partitions: readonly DeadLetterPartition[];
  readonly summary: DeadLetterSummary;
}

/** Reads every dead letter of `topic` and counts them by partition, reason, view and source. */
export async function listDeadLetters(
  opts: ScanOptions & { readonly redis?: Redis | Cluster; readonly onProgress?: (p: ReadProgress) => void },
): Promise<DeadLetterListing> {
  const partitions = await describeDeadLetterTopic(opts.admin, opts.topic, opts.redis);
  const tally = createDeadLetterTally();
  const total = partitions.reduce((a, p) => a + (p.logEnd - p.logStart), 0);
  let read = 0;
  await scanTopic(
    opts,
    partitions.map((p) => ({ partition: p.partition, from: p.logStart, to: p.logEnd })),
    async (_partition, records) => {
      for (const r of records) tally.add(parseDeadLetter(r));
      read += records.length;
      opts.onProgress?.({ read, total });
      return 'more';
    },
  );
  return { topic: opts.topic, partitions, summary: tally.summary() };
}

export interface InspectOptions extends ScanOptions {
  readonly redis?: Redis | Cluster;
  /** Where to start: one offset for every partition, or per partition. @default each partition's log start */
  readonly fromOffset?: number | ReadonlyMap<number, number>;
  /** Most dead letters returned. @default 20 */
  readonly limit?: number;
}

export interface DeadLetterPage {
  readonly topic: string;
  readonly partitions: readonly DeadLetterPartition[];
  readonly entries: readonly DeadLetterEntry[];
  /** Per partition, where the next page starts, for the partitions that have more. */
  readonly next: ReadonlyMap<number, number>;
}

/** Reads up to `limit` dead letters of `topic`, each parsed. */
export async function inspectDeadLetters(opts: InspectOptions): Promise<DeadLetterPage> {
  const partitions = await describeDeadLetterTopic(opts.admin, opts.topic, opts.redis);
  const limit = opts.limit ?? 20;
  const startOf = (p: DeadLetterPartition) => {
    const asked = typeof opts.fromOffset === 'number' ? opts.fromOffset : opts.fromOffset?.get(p.partition);
    return Math.max(p.logStart, asked ?? p.logStart);
  };
  const position = new Map(partitions.map((p) => [p.partition, startOf(p)]));
  const entries: DeadLetterEntry[] = [];
  if (limit > 0) {
    await scanTopic(
      opts,
      partitions.map((p) => ({ partition: p.partition, from: startOf(p), to: p.logEnd })),
      async (partition, records) => {
        const taken = records.slice(0, limit - entries.length);
        entries.push(...taken.map(parseDeadLetter));
        position.set(partition, taken[taken.length - 1].offset + 1);
        return entries.length >= limit ? 'stop' : 'more';
      },
    );
  }
  const next = new Map(partitions.filter((p) => (position.get(p.partition) ?? p.logEnd) < p.logEnd).map((p) => [p.partition, position.get(p.partition)!]));
  return { topic: opts.topic, partitions, entries, next };
}

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
