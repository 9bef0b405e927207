// Prometheus metrics of running projections, read from their per-partition stats at
// scrape time so that nothing is counted twice or goes stale between scrapes.
import { Gauge, type Registry } from 'prom-client';
import type { PartitionStats } from './partitionStats';
import { VIEW_STATES, type ViewStatus } from './projection/viewHealth';

/** What the metrics need of a running projection. */
export interface ProjectionStatsSource {
  readonly view: string;
  stats(): PartitionStats[];
  /** The view's state; without it no state is reported. */
  status?(): ViewStatus;
}

const LABELS = ['view', 'topic', 'partition'] as const;

/** Registers the projection gauges on `registry`; `sources` is read at every scrape. */
export function registerProjectionMetrics(registry: Registry, sources: () => readonly ProjectionStatsSource[]): void {
  const each = (fn: (labels: Record<(typeof LABELS)[number], string>, s: PartitionStats) => void) => {
    for (const src of sources())
      for (const s of src.stats()) fn({ view: src.view, topic: s.topic, partition: String(s.partition) }, s);
  };
  const gauge = (name: string, help: string, value: (s: PartitionStats) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        each((labels, s) => {
          const v = value(s);
          if (v !== null) this.set(labels, v);
        });
      },
    });
  gauge('streamgraph_projection_lag_records', 'Records on the partition not yet applied to the view.', (s) => s.lag);
  gauge('streamgraph_projection_checkpoint_offset', 'Last offset applied to the view.', (s) => s.checkpoint);
  gauge('streamgraph_projection_last_event_timestamp_seconds', 'occurredAt of the last applied event (freshness).', (s) =>
    s.lastEventAt ? Date.parse(s.lastEventAt) / 1000 : null,
  );
  gauge('streamgraph_projection_applied_per_second', 'Events applied per second over the last 10 s.', (s) => s.appliedPerSecond);
  gauge('streamgraph_projection_applied_events_total', 'Events applied by this process since it started.', (s) => s.appliedTotal);
  gauge('streamgraph_projection_resent_skipped_total', 'Re-sent events (at-least-once sources such as CDC) skipped by this process: already applied.', (s) => s.resent);
  gauge('streamgraph_projection_dead_letters_total', 'Events this process sent to the dead-letter topic.', (s) => s.deadLetters);
  new Gauge({
    name: 'streamgraph_projection_state',
    help: `1 for the state each view is in, 0 for the others (${VIEW_STATES.join(', ')}); failed: the view stopped (see /ready for why).`,
    labelNames: ['view', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const src of sources()) {
        const status = src.status?.();
        if (status) for (const state of VIEW_STATES) this.set({ view: src.view, state }, status.state === state ? 1 : 0);
      }
    },
  });
}
