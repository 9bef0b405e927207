// The Kafka topics of the product: names, partition counts and cleanup policies.
// This is the single source the topics script applies and that readers use to locate
// a key's partition, so a partition count changes here or nowhere.

/** How a topic is cleaned up by the broker. */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export interface TopicSpec {
  /** The Kafka topic name. */
  readonly name: string;
  /** Partition count. Views locate a key's partition with it, so never change it in place. */
  readonly partitions: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** Retention in ms for `delete` topics; -1 keeps records forever (views can always be rebuilt). */
  readonly retentionMs: number;
  /** What the record key is; every event of the topic is keyed by it. */
  readonly keyedBy: string;
}

/**
 * The domain topics. All keep their records forever: Kafka is the system of record and
 * every view must be rebuildable by replaying its topics from the start.
 */
export const TOPICS = {
  customers: {
    name: 'customers',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: -1,
    keyedBy: 'customerId',
  },
  catalogProducts: {
    name: 'catalog.products',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: -1,
    keyedBy: 'productId',
  },
  catalogInventory: {
    name: 'catalog.inventory',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: -1,
    keyedBy: 'storeId',
  },
  orders: {
    name: 'orders',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: -1,
    keyedBy: 'orderId',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof TOPICS;
export type TopicName = (typeof TOPICS)[TopicKey]['name'];

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

/** Every topic the product needs, domain topics and their dead-letter topics. */
export function allTopicSpecs(): TopicSpec[] {
  const domain: TopicSpec[] = Object.values(TOPICS);
  return [...domain, ...domain.map(dlqSpec)];
}

/** Looks up a declared topic by its Kafka name. */
export function topicSpec(name: string): TopicSpec | undefined {
  return allTopicSpecs().find((t) => t.name === name);
}
