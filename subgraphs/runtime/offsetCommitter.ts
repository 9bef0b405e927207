// Consumer offsets committed to Kafka on a timer rather than after every batch.
//
// kafkajs with `autoCommit` commits after every batch of an `eachBatch` consumer, whatever
// `autoCommitInterval` says, and a relay committed after each batch itself: with batches every
// few milliseconds per partition that was a broker write (an OffsetCommit onto
// __consumer_offsets) per partition batch, the most frequent request each subgraph sent
// (docs/performance.md). Neither needs it that often. A view resumes from its checkpoint in
// Redis, never from Kafka's offset, which only tells monitoring (the mesh's consumer lag, Kafka's
// own tools) how far the group is. A relay's effects are idempotent where they land, so a crash
// that re-reads the last second of records repeats effects the folds ignore. So positions are
// noted as batches finish and committed once per interval, and once more when the consumer stops.
import type { Consumer } from 'kafkajs';
import type { Logger } from '../../platform/logger';

/**
 * How often views and relays commit: what a crash makes a relay repeat (its effects are
 * idempotent where they land) and how stale the group's lag may look, against a broker write per batch.
 */
export const OFFSET_COMMIT_INTERVAL_MS = 1000;

export interface OffsetCommitter {
  /** `next` is the offset to resume `partition` from (the last handled record's + 1). */
  note(partition: number, next: number): void;
  /** Forgets the positions of partitions this member no longer holds (after a rebalance). */
  retain(partitions: readonly number[]): void;
  /** Commits what was noted and not committed yet. */
  flush(): Promise<void>;
  /** Stops the timer and commits what is left (best effort: a consumer that lost the partition cannot). */
  stop(): Promise<void>;
}

export function startOffsetCommitter(opts: { consumer: Pick<Consumer, 'commitOffsets'>; topic: string; intervalMs: number; log: Logger }): OffsetCommitter {
  const pending = new Map<number, number>();
  let flushing: Promise<void> | undefined;

  const commit = async () => {
    if (pending.size === 0) return;
    const batch = [...pending];
    pending.clear();
    try {
      await opts.consumer.commitOffsets(batch.map(([partition, next]) => ({ topic: opts.topic, partition, offset: String(next) })));
    } catch (e) {
      // A rebalance or a coordinator move: keep the positions for the next round, unless a later
      // batch has noted a newer one meanwhile.
      for (const [partition, next] of batch) if ((pending.get(partition) ?? -1) < next) pending.set(partition, next);
      opts.log.debug({ err: (e as Error).message, partitions: batch.length }, 'committing consumer offsets failed; next round');
    }
  };
  const flush = (): Promise<void> => (flushing ??= commit().finally(() => (flushing = undefined)));
  const timer = setInterval(() => void flush(), opts.intervalMs);
  timer.unref();

  return {
    note(partition, next) {
      if ((pending.get(partition) ?? -1) < next) pending.set(partition, next);
    },
    retain(partitions) {
      for (const p of pending.keys()) if (!partitions.includes(p)) pending.delete(p);
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flushing;
      await commit();
    },
  };
}
