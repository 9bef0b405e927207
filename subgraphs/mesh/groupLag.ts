// A consumer group's lag on the topics it reads: for each partition, the records between where
// the group would read next and the log end. A partition the group has never committed on
// (offset -1) is read from its log start, as the views and relays start from the beginning, so
// all its retained records count (counting 0 there showed a new or stuck reader as caught up).
// A committed offset below the log start (records deleted by retention) counts from the start.

/** A partition's retained records: [low, high). */
export interface LogRange {
  readonly low: number;
  readonly high: number;
}

/** What kafkajs's admin.fetchOffsets answers, per topic. */
export interface CommittedOffsets {
  readonly topic: string;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string }>;
}

/**
 * The lag of a group over `topics` (the topics it has committed on at least once; a topic it
 * never read is not its topic). Partitions whose log range is unknown count nothing.
 */
export function groupLag(topics: readonly CommittedOffsets[], ranges: ReadonlyMap<string, ReadonlyMap<number, LogRange>>): number {
  let lag = 0;
  for (const t of topics)
    for (const p of t.partitions) {
      const range = ranges.get(t.topic)?.get(p.partition);
      if (!range) continue;
      const committed = Number(p.offset);
      const next = committed >= 0 ? Math.max(committed, range.low) : range.low;
      lag += Math.max(0, range.high - next);
    }
  return lag;
}
