// The versioned event envelope and the one parser every consumer uses:
// parseEvent(topic, bytes) returns a typed event or throws a ContractViolation.
import { randomUUID } from 'node:crypto';
import { PAYLOADS, type EventTopicKey, type EventTypeOf, type PayloadOf } from './payloads';
import { TOPICS } from './topics';
import { ContractViolation, describe, int, isoTime, obj, str } from './validate';

/** The envelope version this code writes and reads. Readers reject versions they do not know. */
export const ENVELOPE_VERSION = 1;

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

/** Any event of topic K, discriminated by `type`. */
export type EventOf<K extends EventTopicKey> = {
  [T in EventTypeOf<K>]: Envelope<T, PayloadOf<K, T>>;
}[EventTypeOf<K>];

/** The event of type T on topic K. */
export type EventOfType<K extends EventTopicKey, T extends EventTypeOf<K>> = Envelope<T, PayloadOf<K, T>>;

const envelopeShape = obj({
  eventId: str({ max: 128 }),
  type: str({ max: 100 }),
  version: int({ min: 1 }),
  occurredAt: isoTime(),
  key: str({ max: 256 }),
  payload: (v: unknown) => v,
});

/**
 * Parses and validates the bytes of a record from a topic of kind `topic`.
 * Throws ContractViolation (never retriable) naming the field, what was expected and what was found.
 */
export function parseEvent<K extends EventTopicKey>(topic: K, bytes: Buffer | string | null): EventOf<K> {
  if (bytes === null || bytes.length === 0) throw new ContractViolation('record', 'a JSON event', 'an empty value');
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    throw new ContractViolation('record', 'a JSON event', `invalid JSON (${(e as Error).message})`);
  }
  return validateEvent(topic, raw);
}

/** Validates an already-decoded event object against the contract of topic K. */
export function validateEvent<K extends EventTopicKey>(topic: K, raw: unknown): EventOf<K> {
  const env = envelopeShape(raw, 'event');
  const checks = PAYLOADS[topic] as Record<string, (v: unknown, path: string) => unknown>;
  const check = Object.prototype.hasOwnProperty.call(checks, env.type) ? checks[env.type] : undefined;
  if (!check)
    throw new ContractViolation('event.type', `one of ${Object.keys(checks).join(', ')}`, describe(env.type));
  if (env.version !== ENVELOPE_VERSION)
    throw new ContractViolation('event.version', `${ENVELOPE_VERSION}`, describe(env.version));
  const payload = check(env.payload, 'event.payload') as Record<string, unknown>;
  const keyField = TOPICS[topic].keyedBy;
  if (payload[keyField] !== env.key)
    throw new ContractViolation('event.key', `the payload's ${keyField} (${describe(payload[keyField])})`, describe(env.key));
  return { ...env, payload } as EventOf<K>;
}

/** Builds a new event of type T on topic K, validated before it can reach the log. */
export function createEvent<K extends EventTopicKey, T extends EventTypeOf<K>>(
  topic: K,
  type: T,
  payload: PayloadOf<K, T>,
  opts: { eventId?: string; occurredAt?: string } = {},
): EventOfType<K, T> {
  const keyField = TOPICS[topic].keyedBy;
  const event = {
    eventId: opts.eventId ?? randomUUID(),
    type,
    version: ENVELOPE_VERSION,
    occurredAt: opts.occurredAt ?? new Date().toISOString(),
    key: String((payload as Record<string, unknown>)[keyField]),
    payload,
  };
  validateEvent(topic, event);
  return event as EventOfType<K, T>;
}

/** The record value of an event. */
export function encodeEvent(event: Envelope<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(event));
}
