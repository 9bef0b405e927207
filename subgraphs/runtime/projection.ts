// What a view is: a pure fold of a topic's events into entity states. The runtime
// around it (projectionRunner) does all Kafka and Redis I/O.
import type { EventOf, EventTypeOf, TopicContract } from '../../schema/events';

/** Where an event sits on the log, handed to folds that record it (e.g. as a version). */
export interface EventPosition {
  readonly partition: number;
  readonly offset: number;
  readonly occurredAt: string;
}

/** The states of the entities a fold may read; missing means the entity does not exist yet. */
export type ViewSnapshot<S> = ReadonlyMap<string, S | undefined>;

/** A sorted-set membership derived from an entity's state (e.g. orders of a customer by time). */
export interface IndexEntry {
  readonly index: string;
  readonly score: number;
}

export interface Projection<C extends TopicContract, S> {
  /** The view's name: part of its Redis keys, its consumer group and its metric labels. */
  readonly name: string;
  /** The contract of the topic it folds: its events type the fold. */
  readonly topic: C;
  /** Ids of the entities whose state the fold of `event` reads or changes. */
  reads(event: EventOf<C>): readonly string[];
  /**
   * The fold: pure, deterministic, no I/O. Returns the new state of each entity it changes
   * (undefined deletes it). It may only change entities named by `reads`.
   */
  apply(view: ViewSnapshot<S>, event: EventOf<C>, at: EventPosition): ReadonlyMap<string, S | undefined>;
  /**
   * The record key whose partition holds an entity, when entities are keyed like their topic
   * (then a read touches one partition). Null when an entity's state is spread over all
   * partitions (e.g. per-customer counters built from an orders topic keyed by order id);
   * then `combine` merges the per-partition parts.
   */
  recordKeyOf(entityId: string): string | null;
  /** Merges the per-partition parts of a spread entity. Required when recordKeyOf can be null. */
  combine?(parts: readonly S[]): S;
  /** Sorted-set memberships of an entity; the runtime keeps them in step with the state. */
  indexes?(entityId: string, state: S): readonly IndexEntry[];
  /**
   * For a source that delivers at least once (change data capture re-sends changes after a
   * connector crash): whether `event` is a change the view already holds, e.g. by the source's
   * log position per entity. Such events are skipped and counted (PartitionStats.resent), never
   * applied twice. Pure. Unset: every event is applied.
   */
  alreadyApplied?(view: ViewSnapshot<S>, event: EventOf<C>): boolean;
  /** Whether a change to an entity publishes a notice (default: yes). */
  readonly notify?: boolean;
  /**
   * The event types this fold changes anything for. Records whose `event-type` header (set by
   * the producer) names another type are passed over without being parsed or validated: a view
   * of order totals need not pay for every delivery estimate. Records without the header are
   * always parsed. Unset: every record is parsed and folded.
   */
  readonly types?: readonly EventTypeOf<C>[];
}

/**
 * Folds `events` from an empty view, independently of Kafka and Redis.
 * Tests use it as the truth a projected view must equal.
 */
export function foldAll<C extends TopicContract, S>(
  projection: Projection<C, S>,
  events: Iterable<{ event: EventOf<C>; at: EventPosition }>,
): Map<string, S> {
  const view = new Map<string, S | undefined>();
  for (const { event, at } of events) {
    for (const [id, state] of projection.apply(view, event, at)) view.set(id, state);
  }
  const out = new Map<string, S>();
  for (const [id, s] of view) if (s !== undefined) out.set(id, s);
  return out;
}

/**
 * A projection of some topic, as lists of views hold them (declarations, the CLIs). `any`
 * stands for "its own contract": each projection keeps its types where it is declared.
 */
export type AnyProjection = Projection<TopicContract<any>, unknown>;
