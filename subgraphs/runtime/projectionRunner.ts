// Runs a projection: consumes its topic in a consumer group, folds each partition batch
// with the pure projection, and writes the result with the checkpoint in one atomic
// Redis step. Redis, not the broker, decides where a partition resumes, so crashes,
// rebalances, zombies and replays never apply an event twice or skip one.
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { ContractViolation, dlqTopicName, parseEvent, type EventOf, type TopicContract } from '../../schema/events';
import { applyBatch, type KeyOp } from './applyBatch';
import { appliedMessage, watchApplied, type AppliedWatch } from './appliedWatch';
import { watchGeneration, type GenerationWatch } from './generation';
import { partitionKeys, partitionPattern, viewChannels } from './keys';
import { createLogger, type Logger } from '../../platform/logger';
import { PartitionStatsRecorder, type PartitionStats } from './partitionStats';
import { createEventProducer, type EventProducer } from './producer';
import { createSubscriber } from '../../platform/subscriber';
import { deleteMatching } from './deleteMatching';
import type { EventPosition, Projection } from './projection';

export interface ProjectionRunnerOptions<K extends TopicContract, S> {
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  readonly projection: Projection<K, S>;
  /** The Kafka topic to consume. @default the projection's declared topic name */
  readonly topic?: string;
  /** The consumer group; every instance of a view shares it. @default `view.<projection name>` */
  readonly groupId?: string;
  /**
   * A fixed key generation to write (rebuilds use this). When absent the runner follows the
   * view's live generation and switches when a rebuild switches it.
   */
  readonly generation?: string;
  /** Where events that cannot be applied go. @default `<topic>.dlq` */
  readonly deadLetterTopic?: string;
  /** Events folded and written per atomic step. Bounds script size and latency. @default 1000 */
  readonly maxChunk?: number;
  /** How often lag is measured against the broker's high watermarks. @default 2000 */
  readonly lagRefreshMs?: number;
  /** Longest pause between retries of a failing Redis or broker call. @default 5000 */
  readonly maxRetryDelayMs?: number;
  /**
   * How long the group waits for a silent member before giving its partitions to others:
   * the recovery time after a crashed instance. @default 30000 (the broker allows 6000 and up)
   */
  readonly sessionTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface ProjectionHandle {
  readonly view: string;
  readonly topic: string;
  readonly groupId: string;
  /** The generation written now. */
  generation(): string;
  /** Resolves once `offset` of `partition` is applied to the live generation (by any instance). */
  waitFor(partition: number, offset: number, timeoutMs: number): Promise<void>;
  /** Per-partition lag, freshness, rates and dead letters, for every partition of the topic. */
  stats(): PartitionStats[];
  /** Measures lag now instead of waiting for the next refresh. */
  refreshLag(): Promise<PartitionStats[]>;
  /** Stops consuming after the batch in progress; leaves the group cleanly. */
  stop(): Promise<void>;
}

interface Parsed<K extends TopicContract> {
  readonly offset: number;
  readonly message: KafkaMessage;
  readonly event?: EventOf<K>;
  readonly reason?: string;
  /** A type the fold ignores, known from the record's header: nothing to parse or apply. */
  readonly skipped?: true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts consuming; resolves once the consumer has joined its group and is running. */
export async function startProjection<K extends TopicContract, S>(
  opts: ProjectionRunnerOptions<K, S>,
): Promise<ProjectionHandle> {
  const { kafka, redis, projection } = opts;
  const view = projection.name;
  const topic = opts.topic ?? projection.topic.name;
  const groupId = opts.groupId ?? `view.${view}`;
  const dlq = opts.deadLetterTopic ?? dlqTopicName(topic);
  const maxChunk = opts.maxChunk ?? 1000;
  const maxRetryDelay = opts.maxRetryDelayMs ?? 5000;
  const log = opts.logger ?? createLogger(`projection:${view}`);
  const channels = viewChannels(view);

  const subscriber = await createSubscriber(redis);
  const generation: GenerationWatch = opts.generation
    ? fixedGeneration(opts.generation)
    : await watchGeneration(redis, subscriber, view);
  const applied: AppliedWatch = await watchApplied({ redis, subscriber, view, topic, generation });
  const producer: EventProducer = await createEventProducer(kafka);
  const admin: Admin = kafka.admin();
  await admin.connect();

  const partitionCount = await producer.partitionsOf(topic);
  const stats = Array.from({ length: partitionCount }, (_, p) => new PartitionStatsRecorder(topic, p));
  let running = true;

  const refreshLag = async () => {
    const offsets = await admin.fetchTopicOffsets(topic);
    const gen = generation.current();
    const cps = await Promise.all(
      offsets.map((o) => redis.get(partitionKeys(view, gen, topic, o.partition).checkpoint)),
    );
    offsets.forEach((o, i) => {
      const s = stats[o.partition];
      if (!s) return;
      s.highWatermark = Number(o.high);
      s.lowWatermark = Number(o.low);
      s.checkpoint = cps[i] === null ? null : Number(cps[i]);
    });
    return stats.map((s) => s.snapshot());
  };
  // Lag is known once the broker answers; right after topics are created it may still say
  // "not the leader" for a moment, which must not stop the projection from starting.
  await refreshLag().catch((e) => log.debug({ err: (e as Error).message }, 'first lag measurement failed'));
  const lagTimer = setInterval(
    () => void refreshLag().catch((e) => log.debug({ err: e }, 'lag refresh failed')),
    opts.lagRefreshMs ?? 2000,
  );
  lagTimer.unref();

  /** The first offset of a partition still on the log: where a view with no checkpoint starts. */
  const logStart = async (partition: number): Promise<number> => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return Number(offsets.find((o) => o.partition === partition)?.low ?? 0);
  };

