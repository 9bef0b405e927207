// Counts over time from samples of a growing total (a topic's log end): the rate over the last
// seconds, and how much it grew over the last hour. Keeps every sample of the last minute and one
// a minute for a day, so memory stays bounded however long the mesh runs. Pure.

export interface GrowthSeries {
  add(total: number, at: number): void;
  /** Per second over the last `windowMs` (at least two samples apart); null before two samples. */
  ratePerSecond(now: number, windowMs?: number): number | null;
  /** How much the total grew since `now - windowMs`, or since the first sample when younger. */
  growthSince(now: number, windowMs: number): number;
}

const RECENT_MS = 60_000;
const MINUTE_MS = 60_000;
const KEEP_MS = 24 * 3600_000;

export function createGrowthSeries(): GrowthSeries {
  let recent: Array<{ at: number; total: number }> = [];
  let minutely: Array<{ at: number; total: number }> = [];
  return {
    add(total, at) {
      recent.push({ at, total });
      recent = recent.filter((s) => at - s.at <= RECENT_MS);
      const last = minutely[minutely.length - 1];
      if (!last || at - last.at >= MINUTE_MS) minutely.push({ at, total });
      if (minutely.length && at - minutely[0].at > KEEP_MS) minutely = minutely.filter((s) => at - s.at <= KEEP_MS);
    },
    ratePerSecond(now, windowMs = 30_000) {
      const inWindow = recent.filter((s) => now - s.at <= windowMs);
      if (inWindow.length < 2) return null;
      const first = inWindow[0];
      const last = inWindow[inWindow.length - 1];
      if (last.at <= first.at) return null;
      return Math.max(0, (last.total - first.total) / ((last.at - first.at) / 1000));
    },
    growthSince(now, windowMs) {
      const all = [...minutely, ...recent].sort((a, b) => a.at - b.at);
      if (all.length === 0) return 0;
      const base = all.find((s) => now - s.at <= windowMs) ?? all[all.length - 1];
      return Math.max(0, all[all.length - 1].total - base.total);
    },
  };
}
