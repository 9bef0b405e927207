// What a topic contract is: one value holding the Kafka topic (name, partitions, cleanup and
// retention), what its record key is, the event types it carries (each with its version and
// payload check) and the team that owns it. Producers, projections, the runtime and the CLIs
// all take these values; nothing looks a topic up by a key in a shared table.
import type { Check, Checked } from './validate';

/** How a topic is cleaned up by the broker. */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** What the topic creator (infra/topics.ts) needs to create a topic. */
export interface TopicSpec {
  /** The Kafka topic name. */
  readonly name: string;
  /** Partition count. Views locate a key's partition with it, so never change it in place. */
  readonly partitions: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** Retention in ms for `delete` topics; -1 keeps records forever (views can always be rebuilt). */
  readonly retentionMs: number;
  /** What the record key is: the payload field every event of the topic is keyed by. */
  readonly keyedBy: string;
}

/** One event type of a topic: the version its envelope carries and the check of its payload. */
export interface EventSpec<P = unknown> {
  /** Written in the envelope's `version`; a record with another version is refused. */
  readonly version: number;
  readonly payload: Check<P>;
}

export type EventSpecs = Readonly<Record<string, EventSpec>>;

/** A topic's whole contract, as a value. `Events` types everything built from it. */
export interface TopicContract<Events extends EventSpecs = EventSpecs> extends TopicSpec {
  /** The event types the topic carries. A new type is added here; a type is never removed. */
  readonly events: Events;
  /** The team (subgraph) that writes the topic; others only read it. */
  readonly owner: string;
  /**
   * For a topic another system writes in its own format (change data capture): turns a record
   * into this contract's event envelope (still validated by `events`), or null for a record
   * that carries nothing to fold (a tombstone). Throws ContractViolation. Unset: the record's
   * value is the envelope (parseEvent).
   */
  readonly fromRecord?: (key: Buffer | null, value: Buffer | null) => unknown;
}

/** Declares a topic contract, keeping each event type's payload type for what is built from it. */
export function defineTopic<const Events extends EventSpecs>(contract: TopicContract<Events>): TopicContract<Events> {
  return contract;
}

/** Event type names of a contract. */
export type EventTypeOf<C extends TopicContract> = keyof C['events'] & string;
/** The payload of event type T of a contract. */
export type PayloadOf<C extends TopicContract, T extends EventTypeOf<C>> = Checked<C['events'][T]['payload']>;

/** The dead-letter topic that receives the events of `topic` that could not be applied. */
export function dlqTopicName(topic: string): string {
  return `${topic}.dlq`;
}

/** Dead-letter topics: one partition is plenty, they hold only the rare bad event. */
export function dlqSpec(topic: TopicSpec): TopicSpec {
  return {
    name: dlqTopicName(topic.name),
    partitions: 1,
    cleanupPolicy: 'delete',
    retentionMs: 30 * 24 * 3600 * 1000,
    keyedBy: 'source offset',
  };
}

/** What to create for `topics`: each once, then each one's dead-letter topic. */
export function topicSpecsWithDeadLetters(topics: readonly TopicSpec[]): TopicSpec[] {
  const domain = [...new Map(topics.map((t) => [t.name, t])).values()];
  return [...domain, ...domain.map(dlqSpec)];
}
