// The dead-letter record format, in one place: the headers and reasons the projection runtime
// writes on `<topic>.dlq`, which the dead-letter tools (deadLetters.ts, `npm run dlq`) read back.
import type { IHeaders } from 'kafkajs';

/** The headers on every dead letter (its value is the original record's bytes). */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  /** Absent when the original record had no key. */
  sourceKey: 'dlq-source-key',
  view: 'dlq-view',
  at: 'dlq-at',
  /**
   * Set on a dead letter refused at the edge (the gateway's POST /events checks client events
   * against their contract before they reach the topic): it never had a source offset.
   */
  edge: 'dlq-edge',
} as const;

/** Put on a re-published record: the dead letter (`<dlq topic>:<partition>:<offset>`) it came from. */
export const REPLAYED_FROM_HEADER = 'dlq-replayed-from';

/**
 * How a reason starts, by what went wrong: the record broke the event contract, its record key
 * differs from its event's key, or the view's fold refused the event.
 */
export const REASON_PREFIXES = {
  contract: 'contract: ',
  key: 'record key ',
  fold: 'fold: ',
} as const;

export type ReasonKind = keyof typeof REASON_PREFIXES | 'other';

export function reasonKind(reason: string): ReasonKind {
  for (const kind of Object.keys(REASON_PREFIXES) as (keyof typeof REASON_PREFIXES)[])
    if (reason.startsWith(REASON_PREFIXES[kind])) return kind;
  return 'other';
}

/** The reason for a record whose key is not its event's key. */
export function keyMismatchReason(recordKey: string | undefined, eventKey: string): string {
  return `${REASON_PREFIXES.key}${JSON.stringify(recordKey ?? null)} differs from event key ${JSON.stringify(eventKey)}`;
}

/** Where a dead letter came from, and why it is one. */
export interface DeadLetterOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The original record's key, when it had one. */
  readonly key: Buffer | null;
  readonly view: string;
  readonly reason: string;
  readonly at: Date;
}

/** The record key of a dead letter: its source position, so a repeated one is recognisable. */
export function deadLetterKey(o: Pick<DeadLetterOrigin, 'topic' | 'partition' | 'offset'>): string {
  return `${o.topic}:${o.partition}:${o.offset}`;
}

/** The headers of a dead letter, as parseDeadLetter (deadLetters.ts) reads them. */
export function deadLetterHeaders(o: DeadLetterOrigin): IHeaders {
  const h = DEAD_LETTER_HEADERS;
  return {
    [h.reason]: o.reason,
    [h.sourceTopic]: o.topic,
    [h.sourcePartition]: String(o.partition),
    [h.sourceOffset]: String(o.offset),
    [h.view]: o.view,
    [h.at]: o.at.toISOString(),
    ...(o.key ? { [h.sourceKey]: o.key } : {}),
  };
}
