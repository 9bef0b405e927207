// Dead letters of the last day, counted by reason and by source record: what the catalog shows
// per product and what its valid share is computed from. Every dead letter counts once by its own
// position in the dead-letter topic (read twice, still once). For the share, a record that
// reached the topic counts once however many views dead-lettered it (by its source position);
// an event the gateway refused at the edge never reached the topic (source offset -1, every one
// of a partition alike), so it counts by its dead letter's position, apart, as an invalid event
// offered to the topic. Bounded: at most MAX_KEPT per dead-letter topic (beyond that the oldest
// are dropped and `dropped` says how many). Pure.
import { reasonGroup, type DeadLetter, type DeadLetterEntry } from '../runtime/deadLetters';

export const DAY_MS = 24 * 3600_000;
export const HOUR_MS = 3600_000;
const MAX_KEPT = 10_000;
const MAX_REASONS = 20;

interface Kept {
  readonly at: number;
  readonly reason: string;
  /**
   * `topic/partition/offset` of the original record: several views dead-lettering one record
   * count once; null for an event refused at the edge, which has no position of its own.
   */
  readonly source: string | null;
  /** `partition/offset` in the dead-letter topic: a dead letter read twice (the reader rejoined) counts once. */
  readonly position: string;
}

export interface DeadLetterCounts {
  readonly lastHour: number;
  readonly lastDay: number;
  /** Distinct records on the topics dead-lettered within the last hour (not those refused at the edge). */
  readonly sourcesLastHour: number;
  /** Events refused at the edge within the last hour (each once): they never reached the topics. */
  readonly refusedLastHour: number;
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

/** A dead letter the gateway wrote for an event it refused (parseDeadLetter gives it source offset -1). */
function isRefusedAtEdge(entry: DeadLetter): boolean {
  return entry.source.offset < 0;
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
      const position = `${entry.position.partition}/${entry.position.offset}`;
      const source =
        entry.kind === 'malformed'
          ? `${dlqTopic}/${position}`
          : isRefusedAtEdge(entry)
            ? null
            : `${entry.source.topic}/${entry.source.partition}/${entry.source.offset}`;
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
      let refusedLastHour = 0;
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
            if (k.source === null) refusedLastHour++;
            else sources.add(k.source);
          }
          reasons.set(k.reason, r);
        }
      }
      const byReason = [...reasons.values()].sort((a, b) => b.lastDay - a.lastDay || a.reason.localeCompare(b.reason)).slice(0, MAX_REASONS);
      return { lastHour, lastDay, sourcesLastHour: sources.size, refusedLastHour, byReason };
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