  const folded = projection.types ? new Set<string>(projection.types) : null;
  const parse = (m: KafkaMessage): Parsed<K> => {
    const offset = Number(m.offset);
    if (folded) {
      const type = m.headers?.['event-type'];
      if (type !== undefined && !folded.has(String(type))) return { offset, message: m, skipped: true };
    }
    try {
      const event = parseEvent(projection.topic, m.value);
      const key = m.key?.toString('utf8');
      if (key !== event.key)
        return { offset, message: m, reason: `record key ${JSON.stringify(key ?? null)} differs from event key ${JSON.stringify(event.key)}` };
      return { offset, message: m, event };
    } catch (e) {
      if (e instanceof ContractViolation) return { offset, message: m, reason: `contract: ${e.message}` };
      throw e;
    }
  };

  const deadLetter = async (partition: number, items: readonly Parsed<K>[]) => {
    if (items.length === 0) return;
    await producer.publishRaw(
      dlq,
      items.map((d) => ({
        key: `${topic}:${partition}:${d.offset}`,
        value: d.message.value,
        headers: {
          'dlq-reason': d.reason ?? 'unknown',
          'dlq-source-topic': topic,
          'dlq-source-partition': String(partition),
          'dlq-source-offset': String(d.offset),
          'dlq-view': view,
          'dlq-at': new Date().toISOString(),
          ...(d.message.key ? { 'dlq-source-key': d.message.key } : {}),
        },
      })),
    );
    stats[partition].deadLetters += items.length;
    log.warn({ partition, offsets: items.map((d) => d.offset), reasons: items.map((d) => d.reason) }, 'dead-lettered events');
  };

  type Outcome = { kind: 'applied'; last: number } | { kind: 'seek'; to: number };

