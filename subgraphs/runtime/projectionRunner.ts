// Runs a projection: consumes its topic in a consumer group, folds each partition batch
// with the pure projection, and writes the result with the checkpoint in one atomic
// Redis step. Redis, not the broker, decides where a partition resumes, so crashes,
// rebalances, zombies and replays never apply an event twice or skip one.
//
// The steps live in ./projection, one a file: decode (contract violations become dead
// letters), fold (pure), operations (pure), applyBatch (the guarded Redis script),
// applyChunk (the steps for one chunk), batchLoop (a fetched batch, with retries),
// consumer (assignment, seeks to the checkpoints, restarts), viewHealth (error classes, the
// retry bound and the view's state). This file wires them together.
import { DEFAULT_FETCH, type FetchSettings } from '../../platform/kafkaConfig';
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { dlqTopicName, type TopicContract } from '../../schema/events';
import { createLogger, type Logger } from '../../platform/logger';
import { createSubscriber } from '../../platform/subscriber';
import { watchApplied, type AppliedWatch } from './appliedWatch';
import { watchGeneration, type GenerationWatch } from './generation';
import type { PartitionStats } from './partitionStats';
import { createEventProducer, type EventProducer } from './producer';
import type { Projection } from './projection';
import { chunkApplier } from './projection/applyChunk';
import { batchLoop } from './projection/batchLoop';
import { createViewConsumer } from './projection/consumer';
import { deadLetterWriter } from './projection/deadLetter';
import { startLagMeter } from './projection/lag';
import { DEFAULT_RETRY_POLICY, ViewHealth, type RetryPolicy, type ViewStatus } from './projection/viewHealth';

export type { RetryPolicy, ViewState, ViewStatus } from './projection/viewHealth';

export interface ProjectionRunnerOptions<C extends TopicContract, S> {
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  readonly projection: Projection<C, S>;
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
  /** Longest pause between retries of a failing Redis or broker call (retry.maxDelayMs). @default 5000 */
  readonly maxRetryDelayMs?: number;
  /**
   * Backoff and bound of retriable failures (DEFAULT_RETRY_POLICY: 200 ms doubling to 5 s;
   * a step failing for 2 minutes fails the view).
   */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How long the group waits for a silent member before giving its partitions to others:
   * the recovery time after a crashed instance. @default 30000 (the broker allows 6000 and up)
   */
  readonly sessionTimeoutMs?: number;
  /** How the view's consumer fetches. @default DEFAULT_FETCH (64 KiB or 20 ms) */
  readonly fetch?: FetchSettings;
  readonly logger?: Logger;
}

export interface ProjectionHandle {
  readonly view: string;
  readonly topic: string;
  readonly groupId: string;
  /** The generation written now. */
  generation(): string;
  /**
   * Resolves once `offset` of `partition` is applied to the live generation (by any instance).
   * `seen`: the lower checkpoint a read found after the offset was known applied (AppliedWatch).
   */
  waitFor(partition: number, offset: number, timeoutMs: number, seen?: number | null): Promise<void>;
  /** Per-partition lag, freshness, rates and dead letters, for every partition of the topic. */
  stats(): PartitionStats[];
  /** Measures lag now instead of waiting for the next refresh. */
  refreshLag(): Promise<PartitionStats[]>;
  /** starting, running, retrying (with why), failed (with why and the error class) or stopped. */
  status(): ViewStatus;
  /** Stops consuming after the batch in progress; leaves the group cleanly. */
  stop(): Promise<void>;
}

/** Starts consuming; resolves once the consumer has joined its group and is running (or the view failed). */
export async function startProjection<C extends TopicContract, S>(opts: ProjectionRunnerOptions<C, S>): Promise<ProjectionHandle> {
  const { kafka, redis, projection } = opts;
  const view = projection.name;
  const topic = opts.topic ?? projection.topic.name;
  const groupId = opts.groupId ?? `view.${view}`;
  const log = opts.logger ?? createLogger(`projection:${view}`);
  const health = new ViewHealth({
    ...DEFAULT_RETRY_POLICY,
    ...(opts.maxRetryDelayMs === undefined ? {} : { maxDelayMs: opts.maxRetryDelayMs }),
    ...opts.retry,
  });

  const subscriber = await createSubscriber(redis);
  const generation: GenerationWatch = opts.generation ? fixedGeneration(opts.generation) : await watchGeneration(redis, subscriber, view);
  const applied: AppliedWatch = await watchApplied({ redis, subscriber, view, topic, generation });
  const producer: EventProducer = await createEventProducer(kafka);
  const admin: Admin = kafka.admin();
  await admin.connect();
  const partitions = await producer.partitionsOf(topic);
  const lag = await startLagMeter({ admin, redis, view, topic, partitions, generation, refreshMs: opts.lagRefreshMs ?? 2000, log });

  const deadLetter = deadLetterWriter({ producer, dlq: opts.deadLetterTopic ?? dlqTopicName(topic), topic, view, stats: lag.stats, log });
  const apply = chunkApplier({ redis, projection, topic, generation, applied, lag, deadLetter, log });
  const sessionTimeoutMs = opts.sessionTimeoutMs ?? 30_000;
  const fetch = opts.fetch ?? DEFAULT_FETCH;
  const consumer = createViewConsumer({ kafka, redis, view, topic, groupId, partitions, sessionTimeoutMs, fetch, generation, lag, health, log });

  let stopped: Promise<void> | undefined;
  let closed = false;
  health.onFailed((s) => {
    // The one line that says the view stopped, and why.
    log.error(
      { state: s.state, errorClass: s.errorClass, reason: s.reason },
      s.errorClass === 'fatal' ? `view ${view} stopped: ${s.reason}` : `view ${view} failed, its retries ran out: ${s.reason}`,
    );
    stopped = consumer.stop().catch((e) => log.warn({ err: (e as Error).message }, 'leaving the group after the failure failed'));
  });
  await consumer.start(batchLoop({ apply, maxChunk: opts.maxChunk ?? 1000, health, log, seek: consumer.seek }));

  return {
    view,
    topic,
    groupId,
    generation: () => generation.current(),
    waitFor: (partition, offset, timeoutMs, seen) => applied.waitFor(partition, offset, timeoutMs, seen),
    stats: () => lag.stats.map((s) => s.snapshot()),
    refreshLag: lag.refresh,
    status: () => health.status(),
    async stop() {
      if (closed) return;
      closed = true;
      // A failed view keeps saying so; its consumer is already leaving the group.
      health.stopped();
      lag.close();
      await (stopped ?? consumer.stop());
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
