// Step 1, decode and validate: a Kafka record becomes a typed event, a record to pass over (its
// `event-type` header names a type the fold ignores) or a poison record with the reason it
// breaks the contract, which is dead-lettered. Pure.
import type { KafkaMessage } from 'kafkajs';
import { ContractViolation, parseRecord, type EventOf, type TopicContract } from '../../../schema/events';
import { keyMismatchReason, REASON_PREFIXES } from '../deadLetterHeaders';
import type { Projection } from '../projection';
import { EVENT_TYPE_HEADER } from '../producer';

interface RecordAt {
  readonly offset: number;
  readonly message: KafkaMessage;
}

export type Decoded<C extends TopicContract> =
  /** A type the fold ignores, known from the record's header: nothing to parse or apply. */
  | (RecordAt & { readonly kind: 'skip' })
  | (RecordAt & { readonly kind: 'event'; readonly event: EventOf<C> })
  | (RecordAt & { readonly kind: 'poison'; readonly reason: string });

export type Poison<C extends TopicContract> = Extract<Decoded<C>, { kind: 'poison' }>;

/** A decoder for one projection's records. */
export function createDecoder<C extends TopicContract, S>(projection: Projection<C, S>): (m: KafkaMessage) => Decoded<C> {
  const folded = projection.types ? new Set<string>(projection.types) : null;
  return (message) => {
    const offset = Number(message.offset);
    if (folded) {
      const type = message.headers?.[EVENT_TYPE_HEADER];
      if (type !== undefined && !folded.has(String(type))) return { kind: 'skip', offset, message };
    }
    try {
      const event = parseRecord(projection.topic, message.key ?? null, message.value);
      // A record that carries nothing to fold (a change-data-capture tombstone).
      if (event === null) return { kind: 'skip', offset, message };
      const key = message.key?.toString('utf8');
      if (key !== event.key) return { kind: 'poison', offset, message, reason: keyMismatchReason(key, event.key) };
      return { kind: 'event', offset, message, event };
    } catch (e) {
      if (e instanceof ContractViolation) return { kind: 'poison', offset, message, reason: `${REASON_PREFIXES.contract}${e.message}` };
      throw e;
    }
  };
}
