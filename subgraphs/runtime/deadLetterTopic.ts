// A dead-letter topic seen from the outside: its offsets, a bounded read of its records and
// counts by reason (here), and a replay that re-publishes the original records to their source
// topic and records in Redis how far it got (deadLetterReplay.ts).
import type { Cluster, Redis } from 'ioredis';
import { createDeadLetterTally, parseDeadLetter, type DeadLetterEntry, type DeadLetterSummary } from './deadLetters';
import { describeDeadLetterTopic, scanTopic, type DeadLetterPartition, type ReadProgress, type ScanOptions } from './deadLetterScan';

export {
  describeDeadLetterTopic,
  readReplayPositions,
  replayKeys,
  type DeadLetterPartition,
  type ReadProgress,
  type ScanOptions,
} from './deadLetterScan';
export { replayDeadLetters, ReplayInProgressError, type ReplayOptions, type ReplayResult } from './deadLetterReplay';

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
