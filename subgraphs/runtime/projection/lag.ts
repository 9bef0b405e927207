// The partitions' logs as the broker reports them, and the per-partition stats (lag,
// checkpoint, freshness, rates, dead letters) measured against them every `refreshMs`.
import type { Cluster, Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { Logger } from '../../../platform/logger';
import type { GenerationWatch } from '../generation';
import { partitionKeys } from '../keys';
import { PartitionStatsRecorder, type PartitionStats } from '../partitionStats';
import { parseMeta } from '../viewLag';
import { parseCheckpoint, type LogBounds } from './checkpoints';

export interface LagMeter {
  /** Per partition, updated by the steps as they apply and dead-letter. */
  readonly stats: readonly PartitionStatsRecorder[];
  /** Every partition's log bounds, by partition. */
  logBounds(): Promise<Map<number, LogBounds>>;
  /** One partition's log bounds. */
  logBoundsOf(partition: number): Promise<LogBounds>;
  /** Measures lag now. */
  refresh(): Promise<PartitionStats[]>;
  close(): void;
}

export interface LagMeterOptions {
  readonly admin: Admin;
  readonly redis: Redis | Cluster;
  readonly view: string;
  readonly topic: string;
  readonly partitions: number;
  readonly generation: GenerationWatch;
  readonly refreshMs: number;
  readonly log: Logger;
}

export async function startLagMeter(opts: LagMeterOptions): Promise<LagMeter> {
  const { admin, redis, view, topic } = opts;
  const stats = Array.from({ length: opts.partitions }, (_, p) => new PartitionStatsRecorder(topic, p));
  const logBounds = async () => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { start: Number(o.low), end: Number(o.high) }]));
  };
  const refresh = async () => {
    const bounds = await logBounds();
    const gen = opts.generation.current();
    const partitions = [...bounds.keys()];
    const keys = partitions.map((p) => partitionKeys(view, gen, topic, p));
    const [cps, metas] = await Promise.all([
      Promise.all(keys.map((k) => redis.get(k.checkpoint))),
      Promise.all(keys.map((k) => redis.get(k.meta))),
    ]);
    partitions.forEach((p, i) => {
      const s = stats[p];
      if (!s) return;
      const b = bounds.get(p)!;
      s.highWatermark = b.end;
      s.lowWatermark = b.start;
      s.checkpoint = parseCheckpoint(view, p, cps[i]);
      // A restarted process has applied nothing yet, but the view has: its freshness is the
      // time kept with the checkpoint, not "never".
      const meta = parseMeta(metas[i]);
      if (s.lastEventAt === null) s.lastEventAt = meta.lastEventAt;
      if (s.lastAppliedAt === null) s.lastAppliedAt = meta.appliedAt;
    });
    return stats.map((s) => s.snapshot());
  };
  // Lag is known once the broker answers; right after topics are created it may still say
  // "not the leader" for a moment, which must not stop the projection from starting.
  await refresh().catch((e) => opts.log.debug({ err: (e as Error).message }, 'first lag measurement failed'));
  const timer = setInterval(() => void refresh().catch((e) => opts.log.debug({ err: (e as Error).message }, 'lag refresh failed')), opts.refreshMs);
  timer.unref();
  return {
    stats,
    logBounds,
    async logBoundsOf(partition) {
      return (await logBounds()).get(partition) ?? { start: 0, end: 0 };
    },
    refresh,
    close: () => clearInterval(timer),
  };
}
