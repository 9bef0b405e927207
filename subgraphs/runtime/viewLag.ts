// Lag and freshness of views measured from outside the processes that build them: each
// partition's checkpoint in Redis (live generation) against its topic's log end on the
// broker, for `npm run lag` and for scripts that must wait for or alert on a view.
import type { Cluster, Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { readGeneration } from './generation';
import { partitionKeys } from './keys';

/** A view to measure: its name, the topic it folds and (optionally) its consumer group. */
export interface ViewTarget {
  readonly view: string;
  readonly topic: string;
  /** Counted for `consumers`; omitted, consumers stays unknown. */
  readonly groupId?: string;
}

export interface PartitionLag {
  readonly partition: number;
  /** Last offset applied to the live generation; null before the first. */
  readonly checkpoint: number | null;
  /** The first offset still on the log: where a view without a checkpoint starts. */
  readonly logStart: number;
  /** The offset the next record will get (the high watermark). */
  readonly logEnd: number;
  /** Records on the log not applied yet. */
  readonly lag: number;
  /** The checkpoint is past the log end: the topic was recreated; the runner rebuilds the partition. */
  readonly ahead: boolean;
  /** occurredAt of the last applied event. */
  readonly lastEventAt: string | null;
  /** When the view last wrote this partition (ms since epoch). */
  readonly appliedAt: number | null;
}

export interface ViewLag {
  readonly view: string;
  readonly topic: string;
  /** The live generation (what readers read and the checkpoints belong to). */
  readonly generation: string;
  readonly groupId: string | null;
  /** Members of the consumer group, i.e. processes applying the view now; null when unknown. */
  readonly consumers: number | null;
  readonly partitions: readonly PartitionLag[];
  /** Sum over partitions; null when the topic could not be read. */
  readonly lag: number | null;
  /** The latest occurredAt over partitions. */
  readonly lastEventAt: string | null;
  readonly appliedAt: number | null;
  /** Why the view could not be measured, e.g. its topic does not exist. */
  readonly problem: string | null;
}

/**
 * The same rule as the runner's own stats (PartitionStatsRecorder): a partition resumes at
 * checkpoint + 1, or at the log start without one.
 */
export function partitionLag(checkpoint: number | null, logStart: number, logEnd: number): { lag: number; ahead: boolean } {
  const next = checkpoint === null ? logStart : checkpoint + 1;
  return { lag: Math.max(0, logEnd - next), ahead: next > logEnd };
}

/** What a partition's meta key keeps beside its checkpoint: freshness that survives restarts. */
export interface PartitionMeta {
  lastEventAt: string | null;
  appliedAt: number | null;
}

export function parseMeta(raw: string | null): PartitionMeta {
  if (raw === null) return { lastEventAt: null, appliedAt: null };
  try {
    const m = JSON.parse(raw) as Partial<PartitionMeta>;
    return {
      lastEventAt: typeof m.lastEventAt === 'string' ? m.lastEventAt : null,
      appliedAt: typeof m.appliedAt === 'number' ? m.appliedAt : null,
    };
  } catch {
    return { lastEventAt: null, appliedAt: null };
  }
}

const latest = (values: ReadonlyArray<string | null>): string | null =>
  values.reduce<string | null>((a, v) => (v !== null && (a === null || Date.parse(v) > Date.parse(a)) ? v : a), null);

/** Measures every view in `views`; a view that cannot be measured says why instead of failing the rest. */
export async function measureViewLag(opts: {
  readonly admin: Admin;
  readonly redis: Redis | Cluster;
  readonly views: readonly ViewTarget[];
}): Promise<ViewLag[]> {
  const { admin, redis, views } = opts;
  const topics = new Set(await admin.listTopics());
  const groupIds = [...new Set(views.flatMap((v) => (v.groupId ? [v.groupId] : [])))];
  const members = new Map<string, number>();
  if (groupIds.length > 0) {
    const { groups } = await admin.describeGroups(groupIds);
    for (const g of groups) members.set(g.groupId, g.members.length);
  }
  const offsetsOf = new Map<string, Promise<Array<{ partition: number; low: string; high: string }>>>();
  return Promise.all(
    views.map(async (v): Promise<ViewLag> => {
      const generation = await readGeneration(redis, v.view);
      const base = {
        view: v.view,
        topic: v.topic,
        generation,
        groupId: v.groupId ?? null,
        consumers: v.groupId ? (members.get(v.groupId) ?? 0) : null,
      };
      if (!topics.has(v.topic))
        return { ...base, partitions: [], lag: null, lastEventAt: null, appliedAt: null, problem: `topic ${v.topic} does not exist (npm run topics creates it)` };
      let offsets = offsetsOf.get(v.topic);
      if (!offsets) {
        offsets = admin.fetchTopicOffsets(v.topic);
        offsetsOf.set(v.topic, offsets);
      }
      const sorted = [...(await offsets)].sort((a, b) => a.partition - b.partition);
      // One GET per key: the keys of different partitions live in different cluster slots.
      const partitions = await Promise.all(
        sorted.map(async (o): Promise<PartitionLag> => {
          const keys = partitionKeys(v.view, generation, v.topic, o.partition);
          const [cpRaw, metaRaw] = await Promise.all([redis.get(keys.checkpoint), redis.get(keys.meta)]);
          const checkpoint = cpRaw === null ? null : Number(cpRaw);
          const logStart = Number(o.low);
          const logEnd = Number(o.high);
          return { partition: o.partition, checkpoint, logStart, logEnd, ...partitionLag(checkpoint, logStart, logEnd), ...parseMeta(metaRaw) };
        }),
      );
      const applied = partitions.map((p) => p.appliedAt).filter((t): t is number => t !== null);
      return {
        ...base,
        partitions,
        lag: partitions.reduce((a, p) => a + p.lag, 0),
        lastEventAt: latest(partitions.map((p) => p.lastEventAt)),
        appliedAt: applied.length ? Math.max(...applied) : null,
        problem: null,
      };
    }),
  );
}

/** The partitions over `maxLag` (a view that could not be measured counts as over). */
export function overMaxLag(report: readonly ViewLag[], maxLag: number): Array<{ view: string; partition: number | null; lag: number | null }> {
  return report.flatMap((v): Array<{ view: string; partition: number | null; lag: number | null }> =>
    v.lag === null
      ? [{ view: v.view, partition: null, lag: null }]
      : v.partitions.filter((p) => p.lag > maxLag).map((p) => ({ view: v.view, partition: p.partition, lag: p.lag })),
  );
}

/** `4 s`, `3 min`, `2.5 h`, `6 d`: an age at a glance. */
export function formatAge(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

/** The report as text: one heading line per view, then one row per partition. */
export function formatViewLag(report: readonly ViewLag[], now = Date.now()): string[] {
  const lines: string[] = [];
  const ago = (t: number | null) => (t === null ? '-' : `${formatAge(now - t)} ago`);
  for (const v of report) {
    const consumers = v.consumers === null ? '' : `, ${v.consumers} consumer${v.consumers === 1 ? '' : 's'}`;
    const heading = `${v.view} (topic ${v.topic}, generation ${v.generation}${consumers})`;
    if (v.problem !== null) {
      lines.push(`${heading}: ${v.problem}`, '');
      continue;
    }
    const fresh = v.lastEventAt === null ? 'no event applied yet' : `last event ${v.lastEventAt} (${ago(Date.parse(v.lastEventAt))})`;
    lines.push(`${heading}: lag ${v.lag}, ${fresh}`);
    const rows = [['  partition', 'checkpoint', 'log end', 'lag', 'last event', 'age', 'written']];
    for (const p of v.partitions)
      rows.push([
        `  ${p.partition}`,
        p.checkpoint === null ? '-' : String(p.checkpoint),
        String(p.logEnd),
        String(p.lag),
        p.lastEventAt ?? '-',
        p.lastEventAt === null ? '-' : formatAge(now - Date.parse(p.lastEventAt)),
        ago(p.appliedAt),
      ]);
    lines.push(...table(rows));
    for (const p of v.partitions.filter((x) => x.ahead))
      lines.push(`  partition ${p.partition}: checkpoint ${p.checkpoint} is past the log end ${p.logEnd} (topic recreated?); a running projection rebuilds it`);
    lines.push('');
  }
  return lines;
}
