// Reading a dead-letter topic: its partitions and offsets, the replay positions kept in
// Redis, and a bounded read of its records in offset order. deadLetterTopic.ts lists and
// inspects with it, deadLetterReplay.ts replays.
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { DeadLetterRecord } from './deadLetters';

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

export interface ScanRange {
  readonly partition: number;
  readonly from: number;
  /** Exclusive: the log end when the scan began, so records written meanwhile wait for the next run. */
  readonly to: number;
}

/** Handles the records of one fetched batch; `next` is the partition's offset after them. */
export type BatchHandler = (partition: number, records: DeadLetterRecord[], next: number) => Promise<'more' | 'stop'>;

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
export async function scanTopic(opts: ScanOptions, ranges: readonly ScanRange[], onBatch: BatchHandler): Promise<void> {
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
