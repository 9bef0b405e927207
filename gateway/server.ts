// The gateway: the only public door. One HTTP port serves GraphQL queries and mutations
// (Apollo Server with the gateway's own planner and executor, gateway/planner/) plus /health, /ready and
// /metrics, and graphql-ws subscriptions on the same path. It authenticates callers, forwards
// their signed identity, enforces operation limits, and reports freshness and consistency
// tokens. Its parts: gatewayHttpServer.ts (routes), gatewayPlugin.ts (what each operation goes
// through), gatewayMetrics.ts, gatewayCaches.ts, supergraph/supergraphGateway.ts and
// subscriptions/startSubscriptions.ts; this file puts them together.
import './telemetryOff';
import { ApolloServer } from '@apollo/server';
import type { Cluster, Redis } from 'ioredis';
import { Agent } from 'undici';
import type { Registry } from 'prom-client';
import { apolloServerOptions, offlinePlugins } from '../platform/apolloServerOptions';
import { createLogger, type Logger } from '../platform/logger';
import { createOperationLabels } from '../platform/operationLabels';
import { createAuthenticator, type AuthConfig } from './auth';
import type { GatewayContext } from './execution/context';
import { SubgraphDataSource } from './execution/subgraphDataSource';
import { createGatewayCaches, type CacheBudgets } from './gatewayCaches';
import { createGatewayHttpServer } from './gatewayHttpServer';
import { createGatewayMetrics, registerCacheGauges } from './gatewayMetrics';
import { createGatewayPlugin, formatGatewayError } from './gatewayPlugin';
import type { OperationLimits } from './limits';
import type { SupergraphState } from './supergraph/registrySource';
import { createSupergraphGateway, type QueryPlannerChoice, type SupergraphGateway } from './supergraph/supergraphGateway';
import { createOperationRecorder } from '../platform/operationLog';
import { startSubscriptions, type SubscriptionStats } from './subscriptions/startSubscriptions';
import type { SubscriptionLimits } from './subscriptions/subscriptionLimits';
import type { KafkaConfig } from 'kafkajs';
import { createKafka } from '../platform/kafkaConfig';
import { createEventIngest, type EventIngestSettings } from './events/eventIngest';

export { DEFAULT_CACHE_BUDGETS, type CacheBudgets } from './gatewayCaches';

/** Where the supergraph comes from. */
export type SupergraphSource =
  /** A composed supergraph file (schema/supergraph.graphql); changes need a restart. */
  | { readonly kind: 'file'; readonly path: string }
  /** A supergraph SDL given directly (tests). */
  | { readonly kind: 'sdl'; readonly sdl: string }
  /** Composed from the subgraphs that announce themselves in Redis, and hot-swapped. */
  | {
      readonly kind: 'registry';
      readonly namespace?: string;
      readonly absenceWindowMs?: number;
      readonly pollMs?: number;
      /** How long served operations count for the registry's schema checks (REGISTRY_OPERATION_WINDOW_DAYS). */
      readonly operationWindowMs?: number;
      /** How often served operations are written to Redis. @default 10000 */
      readonly operationFlushMs?: number;
    };

export interface GatewayConfig {
  /** @default 0 (a free port); the product's default is 4000 (see config.ts) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  readonly supergraph: SupergraphSource;
  /** Redis: the registry, and persisted queries shared by every gateway instance. */
  readonly redis: Redis | Cluster;
  /** Signs the identity forwarded to subgraphs (GATEWAY_IDENTITY_SECRET). */
  readonly identitySecret: string;
  readonly auth: AuthConfig;
  readonly limits: OperationLimits;
  /** Schema introspection; on in development, off in production. */
  readonly introspection: boolean;
  /**
   * Safelist mode: only these operations (sha256 hex of the query text) run. Persisted-query
   * registration of anything else is refused. null: any valid operation runs.
   */
  readonly safelist: ReadonlySet<string> | null;
  /** A subgraph call that takes longer fails (its fields become errors). @default 10000 */
  readonly subgraphTimeoutMs?: number;
  /** Which query planner and executor run operations (GATEWAY_QUERY_PLANNER). @default 'hive' */
  readonly queryPlanner?: QueryPlannerChoice;
  /** graphql-ws limits for clients (connections, operations per connection, queue). */
  readonly subscriptionLimits?: Partial<SubscriptionLimits>;
  /**
   * How long a subscription event whose entity fetches find a subgraph unavailable is retried
   * before it goes out with the errors. @default 15000
   */
  readonly subscriptionRetryMs?: number;
  /** Stack traces and internal messages in error responses (GATEWAY_DEBUG_ERRORS). @default false */
  readonly debugErrors?: boolean;
  /** Byte budgets of the caches keyed by client input. @default DEFAULT_CACHE_BUDGETS */
  readonly cacheBudgets?: Partial<CacheBudgets>;
  /**
   * Given this gateway's metric registry, what /metrics serves. Unset: that registry. A worker
   * of several (GATEWAY_WORKERS) serves every worker's metrics, aggregated by the primary.
   */
  readonly metricsSource?: (registry: Registry) => () => Promise<string>;
  /** POST /events (client events into Kafka); unset: no such route. */
  readonly events?: { readonly kafka: KafkaConfig; readonly settings: EventIngestSettings };
  readonly logger?: Logger;
}

