// Dead letters as the projection runner writes them to `<topic>.dlq`, read back: where each
// came from and why, a readable snippet of its bytes, counts by reason, and which of them a
// replay may re-publish. Pure; the Kafka and Redis side is deadLetterTopic.ts.
import type { IHeaders } from 'kafkajs';
import { dlqTopicName } from '../../schema/events';

/** The headers projectionRunner puts on every dead letter (its value is the original bytes). */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  /** Absent when the original record had no key. */
  sourceKey: 'dlq-source-key',
  view: 'dlq-view',
  at: 'dlq-at',
} as const;

/** Put on a re-published record: the dead letter (`<dlq topic>:<partition>:<offset>`) it came from. */
export const REPLAYED_FROM_HEADER = 'dlq-replayed-from';

export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A record as read from a dead-letter topic, before it is understood. */
export interface DeadLetterRecord extends RecordPosition {
  /** The broker's record timestamp (ms since epoch). */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

export interface DeadLetter {
  readonly kind: 'deadLetter';
  /** Where the dead letter sits in the dead-letter topic. */
  readonly position: RecordPosition;
  /** Where the original record sits in its own topic. */
  readonly source: RecordPosition;
  /** The original record's key; null when it had none. */
  readonly sourceKey: Buffer | null;
  /** The original record's value, byte for byte. */
  readonly value: Buffer | null;
  readonly reason: string;
  /** The view that could not apply it; null when the header is missing. */
  readonly view: string | null;
  /** When it was dead-lettered (ISO), from `dlq-at` or else the record timestamp. */
  readonly deadLetteredAt: string;
}

/** A record on a dead-letter topic that does not say where it came from: it cannot be replayed. */
export interface MalformedDeadLetter {
  readonly kind: 'malformed';
  readonly position: RecordPosition;
  readonly problem: string;
  readonly value: Buffer | null;
  readonly deadLetteredAt: string;
}

export type DeadLetterEntry = DeadLetter | MalformedDeadLetter;

function header(headers: IHeaders, name: string): string | undefined {
  const raw = headers[name];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}

function headerBytes(headers: IHeaders, name: string): Buffer | null {
  const raw = headers[name];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

const NON_NEGATIVE_INT = /^\d{1,15}$/;

/** Reads a dead-letter record's headers back into where it came from and why. */
export function parseDeadLetter(record: DeadLetterRecord): DeadLetterEntry {
  const position: RecordPosition = { topic: record.topic, partition: record.partition, offset: record.offset };
  const h = record.headers;
  const at = header(h, DEAD_LETTER_HEADERS.at);
  const deadLetteredAt = at !== undefined && !Number.isNaN(Date.parse(at)) ? at : new Date(record.timestamp).toISOString();
  const topic = header(h, DEAD_LETTER_HEADERS.sourceTopic);
  const partition = header(h, DEAD_LETTER_HEADERS.sourcePartition);
  const offset = header(h, DEAD_LETTER_HEADERS.sourceOffset);
  const malformed = (problem: string): MalformedDeadLetter => ({ kind: 'malformed', position, problem, value: record.value, deadLetteredAt });
  if (!topic) return malformed(`header ${DEAD_LETTER_HEADERS.sourceTopic} is missing`);
  if (partition === undefined || !NON_NEGATIVE_INT.test(partition))
    return malformed(`header ${DEAD_LETTER_HEADERS.sourcePartition} is ${partition === undefined ? 'missing' : JSON.stringify(partition)}, not a partition number`);
  if (offset === undefined || !NON_NEGATIVE_INT.test(offset))
    return malformed(`header ${DEAD_LETTER_HEADERS.sourceOffset} is ${offset === undefined ? 'missing' : JSON.stringify(offset)}, not an offset`);
  return {
    kind: 'deadLetter',
    position,
    source: { topic, partition: Number(partition), offset: Number(offset) },
    sourceKey: headerBytes(h, DEAD_LETTER_HEADERS.sourceKey),
    value: record.value,
    reason: header(h, DEAD_LETTER_HEADERS.reason) ?? 'unknown',
    view: header(h, DEAD_LETTER_HEADERS.view) ?? null,
    deadLetteredAt,
  };
}

/** `topic[partition]@offset`, the way logs and errors of this project name a record. */
export function formatPosition(p: RecordPosition): string {
  return `${p.topic}[${p.partition}]@${p.offset}`;
}

/** What kind of failure a runner reason describes (see projectionRunner's parse and fold). */
export type ReasonKind = 'contract' | 'key' | 'fold' | 'other';

export function reasonKind(reason: string): ReasonKind {
  if (reason.startsWith('contract: ')) return 'contract';
  if (reason.startsWith('fold: ')) return 'fold';
  if (reason.startsWith('record key ')) return 'key';
  return 'other';
}

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

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Record bytes as one readable line: text (control characters escaped) when they are UTF-8,
 * else hex; cut at `max` characters with what was left out.
 */
export function snippet(bytes: Buffer | null, max = 200): string {
  if (bytes === null) return '(no value)';
  if (bytes.length === 0) return '(empty value)';
  let text: string | null;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = null;
  }
  if (text !== null) {
    const escaped = text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
      const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
      return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    });
    if (escaped.length <= max) return escaped;
    const shown = escaped.slice(0, max);
    return `${shown}… (+${bytes.length - Buffer.byteLength(shown, 'utf8')} bytes)`;
  }
  const shownBytes = Math.max(1, Math.floor(max / 3));
  const hex = bytes.subarray(0, shownBytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return `hex ${hex}${bytes.length > shownBytes ? `… (+${bytes.length - shownBytes} bytes)` : ''}`;
}

/**
 * The dead-letter topic an operator means by `name`: a source topic or a dead-letter topic,
 * with or without the namespace (STREAMGRAPH_NAMESPACE) in front.
 */
export function deadLetterTopicFor(name: string, namespace = ''): string {
  const inNamespace = namespace && !name.startsWith(namespace) ? `${namespace}${name}` : name;
  return inNamespace.endsWith('.dlq') ? inNamespace : dlqTopicName(inNamespace);
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
