// The versioned event envelope and the one parser every consumer uses:
// parseEvent(contract, bytes) returns an event typed by the contract or throws a ContractViolation.
import { randomUUID } from 'node:crypto';
import type { EventTypeOf, PayloadOf, TopicContract } from './contract';
import { ContractViolation, describe, int, isoTime, obj, str } from './validate';

export interface Envelope<T extends string, P> {
  /** Unique per event; producers may retry, so consumers must not assume it is unique on the log. */
  readonly eventId: string;
  readonly type: T;
  /** Contract version of `type`'s payload. */
  readonly version: number;
  readonly occurredAt: string;
  /** The entity key; equal to the Kafka record key and to the payload's key field. */
  readonly key: string;
  readonly payload: P;
}

/** Any event of contract C, discriminated by `type`. */
export type EventOf<C extends TopicContract> = {
  [T in EventTypeOf<C>]: Envelope<T, PayloadOf<C, T>>;
}[EventTypeOf<C>];

/** The event of type T of contract C. */
export type EventOfType<C extends TopicContract, T extends EventTypeOf<C>> = Envelope<T, PayloadOf<C, T>>;

const envelopeShape = obj({
  eventId: str({ max: 128 }),
  type: str({ max: 100 }),
  version: int({ min: 1 }),
  occurredAt: isoTime(),
  key: str({ max: 256 }),
  payload: (v: unknown) => v,
});

/**
 * Parses and validates the bytes of a record from a topic with contract `topic`.
 * Throws ContractViolation (never retriable) naming the field, what was expected and what was found.
 */
export function parseEvent<C extends TopicContract>(topic: C, bytes: Buffer | string | null): EventOf<C> {
  if (bytes === null || bytes.length === 0) throw new ContractViolation('record', 'a JSON event', 'an empty value');
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    throw new ContractViolation('record', 'a JSON event', `invalid JSON (${(e as Error).message})`);
  }
  return validateEvent(topic, raw);
}

/**
 * Parses a record of a topic with contract `topic`, whatever its format: the envelope itself,
 * or what the contract's `fromRecord` makes of a foreign record. Null: nothing to fold.
 */
export function parseRecord<C extends TopicContract>(topic: C, key: Buffer | null, value: Buffer | null): EventOf<C> | null {
  if (!topic.fromRecord) return parseEvent(topic, value);
  const raw = topic.fromRecord(key, value);
  return raw === null ? null : validateEvent(topic, raw);
}

/** Validates an already-decoded event object against contract C. */
export function validateEvent<C extends TopicContract>(topic: C, raw: unknown): EventOf<C> {
  const env = envelopeShape(raw, 'event');
  const spec = Object.prototype.hasOwnProperty.call(topic.events, env.type) ? topic.events[env.type] : undefined;
  if (!spec)
    throw new ContractViolation('event.type', `one of ${Object.keys(topic.events).join(', ')}`, describe(env.type));
  if (env.version !== spec.version) throw new ContractViolation('event.version', `${spec.version}`, describe(env.version));
  const payload = spec.payload(env.payload, 'event.payload') as Record<string, unknown>;
  const keyField = topic.keyedBy;
  if (payload[keyField] !== env.key)
    throw new ContractViolation('event.key', `the payload's ${keyField} (${describe(payload[keyField])})`, describe(env.key));
  return { ...env, payload } as EventOf<C>;
}

/** Builds a new event of type T of contract C, validated before it can reach the log. */
export function createEvent<C extends TopicContract, T extends EventTypeOf<C>>(
  topic: C,
  type: T,
  payload: PayloadOf<C, T>,
  opts: { eventId?: string; occurredAt?: string } = {},
): EventOfType<C, T> {
  const keyField = topic.keyedBy;
  const event = {
    eventId: opts.eventId ?? randomUUID(),
    type,
    version: topic.events[type].version,
    occurredAt: opts.occurredAt ?? new Date().toISOString(),
    key: String((payload as Record<string, unknown>)[keyField]),
    payload,
  };
  validateEvent(topic, event);
  return event as EventOfType<C, T>;
}

/** The record value of an event. */
export function encodeEvent(event: Envelope<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(event));
}
