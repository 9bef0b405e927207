// The gateway Apollo Server runs on: the supergraph's plans come from the Rust query planner
// (@graphql-hive/router-query-planner, MIT), and this project's executor runs them
// (executePlan.ts) and shapes the answer (shapeResponse.ts). It implements @apollo/server's
// gateway interface, so HTTP, plugins, auth, limits, persisted queries, freshness and
// consistency tokens stay as they are. The supergraph comes from a file, an SDL, or the
// registry (hot-swapped; a supergraph the planner cannot load keeps the last good one).
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface, GatewaySchemaLoadOrUpdateCallback } from '@apollo/server-gateway-interface';
import { QueryPlanner, type QueryPlan } from './hivePlanner';
import { getVariableValues, GraphQLError, Kind, print, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode, type SelectionNode } from 'graphql';
import type { Logger } from '../../platform/logger';
import { withSpan, type Context } from '../../platform/tracing';
import type { GatewayContext } from '../execution/context';
import type { SubgraphSource } from '../execution/subgraphDataSource';
import { createBoundedCache, type BoundedCache } from '../boundedCache';
import { executePlan, type SendFetch, type SubgraphAnswer } from './executePlan';
import { nameFetches } from './nameFetches';
import { readSupergraph, type SupergraphInfo } from './supergraphInfo';
import { shapeResponse } from './shapeResponse';

/** One loaded supergraph: its planner, what the executor needs of it, and its subgraphs' data sources. */
export interface LoadedSupergraph {
  readonly id: number;
  readonly info: SupergraphInfo;
  readonly services: ReadonlyMap<string, SubgraphSource>;
  /** `parent`: the request's trace context (GatewayContext `trace`), the parent of a `gateway.plan` span; default the active context. */
  plan(queryText: string, operationName: string | null | undefined, parent?: Context): QueryPlan;
}

/** Where the supergraph comes from: given once, or a manager that calls `update` with each new one. */
export type PlannedSupergraphSource =
  | { readonly kind: 'sdl'; readonly sdl: string }
  | {
      readonly kind: 'manager';
      readonly manager: { initialize(opts: { update(sdl: string): void; healthCheck(sdl: string): Promise<void>; getDataSource(): never }): Promise<{ supergraphSdl: string; cleanup?: () => Promise<void> }> };
    };

export interface PlannedGatewayOptions {
  readonly source: PlannedSupergraphSource;
  readonly dataSource: (name: string, url: string) => SubgraphSource;
  /** Budget of the plan cache (plans are keyed by client documents). */
  readonly planCacheBytes: number;
  readonly logger: Logger;
}

export interface PlannedGateway extends GatewayInterface {
  /** The supergraph in use, or null before the first one loads. */
  current(): LoadedSupergraph | null;
  /** Bytes the plan cache holds (estimated). */
  planBytes(): number;
}

let nextId = 1;

export function createPlannedGateway(opts: PlannedGatewayOptions): PlannedGateway {
  const listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();
  // Plans of every supergraph share one bounded cache; keys carry the supergraph's id so a
  // replaced supergraph's plans age out.
  const plans: BoundedCache<QueryPlan> = createBoundedCache<QueryPlan>({
    name: 'query_plans',
    maxBytes: opts.planCacheBytes,
    // A plan is a few times its document's text (operations per fetch, paths, requires).
    sizeOf: (key) => 4 * key.length + 512,
  });
  const dataSources = new Map<string, SubgraphSource>();
  let loaded: LoadedSupergraph | null = null;
  let cleanup: (() => Promise<void>) | undefined;

  const load = (sdl: string): LoadedSupergraph => {
    const planner = new QueryPlanner(sdl);
    const info = readSupergraph(sdl, planner.consumerSchema);
    const services = new Map<string, SubgraphSource>();
    for (const s of info.subgraphs) {
      // Data sources outlive supergraphs: their connection pools and metrics stay warm.
      const key = `${s.name}\n${s.url}`;
      let ds = dataSources.get(key);
      if (!ds) dataSources.set(key, (ds = opts.dataSource(s.name, s.url)));
      services.set(s.name, ds);
    }
    const id = nextId++;
    const noLabels = new Set<string>();
    return {
      id,
      info,
      services,
      plan(queryText, operationName, parent) {
        const key = `${id}\n${operationName ?? ''}\n${queryText}`;
        const hit = plans.get(key);
        if (hit) return hit;
        // Planning is a span of its own (tracing on), under the request's; a cached plan is not planned again.
        const plan = withSpan(
          'gateway.plan',
          { 'graphql.operation.name': (operationName ?? '').slice(0, 100) },
          () => nameFetches(planner.plan(queryText, operationName ?? null, noLabels, 0), operationName),
          { parent },
        );
        plans.set(key, plan);
        return plan;
      },
    };
  };

  const swap = (sdl: string) => {
    try {
      loaded = load(sdl);
    } catch (e) {
      opts.logger.error({ err: (e as Error).message }, 'the query planner cannot load the new supergraph; keeping the previous one');
      return;
    }
    for (const l of listeners) l({ apiSchema: loaded.info.apiSchema, coreSupergraphSdl: sdl });
  };

  const executor: GatewayExecutor = async (requestContext) => {
    const s = loaded;
    if (!s) return { errors: [new GraphQLError('the gateway has no supergraph yet', { extensions: { code: 'SUPERGRAPH_UNAVAILABLE' } })] };
    return executeOn(s, requestContext);
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      listeners.add(callback);
      return () => void listeners.delete(callback);
    },
    async load() {
      if (opts.source.kind === 'sdl') swap(opts.source.sdl);
      else {
        const init = await opts.source.manager.initialize({
          update: swap,
          healthCheck: async () => undefined,
          getDataSource: () => {
            throw new Error('not used');
          },
        });
        cleanup = init.cleanup;
        swap(init.supergraphSdl);
      }
      if (!loaded) throw new Error('the query planner could not load the supergraph');
      return { executor };
    },
    async stop() {
      await cleanup?.();
    },
    current: () => loaded,
    planBytes: () => plans.bytes(),
  };
}

