// The gateway Apollo Server runs on, over the configured supergraph: a file or SDL served as it
// is, or (registry mode) composed from the schemas published in Redis and hot-swapped. Plans
// come from the Rust query planner run by the project's executor (planner/, the default), or
// from @apollo/gateway's planner and executor (GATEWAY_QUERY_PLANNER=apollo).
import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import type { SubgraphSource } from '../execution/subgraphDataSource';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import fs from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { Counter, Gauge } from 'prom-client';
import { apolloLogger } from '../../platform/apolloServerOptions';
import type { Logger } from '../../platform/logger';
import type { SupergraphSource } from '../server';
import { createPlannedGateway, type PlannedGateway } from '../planner/plannedGateway';
import type { InstanceRouter } from './instanceRouter';
import { createRegistrySource, type RegistrySource, type SupergraphState } from './registrySource';

export interface SupergraphGatewayOptions {
  readonly source: SupergraphSource;
  /** The registry (registry mode). */
  readonly redis: Redis | Cluster;
  readonly logger: Logger;
  /** The query plan store's budget (its own estimate, in MiB). */
  readonly queryPlansMiB: number;
  /** How each subgraph is called. */
  readonly dataSource: (name: string, url: string) => SubgraphSource;
  /** Which planner and executor run operations. @default 'hive' */
  readonly planner?: QueryPlannerChoice;
  /** Registry mode: compositions by outcome, and the subgraphs of the one served. */
  readonly metrics: { readonly compositions: Counter<'outcome'>; readonly subgraphs: Gauge };
}

/** `hive`: the Rust planner and this project's executor; `apollo`: @apollo/gateway's (Elastic License 2.0). */
export type QueryPlannerChoice = 'hive' | 'apollo';

export interface SupergraphGateway {
  readonly gateway: GatewayInterface;
  /** The project's planner and executor (null with GATEWAY_QUERY_PLANNER=apollo): subscriptions run their events on it. */
  readonly planned: PlannedGateway | null;
  /** The supergraph's state (registry mode: subgraphs, last failure). */
  state(): SupergraphState | { phase: 'static' };
  /** Registry mode: re-read the registry now; resolves once any new supergraph is in use. */
  refresh(): Promise<void>;
  /** Bytes the query plan store holds, by its own estimate. */
  queryPlanBytes(): number;
  /** Registry mode: where each subgraph's requests go (its live instances); null with a static supergraph. */
  readonly router: InstanceRouter | null;
}

export function createSupergraphGateway(opts: SupergraphGatewayOptions): SupergraphGateway {
  const { source, logger, metrics } = opts;
  let registrySource: RegistrySource | null = null;
  let supergraphSdl: string | RegistrySource;
  switch (source.kind) {
    case 'file':
      supergraphSdl = fs.readFileSync(source.path, 'utf8');
      break;
    case 'sdl':
      supergraphSdl = source.sdl;
      break;
    case 'registry':
      registrySource = createRegistrySource({
        redis: opts.redis,
        namespace: source.namespace,
        absenceWindowMs: source.absenceWindowMs,
        pollMs: source.pollMs,
        logger,
        onComposition: ({ ok, subgraphs }) => {
          metrics.compositions.inc({ outcome: ok ? 'ok' : 'failed' });
          if (ok) metrics.subgraphs.set(subgraphs.length);
        },
      });
      supergraphSdl = registrySource;
      break;
  }
  if ((opts.planner ?? 'hive') === 'hive') {
    const planned = createPlannedGateway({
      source: typeof supergraphSdl === 'string' ? { kind: 'sdl', sdl: supergraphSdl } : { kind: 'manager', manager: supergraphSdl },
      dataSource: opts.dataSource,
      planCacheBytes: opts.queryPlansMiB * 2 ** 20,
      logger,
    });
    return {
      gateway: planned,
      planned,
      state: () => registrySource?.state() ?? { phase: 'static' },
      refresh: () => registrySource?.refresh() ?? Promise.resolve(),
      queryPlanBytes: () => planned.planBytes(),
      router: registrySource?.router ?? null,
    };
  }
  // Loaded only when chosen: by default no @apollo/gateway code (Elastic License 2.0) runs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ApolloGateway: Gateway } = require('@apollo/gateway') as typeof import('@apollo/gateway');
  const gateway = new Gateway({
    supergraphSdl,
    // Its GraphQLDataSource options carry the request and context SubgraphDataSource reads.
    buildService: ({ name, url }) => opts.dataSource(name, url!) as unknown as GraphQLDataSource,
    serviceHealthCheck: false,
    experimental_approximateQueryPlanStoreMiB: opts.queryPlansMiB,
    logger: apolloLogger(logger),
  });
  return {
    gateway,
    planned: null,
    state: () => registrySource?.state() ?? { phase: 'static' },
    refresh: () => registrySource?.refresh() ?? Promise.resolve(),
    queryPlanBytes: () => queryPlanStoreBytes(gateway),
    router: registrySource?.router ?? null,
  };
}

/**
 * Bytes @apollo/gateway's query plan store holds by its own estimate. The store is private to
 * ApolloGateway; read defensively so a change of its insides shows as 0 rather than a crash.
 */
function queryPlanStoreBytes(gateway: ApolloGateway): number {
  const store = (gateway as unknown as { queryPlanStore?: { cache?: { calculatedSize?: number } } }).queryPlanStore;
  return store?.cache?.calculatedSize ?? 0;
}
