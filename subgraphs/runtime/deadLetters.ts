// Dead letters as the projection runtime writes them to `<topic>.dlq` (deadLetterHeaders.ts),
// read back: where each came from and why, and a readable snippet of its bytes. Counting them
// is deadLetterTally.ts, deciding replays replayPlanner.ts; the Kafka and Redis side is
// deadLetterTopic.ts. All pure.
import type { IHeaders } from 'kafkajs';
import { dlqTopicName } from '../../schema/events';
import { DEAD_LETTER_HEADERS } from './deadLetterHeaders';

export { DEAD_LETTER_HEADERS, REPLAYED_FROM_HEADER, reasonKind, type ReasonKind } from './deadLetterHeaders';
export { createDeadLetterTally, reasonGroup, type DeadLetterSummary, type DeadLetterTally } from './deadLetterTally';
export {
  createReplayPlanner,
  type HeldBack,
  type ReplayCounts,
  type ReplayDecision,
  type ReplayPlanner,
  type ReplayRules,
} from './replayPlanner';

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
  /**
   * Where the original record sits in its own topic; offset -1 for one refused at the edge
   * (header dlq-edge), which never reached the topic (its partition is its key's).
   */
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
  const edge = offset === undefined && header(h, DEAD_LETTER_HEADERS.edge) !== undefined;
  if (!edge && (offset === undefined || !NON_NEGATIVE_INT.test(offset)))
    return malformed(`header ${DEAD_LETTER_HEADERS.sourceOffset} is ${offset === undefined ? 'missing' : JSON.stringify(offset)}, not an offset`);
  return {
    kind: 'deadLetter',
    position,
    source: { topic, partition: Number(partition), offset: edge ? -1 : Number(offset) },
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
