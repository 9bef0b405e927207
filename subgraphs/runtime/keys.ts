// The Redis key layout of views. Every key that one projection write touches lives in
// one topic-partition's hash-tag slot, so the atomic write script works on Redis Cluster.

/** Where one generation of a view keeps the state built from one topic partition. */
export interface PartitionKeys {
  /** The last applied offset of the partition (a decimal string), absent before the first write. */
  readonly checkpoint: string;
  /** JSON `{ lastEventAt, appliedAt }`, for freshness. */
  readonly meta: string;
  entity(id: string): string;
  index(name: string): string;
}

/**
 * Keys of `view` generation `gen` for `topic` partition `partition`.
 * The hash tag `{view:gen:topic:partition}` spreads partitions over a cluster's slots while
 * keeping each partition's keys together.
 */
export function partitionKeys(view: string, gen: string, topic: string, partition: number): PartitionKeys {
  const prefix = `sg:v:{${view}:${gen}:${topic}:${partition}}`;
  return {
    checkpoint: `${prefix}:cp`,
    meta: `${prefix}:meta`,
    entity: (id) => `${prefix}:e:${id}`,
    index: (name) => `${prefix}:i:${name}`,
  };
}

/** The pattern that matches every key one partition holds in a view generation. */
export function partitionPattern(view: string, gen: string, topic: string, partition: number): string {
  return `sg:v:{${view}:${gen}:${topic}:${partition}}:*`;
}

/** The pattern that matches every key of a view generation (for deleting an old generation). */
export function generationPattern(view: string, gen: string): string {
  return `sg:v:{${view}:${gen}:*`;
}

/** The key that names the generation readers and writers of `view` use now. */
export function activeGenerationKey(view: string): string {
  return `sg:gen:${view}`;
}

/** The generation a view starts with, and falls back to when its pointer is lost. */
export const INITIAL_GENERATION = 'g0';

/** Pub/sub channels of a view. */
export function viewChannels(view: string): { notices: string; applied: string; generation: string } {
  return {
    notices: `sg:notice:${view}`,
    applied: `sg:applied:${view}`,
    generation: `sg:genswitch:${view}`,
  };
}
