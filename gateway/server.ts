// The gateway: the only public door. One HTTP port serves GraphQL queries and mutations
// (Apollo Server running @apollo/gateway's planner and executor) plus /health, /ready and
// /metrics. It authenticates callers, forwards their signed identity, enforces operation
// limits, and reports freshness and consistency tokens.
import './telemetryOff';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { GraphQLError, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import type { Cluster, Redis } from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Agent } from 'undici';
import { CONSISTENCY_HEADER, decodeConsistencyToken, encodeConsistencyToken } from '../platform/consistency';
import { signIdentity } from '../platform/identity';
import { createLogger, type Logger } from '../platform/logger';
import { RedisKeyValueCache } from './apqCache';
import { createBoundedCache, estimateDocumentBytes, type BoundedCache } from './boundedCache';
import { createAdmittedDocumentStore } from './documentStore';
import { createOperationLabels } from '../platform/operationLabels';
import { serveDemo } from './demoPage';
import { AuthError, createAuthenticator, type AuthConfig } from './auth';
import { createGatewayContext, type GatewayContext } from './execution/context';
import { SubgraphDataSource, type SubgraphFetchMetrics } from './execution/subgraphDataSource';
import { checkLimits, type OperationLimits } from './limits';
import { createRegistrySource, type RegistrySource, type SupergraphState } from './supergraph/registrySource';
import { readBody } from '../platform/httpBody';
import { sendGraphQLResponse } from '../platform/httpGraphQL';
import { DEFAULT_SUBSCRIPTION_LIMITS, operationHash, startClientServer, type SubscriptionLimits } from './subscriptions/clientServer';
import { createBatchingDataSource } from './subscriptions/entityBatcher';
import { createSubscriptionHub, scopeOf } from './subscriptions/subscriptionHub';
import { createPlanCache, createSupergraphPlanner, type SupergraphPlanner } from './subscriptions/subscriptionPlanner';
import { createUpstreamPool } from './subscriptions/upstreamPool';
import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';

/** Where the supergraph comes from. */
export type SupergraphSource =
  /** A composed supergraph file (schema/supergraph.graphql); changes need a restart. */
  | { readonly kind: 'file'; readonly path: string }
  /** A supergraph SDL given directly (tests). */
  | { readonly kind: 'sdl'; readonly sdl: string }
  /** Composed from the subgraphs that announce themselves in Redis, and hot-swapped. */
  | { readonly kind: 'registry'; readonly namespace?: string; readonly absenceWindowMs?: number; readonly pollMs?: number };

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
  readonly logger?: Logger;
}

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

