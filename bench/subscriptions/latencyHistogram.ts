// Latencies as a log-bucketed histogram: the client processes record hundreds of thousands of
// receipts per run, and what crosses to the parent is a few hundred (bucket, count) pairs per
// process, which merge exactly. Buckets grow by 1%, so a quantile read back is within 1% of
// the recorded value (always at or above it: a bucket reports its upper bound).

/** Smallest latency told apart from zero, in ms; anything below lands in bucket 0. */
const MIN_MS = 0.01;
/** Relative width of a bucket. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to ~3.6e6 ms (an hour); longer latencies are clamped into the last one. */
const BUCKETS = 2048;

/** (bucket index, count) pairs of the non-empty buckets: what a histogram sends over IPC. */
export type SparseHistogram = ReadonlyArray<readonly [number, number]>;

export interface LatencyHistogram {
  record(ms: number): void;
  /** Adds another histogram's counts (from another client process). */
  merge(other: SparseHistogram): void;
  toSparse(): SparseHistogram;
  /** Recorded values. */
  count(): number;
  /** The q-quantile (0..1) by nearest rank, as its bucket's upper bound; NaN when empty. */
  quantile(q: number): number;
}

const bucketOf = (ms: number) => (ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH)));
const upperBoundOf = (bucket: number) => MIN_MS * GROWTH ** bucket;

export function createLatencyHistogram(): LatencyHistogram {
  const counts = new Float64Array(BUCKETS);
  let total = 0;
  return {
    record(ms) {
      // A negative latency means two processes' clocks disagree by a hair; it is ~0.
      counts[bucketOf(Math.max(0, ms))]++;
      total++;
    },
    merge(other) {
      for (const [bucket, n] of other) {
        counts[bucket] += n;
        total += n;
      }
    },
    toSparse() {
      const out: Array<readonly [number, number]> = [];
      counts.forEach((n, bucket) => {
        if (n > 0) out.push([bucket, n]);
      });
      return out;
    },
    count: () => total,
    quantile(q) {
      if (total === 0) return Number.NaN;
      // The same nearest-rank rule as bench/stats.ts quantile(), over buckets instead of values.
      const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
      let seen = 0;
      for (let bucket = 0; bucket < BUCKETS; bucket++) {
        seen += counts[bucket];
        if (seen >= rank) return upperBoundOf(bucket);
      }
      return upperBoundOf(BUCKETS - 1);
    },
  };
}
