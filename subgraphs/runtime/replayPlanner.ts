// Which dead letters a replay re-publishes: each source record once, and only when no view
// that reads its topic applied it. Pure; deadLetterTopic.ts does the reading and publishing.
import type { DeadLetter, DeadLetterEntry } from './deadLetters';

export interface ReplayRules {
  /** Only dead letters whose reason contains this text (ignoring case). */
  readonly whereReason?: string;
  /**
   * The views that read a source topic. A source record is replayed only once every one of
   * them has dead-lettered it: a view that applied it would apply it again. Undefined (or
   * no views) means not known, and nothing is held back.
   */
  readonly consumersOf?: (sourceTopic: string) => readonly string[] | undefined;
  /** Replay records that only some views dead-lettered too. @default false */
  readonly includePartial?: boolean;
}

export type ReplayDecision =
  | { readonly action: 'replay'; readonly deadLetter: DeadLetter }
  | { readonly action: 'skip'; readonly why: 'malformed' | 'not-matching' | 'duplicate' | 'partial' };

/** A source record held back: some views that read its topic did not dead-letter it. */
export interface HeldBack {
  readonly deadLetter: DeadLetter;
  /** The views that dead-lettered it. */
  readonly failedIn: readonly string[];
  /** The views that read its topic and did not (in the dead letters read). */
  readonly notIn: readonly string[];
}

export interface ReplayCounts {
  /** Source records to re-publish (each once, however many views dead-lettered it). */
  readonly replayed: number;
  /** Dead letters of a source record that is replayed through another of its dead letters. */
  readonly duplicates: number;
  /** Dead letters whose reason does not match `whereReason`. */
  readonly notMatching: number;
  readonly malformed: number;
  /** Source records held back (see heldBack()). */
  readonly heldBack: number;
}

export interface ReplayPlanner {
  /** Decides about the next dead letter, in topic order. */
  decide(entry: DeadLetterEntry): ReplayDecision;
  heldBack(): HeldBack[];
  counts(): ReplayCounts;
}

/** Only held-back records may still be published; the rest need not keep their bytes in memory. */
const withoutValue = (d: DeadLetter): DeadLetter => (d.value === null ? d : { ...d, value: null });

/**
 * Decides which dead letters a replay re-publishes: each source record once, those matching
 * the reason filter, and only when every view that reads its topic failed on it. A record
 * that a later dead letter completes (another view failed on it too) is replayed then.
 */
export function createReplayPlanner(rules: ReplayRules = {}): ReplayPlanner {
  const needle = rules.whereReason?.toLowerCase();
  interface SourceState {
    first: DeadLetter;
    deadLetters: number;
    matched: boolean;
    replayed: boolean;
    failedIn: Set<string>;
  }
  const sources = new Map<string, SourceState>();
  let malformed = 0;
  const missingViews = (s: SourceState): string[] => {
    if (rules.includePartial) return [];
    const consumers = rules.consumersOf?.(s.first.source.topic) ?? [];
    return consumers.filter((v) => !s.failedIn.has(v));
  };
  return {
    decide(entry) {
      if (entry.kind === 'malformed') {
        malformed++;
        return { action: 'skip', why: 'malformed' };
      }
      const key = `${entry.source.topic}\u0000${entry.source.partition}\u0000${entry.source.offset}`;
      const matches = needle === undefined || entry.reason.toLowerCase().includes(needle);
      let s = sources.get(key);
      if (!s) {
        s = { first: entry, deadLetters: 0, matched: false, replayed: false, failedIn: new Set() };
        sources.set(key, s);
      }
      s.deadLetters++;
      // Every view's failure counts, matching or not: the question is whether any view applied it.
      if (entry.view !== null) s.failedIn.add(entry.view);
      if (matches && !s.matched) {
        s.matched = true;
        s.first = entry;
      }
      if (s.replayed) return { action: 'skip', why: 'duplicate' };
      if (!s.matched) {
        s.first = withoutValue(s.first);
        return { action: 'skip', why: 'not-matching' };
      }
      if (missingViews(s).length > 0) return { action: 'skip', why: 'partial' };
      s.replayed = true;
      const chosen = s.first;
      s.first = withoutValue(chosen);
      return { action: 'replay', deadLetter: chosen };
    },
    heldBack() {
      return [...sources.values()]
        .filter((s) => s.matched && !s.replayed)
        .map((s) => ({ deadLetter: s.first, failedIn: [...s.failedIn].sort(), notIn: missingViews(s).sort() }));
    },
    counts() {
      let replayed = 0;
      let duplicates = 0;
      let notMatching = 0;
      let heldBack = 0;
      for (const s of sources.values()) {
        if (s.replayed) {
          replayed++;
          duplicates += s.deadLetters - 1;
        } else if (s.matched) heldBack++;
        else notMatching += s.deadLetters;
      }
      return { replayed, duplicates, notMatching, malformed, heldBack };
    },
  };
}