export interface GatewayHandle {
  readonly url: string;
  readonly port: number;
  /** The supergraph's state (registry mode: subgraphs, last failure). */
  supergraphState(): SupergraphState | { phase: 'static' };
  /** Registry mode: re-read the registry now; resolves once any new supergraph is in use. */
  refreshSupergraph(): Promise<void>;
  /** Shared upstream subscriptions and client connections open now. */
  subscriptionStats(): SubscriptionStats;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<GatewayHandle> {
  const logger = config.logger ?? createLogger('gateway');
  const authenticator = createAuthenticator(config.auth);
  const metrics = createGatewayMetrics();
  // Everything kept that is keyed by client input is bounded in bytes, and reported.
  const caches = createGatewayCaches(config.redis, config.cacheBudgets);
  // One keep-alive pool for all subgraph calls; connections are reused across requests.
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
  // Registry mode routes each call to a live instance of the subgraph (supergraph.router).
  const dataSource = (name: string, url: string) => {
    const router = supergraph.router;
    return new SubgraphDataSource({
      name,
      url,
      timeoutMs: config.subgraphTimeoutMs ?? 10_000,
      agent,
      metrics: metrics.fetches,
      route: router ? () => router.pick(name)?.url ?? null : undefined,
      onRefused: router ? (u) => router.markDown(u) : undefined,
    });
  };
  const supergraph: SupergraphGateway = createSupergraphGateway({
    source: config.supergraph,
    redis: config.redis,
    logger,
    queryPlansMiB: caches.budgets.queryPlansMiB,
    planner: config.queryPlanner,
    dataSource,
    metrics,
  });
  registerCacheGauges(metrics.registry, caches, supergraph.queryPlanBytes);
  // Registry mode: what this gateway serves is what schema changes are checked against.
  const source = config.supergraph;
  const served =
    source.kind === 'registry'
      ? createOperationRecorder(config.redis, { namespace: source.namespace, windowMs: source.operationWindowMs, flushMs: source.operationFlushMs, logger })
      : null;
  const onServed = served ? (hash: string, name: string | null, text: string) => served.record(hash, name, text) : undefined;

  const apollo = new ApolloServer<GatewayContext>({
    gateway: supergraph.gateway,
    ...apolloServerOptions(logger, config.debugErrors),
    introspection: config.introspection,
    persistedQueries: { cache: caches.persistedQueries, ttl: 7 * 24 * 3600 },
    documentStore: caches.documents.store,
    formatError: formatGatewayError(config.debugErrors ?? false),
    plugins: [
      ...offlinePlugins<GatewayContext>(),
      createGatewayPlugin({ safelist: config.safelist, limits: config.limits, documents: caches.documents, operationLabels: createOperationLabels(), onServed }),
    ],
  });
  const events = config.events
    ? createEventIngest({
        settings: config.events.settings,
        kafka: createKafka(config.events.kafka),
        redis: config.redis,
        authenticator,
        maxBodyBytes: config.limits.maxBodyBytes,
        registry: metrics.registry,
        logger,
      })
    : undefined;
  const httpServer = createGatewayHttpServer({
    events,
    apollo,
    authenticator,
    identitySecret: config.identitySecret,
    maxBodyBytes: config.limits.maxBodyBytes,
    supergraph,
    registry: metrics.registry,
    metricsText: config.metricsSource?.(metrics.registry),
    requests: metrics.requests,
    logger,
    // @apollo/gateway's spans nest under the active context; the gateway's own executor is handed its parents.
    activeRequestSpan: config.queryPlanner === 'apollo',
  });
  // Before Apollo Server starts: the first supergraph it loads gets a subscription planner too.
  const subscriptions = startSubscriptions({
    gateway: supergraph.gateway,
    apollo,
    server: httpServer.server,
    authenticator,
    identitySecret: config.identitySecret,
    safelist: config.safelist,
    limits: config.limits,
    subscriptionLimits: config.subscriptionLimits,
    retryUnavailableMs: config.subscriptionRetryMs,
    routeWs: supergraph.router ? (name) => supergraph.router!.pick(name)?.wsUrl ?? null : undefined,
    markWsDown: supergraph.router ? (wsUrl) => supergraph.router!.markDown(wsUrl) : undefined,
    onServed,
    dataSource,
    caches: { documents: caches.subscriptionDocuments, plans: caches.subscriptionPlans },
    metrics,
    logger,
  });
  await apollo.start();

  const host = config.host ?? '127.0.0.1';
  const { port } = await httpServer.listen(config.port ?? 0, host);
  logger.info({ port }, 'gateway listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    supergraphState: supergraph.state,
    refreshSupergraph: supergraph.refresh,
    subscriptionStats: subscriptions.stats,
    close: () =>
      (closing ??= (async () => {
        await subscriptions.close();
        await httpServer.close();
        await events?.close();
        await served?.close();
        await agent.close();
      })()),
  };
}
