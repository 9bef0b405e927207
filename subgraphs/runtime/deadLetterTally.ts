// Counts of dead letters by partition, reason, view and source, kept while they are read so
// that a large dead-letter topic never has to be held in memory. Pure.
import { reasonKind } from './deadLetterHeaders';
import type { DeadLetterEntry } from './deadLetters';

const MAX_GROUP_LENGTH = 120;

/**
 * The reason without what is particular to one record, so that counts by reason add up:
 * a contract violation keeps its field and what was expected but not what was found.
 */
export function reasonGroup(reason: string): string {
  let group = reason;
  switch (reasonKind(reason)) {
    case 'contract': {
      // ContractViolation reads `<path>: expected <what>, found <what>`; only the found part varies.
      const found = reason.lastIndexOf(', found ');
      if (found > 0) group = reason.slice(0, found);
      break;
    }
    case 'key':
      group = 'record key differs from event key';
      break;
    case 'fold':
    case 'other':
      break;
  }
  return group.length > MAX_GROUP_LENGTH ? `${group.slice(0, MAX_GROUP_LENGTH - 1)}…` : group;
}

export interface DeadLetterSummary {
  readonly total: number;
  /** Dead letters read per dead-letter partition, with the first and last offset seen. */
  readonly partitions: ReadonlyArray<{ partition: number; count: number; firstOffset: number; lastOffset: number }>;
  /** Counts by reasonGroup, most frequent first. */
  readonly reasons: ReadonlyArray<{ reason: string; count: number }>;
  /** Counts by the view that dead-lettered them, most frequent first. */
  readonly views: ReadonlyArray<{ view: string; count: number }>;
  /** Counts by source topic partition. */
  readonly sources: ReadonlyArray<{ topic: string; partition: number; count: number }>;
  readonly malformed: number;
  readonly oldest: string | null;
  readonly newest: string | null;
}

export interface DeadLetterTally {
  add(entry: DeadLetterEntry): void;
  summary(): DeadLetterSummary;
}

/** Counts dead letters as they are read, so a large topic never has to be held in memory. */
export function createDeadLetterTally(): DeadLetterTally {
  let total = 0;
  let malformed = 0;
  let oldest: string | null = null;
  let newest: string | null = null;
  const partitions = new Map<number, { partition: number; count: number; firstOffset: number; lastOffset: number }>();
  const reasons = new Map<string, number>();
  const views = new Map<string, number>();
  const sources = new Map<string, { topic: string; partition: number; count: number }>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return {
    add(entry) {
      total++;
      const p = entry.position;
      const part = partitions.get(p.partition);
      if (part) {
        part.count++;
        part.firstOffset = Math.min(part.firstOffset, p.offset);
        part.lastOffset = Math.max(part.lastOffset, p.offset);
      } else partitions.set(p.partition, { partition: p.partition, count: 1, firstOffset: p.offset, lastOffset: p.offset });
      const t = Date.parse(entry.deadLetteredAt);
      if (oldest === null || t < Date.parse(oldest)) oldest = entry.deadLetteredAt;
      if (newest === null || t > Date.parse(newest)) newest = entry.deadLetteredAt;
      switch (entry.kind) {
        case 'malformed':
          malformed++;
          bump(reasons, `(not a dead letter: ${entry.problem})`);
          return;
        case 'deadLetter': {
          bump(reasons, reasonGroup(entry.reason));
          bump(views, entry.view ?? '(no view header)');
          const k = `${entry.source.topic}\u0000${entry.source.partition}`;
          const s = sources.get(k) ?? { topic: entry.source.topic, partition: entry.source.partition, count: 0 };
          s.count++;
          sources.set(k, s);
          return;
        }
      }
    },
    summary: () => ({
      total,
      partitions: [...partitions.values()].sort((a, b) => a.partition - b.partition),
      reasons: ranked(reasons).map(([reason, count]) => ({ reason, count })),
      views: ranked(views).map(([view, count]) => ({ view, count })),
      sources: [...sources.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
      malformed,
      oldest,
      newest,
    }),
  };
}
