// The live side of the catalog: every few seconds it reads the announced products from the
// registry and measures each one (its views' lag per partition and for how long, the newest
// applied event, events per second into its topics, its dead letters by reason, its valid share,
// the consumer groups reading its topics from Kafka's admin API), evaluates its service levels
// and sets the metrics. Resolvers read the last snapshot; nothing a caller sends is kept.
import type { Cluster, Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../platform/logger';
import { readDataProducts, readSchemaRecords, type AnnouncedDataProduct } from '../../platform/registry';
import { dlqTopicName } from '../../schema/events';
import { measureViewLag, type ViewLag } from '../runtime/viewLag';
import { groupLag, type LogRange } from './groupLag';
import { createDeadLetterReader, type DeadLetterReader } from './deadLetterReader';
import { createDeadLetterWindow, HOUR_MS, DAY_MS } from './deadLetterWindow';
import { buildProductCatalog, type ProductCatalog } from './productCatalog';
import { createGrowthSeries, type GrowthSeries } from './rates';
import { createLevelTracker, evaluateLevels, validShare, type LevelEvaluation } from './serviceLevels';

export interface PartitionFigure {
  readonly view: string;
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
  readonly lagAgeSeconds: number | null;
  readonly lastEventAt: string | null;
}

export interface ConsumerGroupFigure {
  readonly groupId: string;
  readonly state: string;
  readonly members: number;
  readonly topics: readonly string[];
  readonly lag: number | null;
}

export interface ProductFigures {
  readonly measuredAt: string | null;
  readonly eventsPerSecond: number | null;
  readonly lastAppliedEventAt: string | null;
  readonly validShare: number | null;
  readonly partitions: readonly PartitionFigure[];
  readonly deadLetters: {
    readonly total: number;
    readonly lastHour: number;
    readonly lastDay: number;
    readonly perHourLastHour: number;
    readonly perHourLastDay: number;
    readonly byReason: ReadonlyArray<{ reason: string; lastHour: number; lastDay: number }>;
  };
  readonly consumerGroups: readonly ConsumerGroupFigure[];
  readonly problems: readonly string[];
  readonly levels: ReadonlyArray<LevelEvaluation & { readonly since: string }>;
}

export interface MeshSnapshot {
  readonly catalog: ProductCatalog;
  readonly figures: ReadonlyMap<string, ProductFigures>;
  readonly measuredAt: number;
}

export interface MeshMonitor {
  /** The last measurement; waits for the first one. */
  snapshot(): Promise<MeshSnapshot>;
  close(): Promise<void>;
}

export interface MeshMonitorOptions {
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  readonly namespace: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** How often to measure (MESH_SAMPLE_MS). @default 2000 */
  readonly sampleMs?: number;
}

/** At most this many consumer groups are looked at per measurement (the broker may hold thousands). */
const MAX_GROUPS = 100;
/** Consumer groups (list, states, committed offsets) are read this often, not at every measurement: there may be many. */
const GROUP_REFRESH_MS = 5_000;

const EMPTY_DEAD_LETTERS = { total: 0, lastHour: 0, lastDay: 0, perHourLastHour: 0, perHourLastDay: 0, byReason: [] };

export function emptyFigures(): ProductFigures {
  return { measuredAt: null, eventsPerSecond: null, lastAppliedEventAt: null, validShare: null, partitions: [], deadLetters: EMPTY_DEAD_LETTERS, consumerGroups: [], problems: [], levels: [] };
}

const latest = (values: ReadonlyArray<string | null>) =>
  values.reduce<string | null>((a, v) => (v !== null && (a === null || Date.parse(v) > Date.parse(a)) ? v : a), null);

export async function startMeshMonitor(opts: MeshMonitorOptions): Promise<MeshMonitor> {
  const ns = opts.namespace;
  const sampleMs = opts.sampleMs ?? 2000;
  const admin: Admin = opts.kafka.admin();
  await admin.connect();
  const window = createDeadLetterWindow();
  const reader: DeadLetterReader = createDeadLetterReader({ kafka: opts.kafka, admin, namespace: ns, window, logger: opts.logger });
  const tracker = createLevelTracker();
  const series = new Map<string, GrowthSeries>();
  /** `view/partition` -> when it was first seen behind in the current stretch. */
  const behindSince = new Map<string, number>();
  let groupCache: { at: number; topics: string; groups: Map<string, ConsumerGroupFigure> } = { at: 0, topics: '', groups: new Map() };

  const levelGauge = new Gauge({
    name: 'streamgraph_data_product_service_level',
    help: 'Service level state per data product and level: 1 for the state it is in, 0 for the others',
    labelNames: ['product', 'level', 'state'],
    registers: [opts.registry],
  });
  const shareGauge = new Gauge({
    name: 'streamgraph_data_product_valid_share',
    help: 'Share of the data product events over the last hour that were valid (not dead-lettered, nor refused at the gateway); absent when none arrived',
    labelNames: ['product'],
    registers: [opts.registry],
  });
  let labelled = new Set<string>();

  const seriesOf = (topic: string) => {
    let s = series.get(topic);
    if (!s) series.set(topic, (s = createGrowthSeries()));
    return s;
  };

  /** `known`: the announced views' groups, looked at first when there are more groups than MAX_GROUPS. */
  async function consumerGroups(topics: readonly string[], logRanges: ReadonlyMap<string, ReadonlyMap<number, LogRange>>, known: ReadonlySet<string>, now: number) {
    const key = [...topics].sort().join('\n');
    if (now - groupCache.at < GROUP_REFRESH_MS && groupCache.topics === key) return groupCache.groups;
    const out = new Map<string, ConsumerGroupFigure>();
    const ids = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((id) => id.startsWith(ns) && !id.startsWith(`${ns}mesh.`) && !id.includes('.dlq-reader.'))
      .sort((a, b) => Number(known.has(b)) - Number(known.has(a)) || a.localeCompare(b))
      .slice(0, MAX_GROUPS);
    if (ids.length === 0 || topics.length === 0) return (groupCache = { at: now, topics: key, groups: out }).groups;
    const described = new Map((await admin.describeGroups(ids)).groups.map((g) => [g.groupId, g]));
    await Promise.all(
      ids.map(async (groupId) => {
        const offsets = await admin.fetchOffsets({ groupId, topics: [...topics] });
        const read = offsets.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0));
        if (read.length === 0) return;
        const lag = groupLag(read, logRanges);
        const d = described.get(groupId);
        out.set(groupId, { groupId, state: d?.state ?? 'Unknown', members: d?.members.length ?? 0, topics: read.map((t) => t.topic), lag });
      }),
    );
    return (groupCache = { at: now, topics: key, groups: out }).groups;
  }

  async function measure(): Promise<MeshSnapshot> {
    const now = Date.now();
    const removed = new Set([...(await readSchemaRecords(opts.redis, ns)).values()].filter((r) => r.kind === 'removed').map((r) => r.name));
    const catalog = buildProductCatalog((await readDataProducts(opts.redis, ns)).filter((r) => !removed.has(r.subgraph)));
    const existing = new Set(await admin.listTopics());
    const topics = [...new Set(catalog.products.flatMap((p) => p.topics.map((t) => t.name)))];
    const dlqs = topics.map((t) => `${ns}${dlqTopicName(t)}`).filter((t) => existing.has(t));
    await reader.follow(dlqs);

    // Log ends of the products' topics and their dead-letter topics, once each.
    const logRanges = new Map<string, Map<number, LogRange>>();
    const totals = new Map<string, number>();
    await Promise.all(
      [...topics.map((t) => `${ns}${t}`), ...dlqs]
        .filter((t) => existing.has(t))
        .map(async (t) => {
          const offsets = await admin.fetchTopicOffsets(t);
          logRanges.set(t, new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }])));
          totals.set(t, offsets.reduce((a, o) => a + Number(o.high) - Number(o.low), 0));
          if (!t.endsWith('.dlq')) seriesOf(t).add(offsets.reduce((a, o) => a + Number(o.high), 0), now);
        }),
    );
    const viewTargets = catalog.products.flatMap((p) => p.views.map((v) => ({ view: `${ns}${v.name}`, topic: `${ns}${v.topic}`, groupId: `${ns}${v.groupId}` })));
    const unique = [...new Map(viewTargets.map((v) => [v.view, v])).values()];
    const lags = new Map<string, ViewLag>((await measureViewLag({ admin, redis: opts.redis, views: unique })).map((l) => [l.view, l]));
    const groups = await consumerGroups([...logRanges.keys()].filter((t) => !t.endsWith('.dlq')), logRanges, new Set(unique.map((v) => v.groupId)), now);

    const seenBehind = new Set<string>();
    const figures = new Map<string, ProductFigures>();
    for (const p of catalog.products) {
      const problems: string[] = [];
      const partitions: PartitionFigure[] = [];
      let unmeasured = 0;
      for (const v of p.views) {
        const l = lags.get(`${ns}${v.name}`);
        if (!l || l.problem !== null) {
          unmeasured++;
          problems.push(`${v.name}: ${l?.problem ?? 'not measured'}`);
          continue;
        }
        for (const part of l.partitions) {
          const key = `${v.name}/${part.partition}`;
          let age: number | null = null;
          if (part.lag > 0) {
            seenBehind.add(key);
            const since = behindSince.get(key) ?? now;
            behindSince.set(key, since);
            age = (now - since) / 1000;
          }
          partitions.push({ view: v.name, topic: v.topic, partition: part.partition, lag: part.lag, lagAgeSeconds: age, lastEventAt: part.lastEventAt });
        }
      }
      for (const t of p.topics) if (!existing.has(`${ns}${t.name}`)) problems.push(`topic ${t.name} does not exist (npm run topics creates it)`);
      const productTopics = p.topics.map((t) => `${ns}${t.name}`).filter((t) => existing.has(t));
      const productDlqs = p.topics.map((t) => `${ns}${dlqTopicName(t.name)}`);
      const rates = productTopics.map((t) => seriesOf(t).ratePerSecond(now));
      const eventsLastHour = productTopics.reduce((a, t) => a + seriesOf(t).growthSince(now, HOUR_MS), 0);
      const dead = window.counts(productDlqs, now);
      // Events refused at the edge never reached the topics: invalid events offered, on top of them.
      const share = validShare(eventsLastHour, dead.sourcesLastHour, dead.refusedLastHour);
      const lastAppliedEventAt = latest(partitions.map((x) => x.lastEventAt));
      const levels = evaluateLevels(p.serviceLevels, { partitions, unmeasuredViews: unmeasured, lastAppliedEventAt, validShare: share }, now).map((e) => ({
        ...e,
        since: new Date(tracker.observe(p.name, e.level, e.state, now)).toISOString(),
      }));
      figures.set(p.name, {
        measuredAt: new Date(now).toISOString(),
        eventsPerSecond: rates.some((r) => r !== null) ? rates.reduce<number>((a, r) => a + (r ?? 0), 0) : null,
        lastAppliedEventAt,
        validShare: share,
        partitions,
        deadLetters: {
          // The reader may have seen a dead letter written after the offsets were read.
          total: Math.max(dead.lastDay, productDlqs.reduce((a, t) => a + (totals.get(t) ?? 0), 0)),
          lastHour: dead.lastHour,
          lastDay: dead.lastDay,
          perHourLastHour: dead.lastHour,
          perHourLastDay: dead.lastDay / (DAY_MS / HOUR_MS),
          byReason: dead.byReason,
        },
        consumerGroups: [...groups.values()].filter((g) => g.topics.some((t) => productTopics.includes(t))).map((g) => ({ ...g, topics: g.topics.map((t) => t.slice(ns.length)) })),
        problems,
        levels,
      });
    }
    for (const key of [...behindSince.keys()]) if (!seenBehind.has(key)) behindSince.delete(key);
    for (const t of [...series.keys()]) if (!logRanges.has(t)) series.delete(t);
    tracker.retain(new Set(catalog.products.map((p) => p.name)));
    updateMetrics(figures);
    return { catalog, figures, measuredAt: now };
  }

  function updateMetrics(figures: ReadonlyMap<string, ProductFigures>): void {
    const next = new Set<string>();
    for (const [product, f] of figures) {
      next.add(product);
      for (const l of f.levels) for (const state of ['MET', 'BREACHED', 'UNKNOWN']) levelGauge.set({ product, level: l.level, state }, l.state === state ? 1 : 0);
      if (f.validShare === null) shareGauge.remove({ product });
      else shareGauge.set({ product }, f.validShare);
    }
    // Labels of products no longer announced go, so the series stay bounded by what exists.
    // prom-client removes exact label sets only: every level and state of a product that went.
    for (const product of labelled)
      if (!next.has(product)) {
        for (const level of ['MAX_LAG', 'MAX_EVENT_AGE', 'MIN_VALID_SHARE']) for (const state of ['MET', 'BREACHED', 'UNKNOWN']) levelGauge.remove({ product, level, state });
        shareGauge.remove({ product });
      }
    labelled = next;
  }

  let current: MeshSnapshot | null = null;
  let first: Promise<MeshSnapshot> = measure().then((s) => (current = s));
  first.catch(() => undefined);
  let closed = false;
  // One measurement at a time: a slow broker skips ticks rather than piling them up.
  let running: Promise<unknown> = first;
  let inFlight = true;
  first.finally(() => (inFlight = false)).catch(() => undefined);
  const timer = setInterval(() => {
    if (closed || inFlight) return;
    inFlight = true;
    running = measure()
      .then((s) => (current = s))
      .catch((e: unknown) => opts.logger.warn({ err: e }, 'data product measurement failed; the catalog shows the previous one'))
      .finally(() => (inFlight = false));
  }, sampleMs);
  timer.unref();

  return {
    async snapshot() {
      if (current) return current;
      try {
        return await first;
      } catch {
        // The first measurement failed (the broker was away): try once more for this caller.
        first = measure().then((s) => (current = s));
        return first;
      }
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await running.catch(() => undefined);
      await reader.close();
      await admin.disconnect();
      opts.registry.removeSingleMetric('streamgraph_data_product_service_level');
      opts.registry.removeSingleMetric('streamgraph_data_product_valid_share');
    },
  };
}
