// Federated subscriptions over graphql-ws, wired together. @apollo/gateway does not execute
// subscriptions, so each supergraph also gets a planner of our own. Primaries go upstream over
// graphql-ws (a shared pool); rest fetches go through the same kind of data source as queries,
// batched across events that arrive together; the hub shares upstream subscriptions among
// clients; the client server speaks graphql-ws on the gateway's own port and path.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { SubgraphSource } from '../execution/subgraphDataSource';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import type { ApolloServer } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { GRAPHQL_PATH } from '../../platform/graphqlHttpServer';
import { signIdentity } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import type { Authenticator } from '../auth';
import type { BoundedCache } from '../boundedCache';
import { createGatewayContext, type GatewayContext } from '../execution/context';
import type { GatewayMetrics } from '../gatewayMetrics';
import { checkLimits, type OperationLimits } from '../limits';
import { operationHash, safelistRefusal } from '../safelist';
import { startClientServer } from './clientServer';
import { createBatchingDataSource } from './entityBatcher';
import { createSubscriptionHub, scopeOf } from './subscriptionHub';
import { DEFAULT_SUBSCRIPTION_LIMITS, type SubscriptionLimits } from './subscriptionLimits';
import { createSupergraphPlanner, type ServiceMap, type SubscriptionPlan, type SupergraphPlanner } from './subscriptionPlanner';
import { createUpstreamPool } from './upstreamPool';

export interface SubscriptionsOptions {
  /** Whose supergraphs are planned: each one loaded gets a planner. */
  readonly gateway: Pick<GatewayInterface, 'onSchemaLoadOrUpdate'>;
  /** Runs queries and mutations sent over graphql-ws. */
  readonly apollo: ApolloServer<GatewayContext>;
  /** The HTTP server whose upgrades on /graphql are graphql-ws. */
  readonly server: http.Server;
  readonly authenticator: Authenticator;
  readonly identitySecret: string;
  readonly safelist: ReadonlySet<string> | null;
  readonly limits: OperationLimits;
  readonly subscriptionLimits?: Partial<SubscriptionLimits>;
  readonly retryUnavailableMs?: number;
  /** Registry mode: the graphql-ws URL of a live instance of a subgraph. */
  readonly routeWs?: (serviceName: string) => string | null;
  /** Registry mode: a connection to this graphql-ws URL dropped; route around it for a while. */
  readonly markWsDown?: (wsUrl: string) => void;
  /** Told of every operation that passed the checks (the registry's schema checks read them). */
  readonly onServed?: (queryHash: string, operationName: string | null, text: string) => void;
  /** How each subgraph is called for rest fetches. */
  readonly dataSource: (name: string, url: string) => SubgraphSource;
  readonly caches: { readonly documents: BoundedCache<DocumentNode>; readonly plans: BoundedCache<SubscriptionPlan> };
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/** Shared upstream subscriptions, client connections, and upstream connections per subgraph URL open now. */
export interface SubscriptionStats {
  readonly upstream: number;
  readonly connections: number;
  readonly upstreamConnections: Record<string, number>;
}

export interface Subscriptions {
  stats(): SubscriptionStats;
  /** Closes the clients' connections, then the upstream ones. */
  close(): Promise<void>;
}

/** Starts planning on every supergraph the gateway loads from now on; call it before Apollo Server starts. */
export function startSubscriptions(opts: SubscriptionsOptions): Subscriptions {
  const { logger, metrics, identitySecret } = opts;
  let planner: SupergraphPlanner | null = null;
  opts.gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    if (planner?.sdl === coreSupergraphSdl) return;
    try {
      planner = createSupergraphPlanner(coreSupergraphSdl, opts.caches.plans);
    } catch (e) {
      logger.error({ err: e }, 'cannot plan subscriptions on the new supergraph; keeping the previous one for new subscriptions');
    }
  });
  const dataSources = new Map<string, SubgraphSource>();
  const serviceMaps = new WeakMap<SupergraphPlanner, ServiceMap>();
  const serviceMapFor = (p: SupergraphPlanner): ServiceMap => {
    let map = serviceMaps.get(p);
    if (!map) {
      map = {};
      for (const { name, url } of p.subgraphs) {
        const key = `${name} ${url}`;
        let ds = dataSources.get(key);
        if (!ds) {
          ds = createBatchingDataSource(opts.dataSource(name, url), (ctx) => scopeOf((ctx as GatewayContext).identity), (n) => metrics.entityBatchSize.observe(n));
          dataSources.set(key, ds);
        }
        map[name] = ds;
      }
      serviceMaps.set(p, map);
    }
    return map;
  };
  const pool = createUpstreamPool({ identitySecret, logger, onReconnect: (url) => metrics.upstreamReconnects.inc({ url }), onUnreachable: opts.markWsDown });
  const hub = createSubscriptionHub({
    pool,
    identitySecret,
    logger,
    serviceMapFor: (plan) => serviceMapFor(plan.supergraph),
    retryUnavailableMs: opts.retryUnavailableMs,
    routeWs: opts.routeWs,
    metrics: metrics.hub,
  });
  const clientServer = startClientServer({
    server: opts.server,
    path: GRAPHQL_PATH,
    authenticator: opts.authenticator,
    planner: () => planner,
    hub,
    limits: { ...DEFAULT_SUBSCRIPTION_LIMITS, maxMessageBytes: opts.limits.maxBodyBytes, ...opts.subscriptionLimits },
    logger,
    documentCache: opts.caches.documents,
    metrics: metrics.clients,
    checkOperation: (queryText, document, operationName, variables) => {
      const refused = opts.safelist && safelistRefusal(opts.safelist, operationHash(queryText));
      if (refused) return [refused];
      const errors = checkLimits(planner!.apiSchema, document, operationName, variables, opts.limits);
      if (errors.length === 0) opts.onServed?.(operationHash(queryText), operationName ?? null, queryText);
      return errors;
    },
    executeOperation: async (request, identity) => {
      const context = createGatewayContext(randomUUID(), identity, signIdentity(identity, identitySecret));
      const response = await opts.apollo.executeOperation(request, { contextValue: context });
      if (response.body.kind !== 'single') return { errors: [{ message: 'incremental delivery is not supported over graphql-ws' }] };
      return response.body.singleResult;
    },
  });
  return {
    stats: () => ({ upstream: hub.groupCount(), connections: clientServer.connectionCount(), upstreamConnections: pool.connectionCounts() }),
    async close() {
      await clientServer.close();
      hub.close();
      await pool.close();
    },
  };
}
