// The consumer's lifecycle: it joins the view's group, and on every assignment (and every
// generation switch) seeks each assigned partition to the live generation's checkpoint in Redis,
// rebuilding a partition whose view is ahead of its log. A consumer that crashes is restarted
// within the view's retry bound; kafkajs's own restarts count against the same bound.
import type { FetchSettings } from '../../../platform/kafkaConfig';
import type { Cluster, Redis } from 'ioredis';
import type { Consumer, EachBatchHandler, Kafka } from 'kafkajs';
import type { Logger } from '../../../platform/logger';
import { deleteMatching } from '../deleteMatching';
import { pacedEachBatch } from '../fetchPacing';
import { OFFSET_COMMIT_INTERVAL_MS, startOffsetCommitter } from '../offsetCommitter';
import type { GenerationWatch } from '../generation';
import { partitionKeys, partitionPattern } from '../keys';
import { stillOurs } from './batchLoop';
import { parseCheckpoint, resumePoint } from './checkpoints';
import type { LagMeter } from './lag';
import { withRetries, type RetryContext } from './retry';
import type { ViewHealth } from './viewHealth';

const CONSUMER_STEP = 'consuming';
const SEEK_STEP = 'seeking to the checkpoints';
/** Past any offset a partition will reach (and within what parseCheckpoint accepts). */
const FENCE_CHECKPOINT = '9999999999999999';

export interface ViewConsumerOptions {
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  readonly view: string;
  readonly topic: string;
  readonly groupId: string;
  readonly partitions: number;
  readonly sessionTimeoutMs: number;
  readonly fetch: FetchSettings;
  readonly generation: GenerationWatch;
  readonly lag: LagMeter;
  readonly health: ViewHealth;
  readonly log: Logger;
}

export interface ViewConsumer {
  /** Moves a partition's fetch position. */
  seek(partition: number, offset: number): void;
  /** Joins the group and runs `eachBatch`; resolves after the first assignment's seeks (or once the view failed). */
  start(eachBatch: EachBatchHandler): Promise<void>;
  /** Leaves the group. */
  stop(): Promise<void>;
}

export function createViewConsumer(opts: ViewConsumerOptions): ViewConsumer {
  const { redis, view, topic, health, log, generation } = opts;
  const retry: RetryContext = { health, log };
  const consumer: Consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(opts.sessionTimeoutMs / 5)),
    // One byte and a long wait: the gathering is pacedEachBatch's (fetchPacing.ts).
    maxWaitTimeInMs: opts.fetch.idleWaitMs,
    minBytes: 1,
    allowAutoTopicCreation: false,
    // kafkajs restarts itself after retriable errors; the view's bound decides for how long.
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async (e) => health.failure(CONSUMER_STEP, e).retry },
  });
  // Kafka's offsets are for monitoring only (a view resumes from its Redis checkpoint).
  const committer = startOffsetCommitter({ consumer, topic, intervalMs: OFFSET_COMMIT_INTERVAL_MS, log });
  const seek = (partition: number, offset: number) => consumer.seek({ topic, partition, offset: String(offset) });

  /**
   * Points each partition at the live generation's checkpoint: on assignment (a partition at the
   * end of its log sends no batch, so only this catches a checkpoint Redis lost) and when a
   * rebuild switches the generation. Batches fetched before the seek are caught by the gap
   * check of the chunk step.
   */
  let assigned: number[] = [];
  const seekToCheckpoints = async (partitions: readonly number[]) => {
    const gen = generation.current();
    if (partitions.length === 0) return;
    const cps = await Promise.all(partitions.map((p) => redis.get(partitionKeys(view, gen, topic, p).checkpoint)));
    // Log ends read after the checkpoints: whatever any instance applied by then is below them.
    const bounds = await opts.lag.logBounds();
    const rebuilt: Array<{ partition: number; checkpoint: number; logEnd: number; dropped: number }> = [];
    for (const [i, partition] of partitions.entries()) {
      const logBounds = bounds.get(partition) ?? { start: 0, end: 0 };
      const at = resumePoint(view, partition, parseCheckpoint(view, partition, cps[i]), logBounds);
      if (at.kind === 'ahead') {
        // A batch fetched before this seek may be applying right now. While the partition is
        // cleared, a checkpoint past every offset fences it off (its compare-and-set fails, or it
        // finds nothing left to apply); the checkpoint goes last, so an apply after that starts
        // from an empty partition and the log start, never onto half-deleted state.
        const { checkpoint } = partitionKeys(view, gen, topic, partition);
        await redis.set(checkpoint, FENCE_CHECKPOINT);
        const dropped = await deleteMatching(redis, partitionPattern(view, gen, topic, partition), checkpoint);
        await redis.del(checkpoint);
        rebuilt.push({ partition, checkpoint: at.checkpoint, logEnd: logBounds.end, dropped });
      }
      seek(partition, at.kind === 'at' ? at.offset : at.from);
    }
    // One line per view, not per partition: the usual cause is harmless (a Redis that kept views
    // from an earlier run while Kafka started empty) and the view repairs itself.
    if (rebuilt.length > 0)
      log.warn(
        { partitions: rebuilt.map((r) => r.partition), keysDropped: rebuilt.reduce((a, r) => a + r.dropped, 0), example: rebuilt[0] },
        'view is ahead of its topic (the topic was recreated, or Redis kept views from an earlier run while Kafka started empty); rebuilding those partitions from the log',
      );
  };
  const seekAssigned = () => withRetries(retry, SEEK_STEP, () => seekToCheckpoints(assigned));
  generation.onChange(() => void seekAssigned());

  let eachBatch: EachBatchHandler | undefined;
  /** `eachBatch`, noting each position it resolves for the committer. */
  const noting = (handler: EachBatchHandler): EachBatchHandler => (payload) =>
    handler({
      ...payload,
      resolveOffset: (offset) => {
        payload.resolveOffset(offset);
        committer.note(payload.batch.partition, Number(offset) + 1);
      },
    });
  const run = () =>
    consumer.run({
      // kafkajs would commit after every batch (offsetCommitter.ts).
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitions,
      eachBatch: eachBatch && pacedEachBatch(noting(eachBatch), { minBytes: opts.fetch.minBytes, gatherMs: opts.fetch.maxWaitMs }),
    });
  // kafkajs gives up on errors it deems fatal; the view's bound, not the library, decides to go on.
  const restart = async (): Promise<void> => {
    if (health.isOver()) return;
    try {
      await consumer.disconnect().catch(() => undefined);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await run();
    } catch (e) {
      const decision = health.failure(CONSUMER_STEP, e);
      log.error({ err: (e as Error).message, retry: decision.retry }, 'restarting the consumer failed');
      if (decision.retry) setTimeout(() => void restart(), decision.delayMs).unref();
    }
  };
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (e.payload.restart || health.isOver()) return;
    const decision = health.failure(CONSUMER_STEP, e.payload.error);
    if (decision.retry) setTimeout(() => void restart(), decision.delayMs).unref();
  });

  return {
    seek,
    async start(handler) {
      eachBatch = handler;
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const joined = new Promise<void>((resolve) => {
        health.onFailed(() => resolve());
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          assigned = e.payload.memberAssignment[topic] ?? [];
          committer.retain(assigned);
          health.succeeded(CONSUMER_STEP);
          health.forget((step) => stillOurs(step, assigned));
          void seekAssigned().then(() => {
            health.started();
            resolve();
          });
        });
      });
      await run();
      await joined;
    },
    async stop() {
      await committer.stop().catch(() => undefined);
      await consumer.disconnect();
    },
  };
}