/** Plans, executes and shapes one operation on `s`. */
export async function executeOn(s: LoadedSupergraph, requestContext: GatewayGraphQLRequestContext): Promise<{ data?: Record<string, unknown> | null; errors?: GraphQLError[] }> {
  const operation = requestContext.operation as OperationDefinitionNode;
  // Defaults applied, so conditions (@skip/@include) and subgraph variables see what the client meant.
  const coerced = getVariableValues(s.info.executionSchema, operation.variableDefinitions ?? [], requestContext.request.variables ?? {});
  if (coerced.errors) return { errors: coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })) };
  const variables = coerced.coerced;
  let plan: QueryPlan;
  try {
    const text = withoutIntrospection(requestContext.source, requestContext.document);
    plan = text === null ? { kind: 'QueryPlan' } : s.plan(text, requestContext.operationName, (requestContext.context as GatewayContext | undefined)?.trace);
  } catch (e) {
    return { errors: [new GraphQLError(`the operation could not be planned: ${(e as Error).message}`, { extensions: { code: 'QUERY_PLANNING_FAILED' } })] };
  }
  const send: SendFetch = async (serviceName, request, path) => {
    const service = s.services.get(serviceName);
    if (!service) throw new GraphQLError(`no subgraph named ${serviceName} in this supergraph`);
    void path;
    return service.process({ request, context: requestContext.context as GatewayContext });
  };
  const executed = await executePlan(plan.node, { variables, send, matches: s.info.matches });
  const shaped = shapeResponse({
    schema: s.info.executionSchema,
    introspectionSchema: s.info.introspectionSchema,
    document: { kind: Kind.DOCUMENT, definitions: requestContext.document.definitions },
    operationName: requestContext.operationName,
    // graphql-js coerces these itself; coerced values coerced again could differ (enums, custom scalars).
    variables: requestContext.request.variables,
    data: executed.data,
    fetchErrors: executed.errors,
  });
  return { data: shaped.data, ...(shaped.errors ? { errors: shaped.errors.map(toGraphQLError) } : {}) };
}

/**
 * The text to plan: introspection (`__schema`, `__type` at the root) is answered by graphql-js
 * from the API schema when the response is shaped, and the planner does not plan it. Null when
 * nothing else is asked.
 */
function withoutIntrospection(source: string, document: DocumentNode): string | null {
  if (!source.includes('__schema') && !source.includes('__type')) return source;
  const isIntrospection = (sel: SelectionNode) => sel.kind === Kind.FIELD && (sel.name.value === '__schema' || sel.name.value === '__type');
  let any = false;
  let rest = false;
  const definitions = document.definitions.map((d) => {
    if (d.kind !== Kind.OPERATION_DEFINITION) return d;
    const selections = d.selectionSet.selections.filter((sel) => {
      const drop = isIntrospection(sel);
      any ||= drop;
      rest ||= !drop && !(sel.kind === Kind.FIELD && sel.name.value === '__typename');
      return !drop;
    });
    return { ...d, selectionSet: { ...d.selectionSet, selections } };
  });
  if (!any) return source;
  if (!rest) return null;
  return print({ ...document, definitions });
}

export function toGraphQLError(e: GraphQLFormattedError): GraphQLError {
  return new GraphQLError(e.message, { path: e.path as (string | number)[] | undefined, extensions: e.extensions });
}
