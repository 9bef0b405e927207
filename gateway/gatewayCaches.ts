// The gateway's caches keyed by client input, each bounded in bytes: together their budgets
// bound what clients can make the gateway keep (README, "Memory ceiling").
import type { DocumentNode } from 'graphql';
import type { Cluster, Redis } from 'ioredis';
import { RedisKeyValueCache } from './apqCache';
import { createBoundedCache, estimateDocumentBytes, type BoundedCache } from './boundedCache';
import { createAdmittedDocumentStore, type AdmittedDocumentStore } from './documentStore';
import { createPlanCache, type SubscriptionPlan } from './subscriptions/subscriptionPlanner';

/** Estimated bytes each cache keyed by client input may hold; together they bound what clients can make the gateway keep. */
export interface CacheBudgets {
  /** Parsed documents of queries and mutations that passed validation and every limit (HTTP and graphql-ws). */
  readonly documents: number;
  /** Parsed subscription documents that passed validation and every limit. */
  readonly subscriptionDocuments: number;
  /** Subscription plans. */
  readonly subscriptionPlans: number;
  /** @apollo/gateway's query plans, by its own estimate (the JSON size of a plan), in MiB. */
  readonly queryPlansMiB: number;
  /** Automatic persisted queries in Redis (shared by every gateway instance), in bytes of query text. */
  readonly persistedQueries: number;
}

export const DEFAULT_CACHE_BUDGETS: CacheBudgets = Object.freeze({
  documents: 32 * 2 ** 20,
  subscriptionDocuments: 16 * 2 ** 20,
  subscriptionPlans: 16 * 2 ** 20,
  queryPlansMiB: 16,
  persistedQueries: 64 * 2 ** 20,
});

export interface GatewayCaches {
  readonly budgets: CacheBudgets;
  /** Apollo Server's document store: queries and mutations, kept once admitted within every limit. */
  readonly documents: AdmittedDocumentStore;
  readonly subscriptionDocuments: BoundedCache<DocumentNode>;
  readonly subscriptionPlans: BoundedCache<SubscriptionPlan>;
  readonly persistedQueries: RedisKeyValueCache;
  /** The caches held in this process (the gauges report each). */
  readonly local: readonly BoundedCache<unknown>[];
}

export function createGatewayCaches(redis: Redis | Cluster, budgets: Partial<CacheBudgets> = {}): GatewayCaches {
  const all: CacheBudgets = { ...DEFAULT_CACHE_BUDGETS, ...budgets };
  const documentCache = createBoundedCache<DocumentNode>({
    name: 'documents',
    maxBytes: all.documents,
    sizeOf: (key, doc) => estimateDocumentBytes(doc.loc?.end ?? key.length),
  });
  const subscriptionDocuments = createBoundedCache<DocumentNode>({
    name: 'subscription_documents',
    maxBytes: all.subscriptionDocuments,
    sizeOf: (key) => estimateDocumentBytes(key.length),
  });
  const subscriptionPlans = createPlanCache(all.subscriptionPlans);
  return {
    budgets: all,
    documents: createAdmittedDocumentStore(documentCache),
    subscriptionDocuments,
    subscriptionPlans,
    persistedQueries: new RedisKeyValueCache(redis, { maxBytes: all.persistedQueries }),
    local: [documentCache, subscriptionDocuments, subscriptionPlans] as BoundedCache<unknown>[],
  };
}
