// Every metric the gateway reports on /metrics, on one registry: requests, subgraph fetches,
// compositions, subscriptions (upstream and client side) and the caches' bytes against their budgets.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SubgraphFetchMetrics } from './execution/subgraphDataSource';
import type { GatewayCaches } from './gatewayCaches';
import type { ClientConnectionMetrics } from './subscriptions/clientConnection';
import type { SubscriptionHubMetrics } from './subscriptions/subscriptionHub';

export interface GatewayMetrics {
  readonly registry: Registry;
  /** GraphQL requests over HTTP, by operation label and outcome. */
  readonly requests: Histogram<'operation' | 'outcome'>;
  readonly fetches: SubgraphFetchMetrics;
  /** Registry mode: compositions by outcome, and the subgraphs of the one served. */
  readonly compositions: Counter<'outcome'>;
  readonly subgraphs: Gauge;
  /** Subscription events served by one entity fetch. */
  readonly entityBatchSize: Histogram;
  readonly upstreamReconnects: Counter<'url'>;
  readonly hub: SubscriptionHubMetrics;
  readonly clients: ClientConnectionMetrics;
}

/** A finer latency scale for calls to subgraphs and per-event resolution. */
const FINE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'gateway' });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Histogram({
      name: 'streamgraph_gateway_request_duration_seconds',
      help: 'GraphQL requests served by the gateway, by operation name and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    fetches: {
      duration: new Histogram({
        name: 'streamgraph_gateway_subgraph_fetch_duration_seconds',
        help: 'Gateway calls to subgraphs.',
        labelNames: ['subgraph', 'outcome'],
        buckets: FINE_BUCKETS,
        registers,
      }),
      errors: new Counter({ name: 'streamgraph_gateway_subgraph_errors_total', help: 'Failed subgraph calls or responses with errors.', labelNames: ['subgraph'], registers }),
    },
    compositions: new Counter({
      name: 'streamgraph_gateway_compositions_total',
      help: 'Supergraph compositions in registry mode, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    subgraphs: new Gauge({ name: 'streamgraph_gateway_subgraphs', help: 'Subgraphs in the supergraph being served.', registers }),
    entityBatchSize: new Histogram({
      name: 'streamgraph_gateway_subscription_entity_batch_size',
      help: 'Subscription events served by one entity fetch to a subgraph.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200],
      registers,
    }),
    upstreamReconnects: new Counter({
      name: 'streamgraph_gateway_upstream_reconnects_total',
      help: 'Reconnects of graphql-ws connections to subgraphs.',
      labelNames: ['url'],
      registers,
    }),
    hub: {
      upstream: new Gauge({ name: 'streamgraph_gateway_upstream_subscriptions', help: 'Upstream subscriptions open, each shared by its clients.', registers }),
      events: new Counter({
        name: 'streamgraph_gateway_subscription_events_total',
        help: 'Upstream subscription events, by outcome (delivered, unchanged, superseded).',
        labelNames: ['outcome'],
        registers,
      }),
      deliveries: new Counter({ name: 'streamgraph_gateway_subscription_deliveries_total', help: 'Subscription payloads handed to clients.', registers }),
      resolveSeconds: new Histogram({
        name: 'streamgraph_gateway_subscription_resolve_seconds',
        help: 'From an upstream event to its payload being handed to clients (entity fetches included).',
        buckets: FINE_BUCKETS,
        registers,
      }),
      retries: new Counter({
        name: 'streamgraph_gateway_subscription_retries_total',
        help: 'Subscription events re-resolved because a subgraph was unavailable.',
        registers,
      }),
    },
    clients: {
      connections: new Gauge({ name: 'streamgraph_gateway_ws_connections', help: 'Client graphql-ws connections open.', registers }),
      subscriptions: new Gauge({ name: 'streamgraph_gateway_ws_operations', help: 'Client operations open over graphql-ws.', registers }),
      closes: new Counter({ name: 'streamgraph_gateway_ws_closes_total', help: 'Client graphql-ws connections closed, by close code.', labelNames: ['code'], registers }),
      conflated: new Counter({
        name: 'streamgraph_gateway_ws_conflated_total',
        help: 'Queued states replaced by a newer state of the same object for a lagging client.',
        registers,
      }),
    },
  };
}

/**
 * The gauges of the caches keyed by client input: bytes held against each budget, and entries.
 * `queryPlanBytes` reads @apollo/gateway's own estimate of its query plan store.
 */
export function registerCacheGauges(registry: Registry, caches: GatewayCaches, queryPlanBytes: () => number): void {
  const { local, budgets, persistedQueries } = caches;
  new Gauge({
    name: 'streamgraph_gateway_cache_bytes',
    help: 'Estimated bytes held by each cache keyed by client input (query_plans: estimated from the documents; persisted_queries: query text in Redis).',
    labelNames: ['cache'],
    registers: [registry],
    async collect() {
      for (const c of local) this.set({ cache: c.name }, c.bytes());
      this.set({ cache: 'query_plans' }, queryPlanBytes());
      this.set({ cache: 'persisted_queries' }, await persistedQueries.bytes().catch(() => 0));
    },
  });
  new Gauge({
    name: 'streamgraph_gateway_cache_max_bytes',
    help: 'The byte budget of each cache keyed by client input.',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      for (const c of local) this.set({ cache: c.name }, c.maxBytes);
      this.set({ cache: 'query_plans' }, budgets.queryPlansMiB * 2 ** 20);
      this.set({ cache: 'persisted_queries' }, budgets.persistedQueries);
    },
  });
  new Gauge({
    name: 'streamgraph_gateway_cache_entries',
    help: 'Entries held by each in-process cache keyed by client input.',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      for (const c of local) this.set({ cache: c.name }, c.entries());
    },
  });
}