  /**
   * Applies the records of one chunk that the view has not applied yet. `startsAt` is the
   * offset the chunk's fetch began at: if the view's checkpoint is behind it, records in
   * between were never applied (Redis lost them, or another generation is live), so the
   * runner seeks back instead of writing a view with a hole in it.
   */
  const applyChunk = async (partition: number, startsAt: number, chunk: readonly KafkaMessage[]): Promise<Outcome> => {
    const gen = generation.current();
    const keys = partitionKeys(view, gen, topic, partition);
    const parsed = chunk.map(parse);
    const ids = [...new Set(parsed.flatMap((p) => (p.event ? projection.reads(p.event) : [])))];
    const [cpRaw, ...values] = await redis.mget(keys.checkpoint, ...ids.map((id) => keys.entity(id)));
    const checkpoint = cpRaw === null ? null : Number(cpRaw);
    const next = checkpoint === null ? await logStart(partition) : checkpoint + 1;
    if (startsAt > next) return { kind: 'seek', to: next };
    const last = Number(chunk[chunk.length - 1].offset);
    const pending = parsed.filter((p) => p.offset >= next);
    if (pending.length === 0) return { kind: 'applied', last };

    const before = new Map<string, S | undefined>();
    ids.forEach((id, i) => before.set(id, values[i] === null ? undefined : (JSON.parse(values[i] as string) as S)));
    const working = new Map(before);
    const changedBy = new Map<string, number>();
    const poison: Parsed<K>[] = [];
    let lastEventAt: string | null = null;
    let appliedCount = 0;
    for (const p of pending) {
      if (p.skipped) continue;
      if (!p.event) {
        poison.push(p);
        continue;
      }
      const at: EventPosition = { partition, offset: p.offset, occurredAt: p.event.occurredAt };
      let changes: ReadonlyMap<string, S | undefined>;
      try {
        changes = projection.apply(working, p.event, at);
        const allowed = new Set(projection.reads(p.event));
        for (const id of changes.keys())
          if (!allowed.has(id)) throw new Error(`the fold changed entity ${id}, which reads() did not name`);
      } catch (e) {
        // Folds are pure, so an event that makes one throw will always do so: dead-letter it.
        poison.push({ ...p, reason: `fold: ${(e as Error).message}` });
        continue;
      }
      for (const [id, s] of changes) {
        working.set(id, s);
        changedBy.set(id, p.offset);
      }
      lastEventAt = p.event.occurredAt;
      appliedCount++;
    }

    // Dead letters are written before the checkpoint passes them, so a crash can repeat one
    // (its key names the source offset) but never lose one.
    await deadLetter(partition, poison);

    const ops: KeyOp[] = [];
    const notices: string[] = [];
    for (const [id, offset] of changedBy) {
      const old = before.get(id);
      const now = working.get(id);
      const oldJson = old === undefined ? null : JSON.stringify(old);
      const nowJson = now === undefined ? null : JSON.stringify(now);
      if (oldJson === nowJson) continue;
      ops.push(nowJson === null ? { op: 'del', key: keys.entity(id) } : { op: 'set', key: keys.entity(id), value: nowJson });
      if (projection.indexes) {
        const was = new Map((old === undefined ? [] : projection.indexes(id, old)).map((x) => [x.index, x.score]));
        const is = new Map((now === undefined ? [] : projection.indexes(id, now)).map((x) => [x.index, x.score]));
        for (const [index] of was) if (!is.has(index)) ops.push({ op: 'zrem', key: keys.index(index), member: id });
        for (const [index, score] of is)
          if (was.get(index) !== score) ops.push({ op: 'zadd', key: keys.index(index), score, member: id });
      }
      if (projection.notify !== false) notices.push(JSON.stringify({ id, offset, state: now ?? null }));
    }

    const result = await applyBatch(redis, {
      keys,
      expectedCheckpoint: checkpoint,
      newCheckpoint: last,
      meta: { lastEventAt, appliedAt: Date.now() },
      ops,
      noticeChannel: channels.notices,
      // One message per chunk: Redis and every subscriber handle one publish instead of hundreds.
      notices: notices.length === 0 ? [] : [`{"view":${JSON.stringify(view)},"gen":${JSON.stringify(gen)},"partition":${partition},"changes":[${notices.join(',')}]}`],
      appliedChannel: channels.applied,
      appliedMessage: appliedMessage(gen, topic, partition, last),
    });
    if (!result.ok) {
      // Another instance (a zombie after a rebalance, or a rebuild) wrote first. Re-reading
      // and re-folding from its checkpoint is always safe.
      log.info({ partition, expected: checkpoint, found: result.checkpoint }, 'checkpoint moved underneath; re-folding');
      return applyChunk(partition, startsAt, chunk);
    }
    applied.noteApplied(gen, partition, last);
    stats[partition].recordApplied(appliedCount, last, lastEventAt);
    return { kind: 'applied', last };
  };

  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 5)),
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
  });

  const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    const partition = batch.partition;
    // kafkajs records where the fetch began but leaves it out of its types.
    let startsAt = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
    for (let i = 0; i < batch.messages.length; i += maxChunk) {
      const chunk = batch.messages.slice(i, i + maxChunk);
      let attempt = 0;
      for (;;) {
        if (!running || !isRunning() || isStale()) return;
        try {
          const outcome = await applyChunk(partition, startsAt, chunk);
          if (outcome.kind === 'seek') {
            log.info({ partition, from: startsAt, to: outcome.to }, 'view is behind the fetch position; seeking back');
            consumer.seek({ topic, partition, offset: String(outcome.to) });
            return;
          }
          resolveOffset(String(outcome.last));
          startsAt = outcome.last + 1;
          break;
        } catch (e) {
          // Redis or broker trouble: never skip, retry the same chunk with backoff.
          attempt++;
          const delay = Math.min(maxRetryDelay, 100 * 2 ** Math.min(attempt, 10));
          log.warn({ partition, attempt, delay, err: (e as Error).message }, 'applying a batch failed; retrying');
          await sleep(delay);
        }
      }
      await heartbeat();
    }
  };

  /**
   * Points each partition at the live generation's checkpoint: on assignment (a partition at
   * the end of its log sends no batch, so only this catches a checkpoint Redis lost) and when
   * a rebuild switches the generation. Batches fetched before the seek are caught by the
   * gap check in applyChunk.
   */
  let assigned: number[] = [];
  const seekToCheckpoints = async (partitions: readonly number[]) => {
    const gen = generation.current();
    if (partitions.length === 0) return;
    const cps = await Promise.all(partitions.map((p) => redis.get(partitionKeys(view, gen, topic, p).checkpoint)));
    // Log ends read after the checkpoints: whatever any instance applied by then is below them.
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const [i, partition] of partitions.entries()) {
      const cpRaw = cps[i];
      const logEnd = Number(offsets.find((o) => o.partition === partition)?.high ?? 0);
      let cp = cpRaw === null ? null : Number(cpRaw);
      if (cp !== null && cp >= logEnd) {
        // The view is ahead of the log: the topic was deleted and recreated (or the broker's
        // data wiped) while Redis kept the view. Its state belongs to records that no longer
        // exist, so the partition's part of the view is dropped and rebuilt from the log.
        const dropped = await deleteMatching(redis, partitionPattern(view, gen, topic, partition));
        log.error({ partition, checkpoint: cp, logEnd, dropped }, 'view is ahead of its topic (topic recreated?); rebuilding this partition');
        cp = null;
      }
      const to = cp === null ? await logStart(partition) : cp + 1;
      consumer.seek({ topic, partition, offset: String(to) });
    }
  };
  const seekWithRetry = async (partitions: readonly number[]) => {
    for (let attempt = 1; running; attempt++) {
      try {
        return await seekToCheckpoints(partitions);
      } catch (e) {
        log.warn({ attempt, err: (e as Error).message }, 'seeking to checkpoints failed; retrying');
        await sleep(Math.min(maxRetryDelay, 100 * 2 ** attempt));
      }
    }
  };
  generation.onChange(() => void seekWithRetry(assigned));

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned = e.payload.memberAssignment[topic] ?? [];
      void seekWithRetry(assigned).then(resolve);
    });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart && running) void restartConsumer();
  });
  const run = () =>
    consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: partitionCount,
      eachBatch,
    });
  // kafkajs gives up on errors it deems fatal; the runner, not the library, decides to go on.
  const restartConsumer = async () => {
    for (let attempt = 1; running; attempt++) {
      try {
        await consumer.disconnect().catch(() => undefined);
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await run();
        return;
      } catch (e) {
        log.error({ attempt, err: (e as Error).message }, 'restarting the consumer failed');
        await sleep(Math.min(maxRetryDelay, 500 * attempt));
      }
    }
  };
  await run();
  await joined;

  return {
    view,
    topic,
    groupId,
    generation: () => generation.current(),
    waitFor: (partition, offset, timeoutMs) => applied.waitFor(partition, offset, timeoutMs),
    stats: () => stats.map((s) => s.snapshot()),
    refreshLag,
    async stop() {
      if (!running) return;
      running = false;
      clearInterval(lagTimer);
      await consumer.disconnect();
      await applied.close();
      await generation.close();
      await Promise.allSettled([producer.close(), admin.disconnect()]);
      subscriber.disconnect();
    },
  };
}

function fixedGeneration(gen: string): GenerationWatch {
  return {
    current: () => gen,
    refresh: async () => gen,
    onChange: () => () => undefined,
    close: async () => undefined,
  };
}
