// Each product's service levels against its figures: met, breached or unknown, and since when
// (a tracker remembers when each level last changed state). Pure.
import type { AnnouncedDataProduct } from '../../platform/registry';

export type LevelName = 'MAX_LAG' | 'MAX_EVENT_AGE' | 'MIN_VALID_SHARE';
export type LevelState = 'MET' | 'BREACHED' | 'UNKNOWN';

export interface LevelEvaluation {
  readonly level: LevelName;
  readonly objective: string;
  readonly measured: string | null;
  readonly state: LevelState;
}

export interface LevelInputs {
  /** Per partition of its views; empty when none could be measured. */
  readonly partitions: ReadonlyArray<{ readonly lag: number; readonly lagAgeSeconds: number | null }>;
  /** Views that could not be measured (a missing topic). */
  readonly unmeasuredViews: number;
  readonly lastAppliedEventAt: string | null;
  readonly validShare: number | null;
}

const pct = (x: number) => `${(x * 100).toFixed(x >= 0.9995 || x === 0 ? 0 : 2)}%`;

/** The product's levels, measured at `now`. */
export function evaluateLevels(levels: AnnouncedDataProduct['serviceLevels'], inputs: LevelInputs, now: number): LevelEvaluation[] {
  const out: LevelEvaluation[] = [];
  const { records, seconds } = levels.maxLag;
  const lagObjective = `lag <= ${records} records and behind <= ${seconds} s`;
  if (inputs.partitions.length === 0 || inputs.unmeasuredViews > 0)
    out.push({ level: 'MAX_LAG', objective: lagObjective, measured: inputs.unmeasuredViews > 0 ? `${inputs.unmeasuredViews} view(s) not measurable` : null, state: 'UNKNOWN' });
  else {
    const maxLag = Math.max(...inputs.partitions.map((p) => p.lag));
    const maxAge = Math.max(0, ...inputs.partitions.map((p) => p.lagAgeSeconds ?? 0));
    out.push({
      level: 'MAX_LAG',
      objective: lagObjective,
      measured: `lag ${maxLag} records${maxLag > 0 ? `, behind for ${Math.round(maxAge)} s` : ''}`,
      state: maxLag > records || maxAge > seconds ? 'BREACHED' : 'MET',
    });
  }
  if (levels.maxEventAgeSeconds !== null) {
    const objective = `newest event <= ${levels.maxEventAgeSeconds} s old`;
    if (inputs.lastAppliedEventAt === null) out.push({ level: 'MAX_EVENT_AGE', objective, measured: 'no event applied yet', state: 'UNKNOWN' });
    else {
      const age = Math.max(0, (now - Date.parse(inputs.lastAppliedEventAt)) / 1000);
      out.push({ level: 'MAX_EVENT_AGE', objective, measured: `${Math.round(age)} s old`, state: age > levels.maxEventAgeSeconds ? 'BREACHED' : 'MET' });
    }
  }
  const shareObjective = `valid share >= ${pct(levels.minValidShare)}`;
  if (inputs.validShare === null) out.push({ level: 'MIN_VALID_SHARE', objective: shareObjective, measured: 'no events in the last hour', state: 'UNKNOWN' });
  else
    out.push({
      level: 'MIN_VALID_SHARE',
      objective: shareObjective,
      measured: pct(inputs.validShare),
      state: inputs.validShare < levels.minValidShare ? 'BREACHED' : 'MET',
    });
  return out;
}

/**
 * The share of events offered to the product's topics over the window that were valid:
 * valid / (valid + invalid). `eventsInWindow` records reached the topics, `invalidOnTopic` of
 * them (distinct source records) were dead-lettered by views; `refusedAtEdge` events were
 * refused by the gateway before the topic (its dead letters) and count as invalid events
 * offered. Null when none were offered. A dead letter counted in the window but written before
 * it is still counted against at least itself.
 */
export function validShare(eventsInWindow: number, invalidOnTopic: number, refusedAtEdge = 0): number | null {
  const onTopic = Math.max(eventsInWindow, invalidOnTopic);
  const offered = onTopic + refusedAtEdge;
  if (offered <= 0) return null;
  return Math.max(0, (onTopic - invalidOnTopic) / offered);
}

/** Remembers when each product's level entered its current state. */
export interface LevelTracker {
  /** Records `state` at `now`; returns since when the level has been in it. */
  observe(product: string, level: LevelName, state: LevelState, now: number): number;
  /** Forgets products no longer announced (bounded by the products that exist). */
  retain(products: ReadonlySet<string>): void;
}

export function createLevelTracker(): LevelTracker {
  const seen = new Map<string, { product: string; state: LevelState; since: number }>();
  return {
    observe(product, level, state, now) {
      const key = `${product}\u0000${level}`;
      const last = seen.get(key);
      if (last && last.state === state) return last.since;
      seen.set(key, { product, state, since: now });
      return now;
    },
    retain(products) {
      for (const [key, v] of seen) if (!products.has(v.product)) seen.delete(key);
    },
  };
}