export interface GatewayHandle {
  readonly url: string;
  readonly port: number;
  /** The supergraph's state (registry mode: subgraphs, last failure). */
  supergraphState(): SupergraphState | { phase: 'static' };
  /** Registry mode: re-read the registry now; resolves once any new supergraph is in use. */
  refreshSupergraph(): Promise<void>;
  /** Shared upstream subscriptions and client connections open now. */
  subscriptionStats(): { upstream: number; connections: number; upstreamConnections: Record<string, number> };
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<GatewayHandle> {
  const logger = config.logger ?? createLogger('gateway');
  const authenticator = createAuthenticator(config.auth);
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'gateway' });
  collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: 'streamgraph_gateway_request_duration_seconds',
    help: 'GraphQL requests served by the gateway, by operation name and outcome.',
    labelNames: ['operation', 'outcome'],
    buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const fetchMetrics: SubgraphFetchMetrics = {
    duration: new Histogram({
      name: 'streamgraph_gateway_subgraph_fetch_duration_seconds',
      help: 'Gateway calls to subgraphs.',
      labelNames: ['subgraph', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    errors: new Counter({ name: 'streamgraph_gateway_subgraph_errors_total', help: 'Failed subgraph calls or responses with errors.', labelNames: ['subgraph'], registers: [registry] }),
  };
  const compositions = new Counter({
    name: 'streamgraph_gateway_compositions_total',
    help: 'Supergraph compositions in registry mode, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const subgraphCount = new Gauge({ name: 'streamgraph_gateway_subgraphs', help: 'Subgraphs in the supergraph being served.', registers: [registry] });
  const operationLabels = createOperationLabels();

  // Everything kept that is keyed by client input is bounded in bytes, and reported.
  const budgets: CacheBudgets = { ...DEFAULT_CACHE_BUDGETS, ...config.cacheBudgets };
  const documentCache = createBoundedCache<DocumentNode>({
    name: 'documents',
    maxBytes: budgets.documents,
    sizeOf: (key, doc) => estimateDocumentBytes(doc.loc?.end ?? key.length),
  });
  const documents = createAdmittedDocumentStore(documentCache);
  const subscriptionDocuments = createBoundedCache<DocumentNode>({
    name: 'subscription_documents',
    maxBytes: budgets.subscriptionDocuments,
    sizeOf: (key) => estimateDocumentBytes(key.length),
  });
  const planCache = createPlanCache(budgets.subscriptionPlans);
  const apq = new RedisKeyValueCache(config.redis, { maxBytes: budgets.persistedQueries });
  const localCaches: BoundedCache<unknown>[] = [documentCache, subscriptionDocuments, planCache] as BoundedCache<unknown>[];
  new Gauge({
    name: 'streamgraph_gateway_cache_bytes',
    help: 'Estimated bytes held by each cache keyed by client input (query_plans: @apollo/gateway\'s own estimate; persisted_queries: query text in Redis).',
    labelNames: ['cache'],
    registers: [registry],
    async collect() {
      for (const c of localCaches) this.set({ cache: c.name }, c.bytes());
      this.set({ cache: 'query_plans' }, queryPlanStoreBytes(gateway));
      this.set({ cache: 'persisted_queries' }, await apq.bytes().catch(() => 0));
    },
  });
  new Gauge({
    name: 'streamgraph_gateway_cache_max_bytes',
    help: 'The byte budget of each cache keyed by client input.',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      for (const c of localCaches) this.set({ cache: c.name }, c.maxBytes);
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
      for (const c of localCaches) this.set({ cache: c.name }, c.entries());
    },
  });

  // One keep-alive pool for all subgraph calls; connections are reused across requests.
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
  let registrySource: RegistrySource | null = null;
  let supergraphSdl: string | RegistrySource;
  switch (config.supergraph.kind) {
    case 'file':
      supergraphSdl = fs.readFileSync(config.supergraph.path, 'utf8');
      break;
    case 'sdl':
      supergraphSdl = config.supergraph.sdl;
      break;
    case 'registry':
      registrySource = createRegistrySource({
        redis: config.redis,
        namespace: config.supergraph.namespace,
        absenceWindowMs: config.supergraph.absenceWindowMs,
        pollMs: config.supergraph.pollMs,
        logger,
        onComposition: ({ ok, subgraphs }) => {
          compositions.inc({ outcome: ok ? 'ok' : 'failed' });
          if (ok) subgraphCount.set(subgraphs.length);
        },
      });
      supergraphSdl = registrySource;
      break;
  }
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new SubgraphDataSource({ name, url: url!, timeoutMs: config.subgraphTimeoutMs ?? 10_000, agent, metrics: fetchMetrics }),
    serviceHealthCheck: false,
    experimental_approximateQueryPlanStoreMiB: budgets.queryPlansMiB,
    logger: { debug: (m) => logger.debug(m), info: (m) => logger.info(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
  });

  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    // No landing page from a CDN, no usage or schema reporting to a vendor.
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    {
      async requestDidStart() {
        return {
          async didResolveSource({ queryHash }) {
            if (config.safelist && !config.safelist.has(queryHash))
              throw new GraphQLError('this operation is not on the safelist', {
                extensions: { code: 'OPERATION_NOT_SAFELISTED', http: { status: 403 } },
              });
          },
          async didResolveOperation({ document, operationName, request, schema, operation, contextValue }) {
            if (!operation)
              throw new GraphQLError(
                request.operationName
                  ? `Unknown operation named "${request.operationName.slice(0, 100)}".`
                  : 'Must provide operation name if query contains multiple operations.',
                { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } },
              );
            if (operation.operation === 'subscription')
              throw new GraphQLError('subscriptions are served over graphql-ws (protocol graphql-transport-ws) on this same URL', {
                extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
              });
            // Introspection is held to limits of its own (see limits.ts), never exempt.
            const errors = checkLimits(schema, document, operationName, request.variables, config.limits);
            if (errors.length > 0) {
              const [first] = errors;
              throw new GraphQLError(first!.message, { nodes: first!.nodes, extensions: { ...first!.extensions, http: { status: 400 } } });
            }
            // Only now is the document known to be within every limit: keep it.
            documents.admit(document);
            contextValue.metricLabels.operation = operationLabels.labelOf(operationName);
          },
          async willSendResponse({ response, contextValue }) {
            if (response.body.kind !== 'single') return;
            const result = response.body.singleResult;
            const ext: Record<string, unknown> = { ...result.extensions };
            if (Object.keys(contextValue.freshness).length > 0) ext.freshness = contextValue.freshness;
            if (contextValue.written.length > 0) ext.consistencyToken = encodeConsistencyToken(contextValue.written);
            if (Object.keys(ext).length > 0) result.extensions = ext;
          },
        };
      },
    },
  ];

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // The process's own signal handler stops everything in order (consumer groups left
    // cleanly); Apollo's would stop the server and re-send the signal first.
    stopOnTerminationSignals: false,
    introspection: config.introspection,
    persistedQueries: { cache: apq, ttl: 7 * 24 * 3600 },
    documentStore: documents.store,
    includeStacktraceInErrorResponses: config.debugErrors ?? false,
    // Subgraphs' errors pass through the gateway: their stack traces go too unless debugging.
    formatError: (formatted, error) => withClientCode(config.debugErrors ? formatted : withoutStacktrace(formatted), error),
    plugins,
    logger: { debug: (m) => logger.debug(m), info: (m) => logger.info(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
  });
  // Subscriptions: @apollo/gateway does not execute them, so each supergraph also gets a
  // planner of our own. Primaries go upstream over graphql-ws; rest fetches go through the
  // same kind of data source as queries, batched across events that arrive together.
  let planner: SupergraphPlanner | null = null;
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    if (planner?.sdl === coreSupergraphSdl) return;
    try {
      planner = createSupergraphPlanner(coreSupergraphSdl, planCache);
    } catch (e) {
      logger.error({ err: e }, 'cannot plan subscriptions on the new supergraph; keeping the previous one for new subscriptions');
    }
  });
  const subscriptionDataSources = new Map<string, GraphQLDataSource>();
  const serviceMaps = new WeakMap<SupergraphPlanner, ServiceMap>();
  const entityBatchSize = new Histogram({
    name: 'streamgraph_gateway_subscription_entity_batch_size',
    help: 'Subscription events served by one entity fetch to a subgraph.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200],
    registers: [registry],
  });
  const serviceMapFor = (p: SupergraphPlanner): ServiceMap => {
    let map = serviceMaps.get(p);
    if (!map) {
      map = {};
      for (const { name, url } of p.subgraphs) {
        const key = `${name} ${url}`;
        let ds = subscriptionDataSources.get(key);
        if (!ds) {
          const inner = new SubgraphDataSource({ name, url, timeoutMs: config.subgraphTimeoutMs ?? 10_000, agent, metrics: fetchMetrics });
          ds = createBatchingDataSource(inner, (ctx) => scopeOf((ctx as GatewayContext).identity), (n) => entityBatchSize.observe(n));
          subscriptionDataSources.set(key, ds);
        }
        map[name] = ds;
      }
      serviceMaps.set(p, map);
    }
    return map;
  };
  const upstreamReconnects = new Counter({
    name: 'streamgraph_gateway_upstream_reconnects_total',
    help: 'Reconnects of graphql-ws connections to subgraphs.',
    labelNames: ['url'],
    registers: [registry],
  });
  const pool = createUpstreamPool({ identitySecret: config.identitySecret, logger, onReconnect: (url) => upstreamReconnects.inc({ url }) });
  const hub = createSubscriptionHub({
    pool,
    identitySecret: config.identitySecret,
    logger,
    serviceMapFor: (plan) => serviceMapFor(plan.supergraph),
    retryUnavailableMs: config.subscriptionRetryMs,
    metrics: {
      upstream: new Gauge({ name: 'streamgraph_gateway_upstream_subscriptions', help: 'Upstream subscriptions open, each shared by its clients.', registers: [registry] }),
      events: new Counter({
        name: 'streamgraph_gateway_subscription_events_total',
        help: 'Upstream subscription events, by outcome (delivered, unchanged, superseded).',
        labelNames: ['outcome'],
        registers: [registry],
      }),
      deliveries: new Counter({ name: 'streamgraph_gateway_subscription_deliveries_total', help: 'Subscription payloads handed to clients.', registers: [registry] }),
      resolveSeconds: new Histogram({
        name: 'streamgraph_gateway_subscription_resolve_seconds',
        help: 'From an upstream event to its payload being handed to clients (entity fetches included).',
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
      retries: new Counter({
        name: 'streamgraph_gateway_subscription_retries_total',
        help: 'Subscription events re-resolved because a subgraph was unavailable.',
        registers: [registry],
      }),
    },
  });

  await apollo.start();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const gqlError = (res: http.ServerResponse, status: number, code: string, message: string) =>
    json(res, status, { errors: [{ message, extensions: { code } }] });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
    res.setHeader('x-request-id', requestId);
    try {
      if (serveDemo(req, res, url.pathname)) return;
      if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
      if (url.pathname === '/ready') {
        const state = registrySource?.state() ?? { phase: 'static' as const };
        const ready = state.phase !== 'waiting';
        return json(res, ready ? 200 : 503, { ready, supergraph: state });
      }
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType });
        return res.end(await registry.metrics());
      }
      if (url.pathname !== '/graphql') return json(res, 404, { error: `no route ${url.pathname}; GraphQL is served on /graphql` });

      let verified;
      try {
        verified = authenticator.verify(req.headers.authorization);
      } catch (e) {
        if (e instanceof AuthError) return gqlError(res, 401, 'UNAUTHENTICATED', e.message);
        throw e;
      }
      const token = typeof req.headers[CONSISTENCY_HEADER] === 'string' ? (req.headers[CONSISTENCY_HEADER] as string) : null;
      if (token) {
        try {
          decodeConsistencyToken(token);
        } catch (e) {
          return gqlError(res, 400, 'BAD_USER_INPUT', (e as Error).message);
        }
      }
      let body: unknown;
      if (req.method === 'POST') {
        const text = await readBody(req, config.limits.maxBodyBytes);
        if (text === null) {
          // readBody drops the rest of the body (bounded) so the client reads this answer.
          return gqlError(res, 413, 'REQUEST_TOO_LARGE', `request body is over the limit of ${config.limits.maxBodyBytes} bytes`);
        }
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          return gqlError(res, 400, 'BAD_REQUEST', 'request body is not JSON');
        }
      }
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const started = process.hrtime.bigint();
      const context = createGatewayContext(requestId, verified.identity, signIdentity(verified.identity, config.identitySecret), token);
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => context,
      });
      await sendGraphQLResponse(res, result);
      // Named only when the operation resolved in a valid document; refused requests are `invalid`.
      const operation = context.metricLabels.operation ?? 'invalid';
      requests.observe({ operation, outcome: res.statusCode < 400 ? 'ok' : 'error' }, Number(process.hrtime.bigint() - started) / 1e9);
      logger.debug({ requestId, operation, status: res.statusCode }, 'request');
    } catch (e) {
      logger.error({ requestId, err: e }, 'request failed');
      if (!res.headersSent) gqlError(res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
      else res.end();
    }
  });

  const wsLimits: SubscriptionLimits = {
    ...DEFAULT_SUBSCRIPTION_LIMITS,
    maxMessageBytes: config.limits.maxBodyBytes,
    ...config.subscriptionLimits,
  };
  const clientServer = startClientServer({
    server,
    path: '/graphql',
    authenticator,
    planner: () => planner,
    hub,
    limits: wsLimits,
    logger,
    documentCache: subscriptionDocuments,
    metrics: {
      connections: new Gauge({ name: 'streamgraph_gateway_ws_connections', help: 'Client graphql-ws connections open.', registers: [registry] }),
      subscriptions: new Gauge({ name: 'streamgraph_gateway_ws_operations', help: 'Client operations open over graphql-ws.', registers: [registry] }),
      closes: new Counter({ name: 'streamgraph_gateway_ws_closes_total', help: 'Client graphql-ws connections closed, by close code.', labelNames: ['code'], registers: [registry] }),
      conflated: new Counter({
        name: 'streamgraph_gateway_ws_conflated_total',
        help: 'Queued states replaced by a newer state of the same object for a lagging client.',
        registers: [registry],
      }),
    },
    checkOperation: (queryText, document, operationName, variables) => {
      if (config.safelist && !config.safelist.has(operationHash(queryText)))
        return [new GraphQLError('this operation is not on the safelist', { extensions: { code: 'OPERATION_NOT_SAFELISTED' } })];
      return checkLimits(planner!.apiSchema, document, operationName, variables, config.limits);
    },
    executeOperation: async (request, identity) => {
      const context = createGatewayContext(randomUUID(), identity, signIdentity(identity, config.identitySecret));
      const response = await apollo.executeOperation(request, { contextValue: context });
      if (response.body.kind !== 'single') return { errors: [{ message: 'incremental delivery is not supported over graphql-ws' }] };
      return response.body.singleResult;
    },
  });

  await new Promise<void>((resolve) => server.listen(config.port ?? 0, config.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'gateway listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host ?? '127.0.0.1'}:${port}/graphql`,
    port,
    supergraphState: () => registrySource?.state() ?? { phase: 'static' },
    refreshSupergraph: () => registrySource?.refresh() ?? Promise.resolve(),
    subscriptionStats: () => ({ upstream: hub.groupCount(), connections: clientServer.connectionCount(), upstreamConnections: pool.connectionCounts() }),
    close: () =>
      (closing ??= (async () => {
        await clientServer.close();
        hub.close();
        await pool.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await apollo.stop();
        await agent.close();
      })()),
  };
}

/** A formatted error without the stack traces Apollo Server or a subgraph put in its extensions. */
function withoutStacktrace(error: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = error.extensions;
  if (!extensions || (!('stacktrace' in extensions) && !('exception' in extensions))) return error;
  const { stacktrace: _s, exception: _e, ...rest } = extensions as Record<string, unknown>;
  return { ...error, extensions: rest };
}

/**
 * Apollo Server refuses some requests with a GraphQLError that has an HTTP 4xx status but no
 * code (a persisted-query hash that does not match, an unknown persisted-query version), which
 * it then formats as INTERNAL_SERVER_ERROR. Such refusals are the client's: BAD_REQUEST.
 */
function withClientCode(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR') return formatted;
  const status = (error as { extensions?: { http?: { status?: number } } } | null)?.extensions?.http?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST' } };
}

/**
 * Bytes @apollo/gateway's query plan store holds by its own estimate. The store is private to
 * ApolloGateway; read defensively so a change of its insides shows as 0 rather than a crash.
 */
function queryPlanStoreBytes(gateway: ApolloGateway): number {
  const store = (gateway as unknown as { queryPlanStore?: { cache?: { calculatedSize?: number } } }).queryPlanStore;
  return store?.cache?.calculatedSize ?? 0;
}
