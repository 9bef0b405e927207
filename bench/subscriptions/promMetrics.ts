// Figures from a service's Prometheus /metrics text: counters summed over their label sets, and
// histogram quantiles from the difference of two readings, so a run can report what a gateway
// or subgraph counted inside its window alone.

export interface MetricsReading {
  /** The sum of the samples named `name` whose labels pass `labels`. */
  sum(name: string, labels?: (labelText: string) => boolean): number;
  /** Cumulative bucket counts of histogram `name` (of the label sets `labels` passes), by upper bound (`le`), ascending. */
  buckets(name: string, labels?: (labelText: string) => boolean): ReadonlyArray<readonly [number, number]>;
}

export async function readMetrics(metricsUrl: string): Promise<MetricsReading> {
  const text = await (await fetch(metricsUrl)).text();
  const samples: Array<{ name: string; labels: string; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? ([\d.e+-]+|NaN|\+Inf)$/.exec(line);
    if (m) samples.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return {
    sum: (name, labels = () => true) => samples.reduce((n, s) => (s.name === name && labels(s.labels) ? n + s.value : n), 0),
    buckets(name, labels = () => true) {
      const byBound = new Map<number, number>();
      for (const s of samples) {
        if (s.name !== `${name}_bucket` || !labels(s.labels)) continue;
        const le = /le="([^"]+)"/.exec(s.labels)?.[1];
        if (le === undefined) continue;
        const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
        byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
      }
      return [...byBound].sort((a, b) => a[0] - b[0]);
    },
  };
}

/**
 * The q-quantile of what histogram `name` observed between two readings, as the bucket it falls
 * in (Prometheus buckets are coarse): "<=0.25" (at most its upper bound), ">2.5" (past the last
 * finite bound), or null when nothing was observed. Bounds are scaled by `scale` (1000: s to ms).
 */
export function histogramQuantileBetween(before: MetricsReading, after: MetricsReading, name: string, q: number, scale = 1, labels?: (labelText: string) => boolean): string | null {
  const start = new Map(before.buckets(name, labels));
  const diff = after.buckets(name, labels).map(([bound, n]) => [bound, n - (start.get(bound) ?? 0)] as const);
  const total = diff.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  const bound = diff.find(([, n]) => n >= rank)?.[0] ?? Number.POSITIVE_INFINITY;
  const scaled = (b: number) => Math.round(b * scale * 1000) / 1000;
  if (Number.isFinite(bound)) return `<=${scaled(bound)}`;
  const finite = diff.filter(([b]) => Number.isFinite(b)).at(-1)?.[0];
  return finite === undefined ? null : `>${scaled(finite)}`;
}
