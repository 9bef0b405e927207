// Dead letters of the last day, counted by reason and by source record: what the catalog shows
// per product and what its valid share is computed from. Bounded: at most MAX_KEPT per
// dead-letter topic (beyond that the oldest are dropped and `dropped` says how many). Pure.
import { reasonGroup, type DeadLetterEntry } from '../runtime/deadLetters';

export const DAY_MS = 24 * 3600_000;
export const HOUR_MS = 3600_000;
const MAX_KEPT = 10_000;
const MAX_REASONS = 20;

interface Kept {
  readonly at: number;
  readonly reason: string;
  /** `topic/partition/offset` of the original record: several views dead-lettering one record count once. */
  readonly source: string;
  /** `partition/offset` in the dead-letter topic: a dead letter read twice (the reader rejoined) counts once. */
  readonly position: string;
}

export interface DeadLetterCounts {
  readonly lastHour: number;
  readonly lastDay: number;
  /** Distinct source records dead-lettered within the last hour. */
  readonly sourcesLastHour: number;
  readonly byReason: ReadonlyArray<{ reason: string; lastHour: number; lastDay: number }>;
}

export interface DeadLetterWindow {
  add(dlqTopic: string, entry: DeadLetterEntry): void;
  /** Counts over `dlqTopics` at `now`. */
  counts(dlqTopics: readonly string[], now: number): DeadLetterCounts;
  /** Forgets everything (the reader starts again from the beginning). */
  clear(): void;
  readonly dropped: number;
}

export function createDeadLetterWindow(): DeadLetterWindow {
  const kept = new Map<string, Kept[]>();
  const seen = new Map<string, Set<string>>();
  let dropped = 0;
  const keep = (topic: string, list: Kept[]) => {
    kept.set(topic, list);
    seen.set(topic, new Set(list.map((k) => k.position)));
  };
  return {
    add(dlqTopic, entry) {
      const at = Date.parse(entry.deadLetteredAt);
      if (Number.isNaN(at) || Date.now() - at > DAY_MS) return;
      const reason = entry.kind === 'deadLetter' ? reasonGroup(entry.reason) : '(malformed dead letter)';
      const source = entry.kind === 'deadLetter' ? `${entry.source.topic}/${entry.source.partition}/${entry.source.offset}` : `dlq/${entry.position.offset}`;
      const position = `${entry.position.partition}/${entry.position.offset}`;
      if (seen.get(dlqTopic)?.has(position)) return;
      const list = kept.get(dlqTopic) ?? [];
      list.push({ at, reason, source, position });
      if (list.length > MAX_KEPT) {
        list.sort((a, b) => a.at - b.at);
        dropped += list.length - MAX_KEPT;
        list.splice(0, list.length - MAX_KEPT);
        keep(dlqTopic, list);
      } else {
        kept.set(dlqTopic, list);
        seen.set(dlqTopic, (seen.get(dlqTopic) ?? new Set()).add(position));
      }
    },
    counts(dlqTopics, now) {
      let lastHour = 0;
      let lastDay = 0;
      const sources = new Set<string>();
      const reasons = new Map<string, { reason: string; lastHour: number; lastDay: number }>();
      for (const topic of dlqTopics) {
        const all = kept.get(topic) ?? [];
        const list = all.filter((k) => now - k.at <= DAY_MS);
        if (list.length !== all.length) keep(topic, list);
        for (const k of list) {
          const r = reasons.get(k.reason) ?? { reason: k.reason, lastHour: 0, lastDay: 0 };
          r.lastDay++;
          lastDay++;
          if (now - k.at <= HOUR_MS) {
            r.lastHour++;
            lastHour++;
            sources.add(k.source);
          }
          reasons.set(k.reason, r);
        }
      }
      const byReason = [...reasons.values()].sort((a, b) => b.lastDay - a.lastDay || a.reason.localeCompare(b.reason)).slice(0, MAX_REASONS);
      return { lastHour, lastDay, sourcesLastHour: sources.size, byReason };
    },
    clear() {
      kept.clear();
      seen.clear();
    },
    get dropped() {
      return dropped;
    },
  };
}
