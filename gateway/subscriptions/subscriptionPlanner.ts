// Plans client subscriptions against one supergraph. @apollo/query-planner plans a
// subscription as `Subscription { primary, rest }`: `primary` is sent to the owning subgraph
// over graphql-ws, `rest` (entity fetches to other subgraphs) runs for every event. A plan
// holds its supergraph, so a subscription keeps the plan it started with across reloads.
import { buildOperationContext, type ServiceMap } from '@apollo/gateway';
import { baseType, operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import {
  Kind,
  parse,
  print,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { createBoundedCache, estimateDocumentBytes, type BoundedCache } from '../boundedCache';

/** The service name the event's own data is "fetched" from when `rest` runs. */
export const PRIMARY_SERVICE = '__subscription_event__';
/** Aliases under which the primary fetch also asks for the root object's key fields. */
const KEY_ALIAS_PREFIX = '__sg_key_';

export interface SubscriptionPlan {
  readonly supergraph: SupergraphPlanner;
  /** Sent to the owning subgraph, asking also for the root object's key fields. */
  readonly primary: { readonly serviceName: string; readonly operation: string; readonly operationName?: string; readonly variableUsages: readonly string[] };
  /** `Sequence [the event as a fetch, rest]`: run by @apollo/gateway's executor per event. */
  readonly eventPlan: QueryPlan;
  readonly operationContext: ReturnType<typeof buildOperationContext>;
  readonly hasRest: boolean;
  /**
   * The identity of the object an event is about (its federation key), or null when the
   * root field's type has no key the owning subgraph serves. Events with a key are states:
   * a lagging client only needs the newest per key (conflation), and a client joining a
   * shared subscription gets the latest of each.
   */
  keyOf(data: Record<string, unknown> | null | undefined): string | null;
}

export interface SupergraphPlanner {
  /** Increases with every supergraph the gateway loads; part of the sharing key. */
  readonly id: number;
  /** The core supergraph SDL this planner was built from. */
  readonly sdl: string;
  readonly subgraphs: readonly { readonly name: string; readonly url: string }[];
  readonly apiSchema: GraphQLSchema;
  readonly apiFederationSchema: Schema;
  readonly supergraphSchema: GraphQLSchema;
  /** graphql-ws URL of each subgraph (its HTTP URL with ws:/wss:, same path). */
  wsUrlOf(serviceName: string): string;
  /** Plans a validated subscription document; plans are cached per query text. */
  plan(queryText: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan;
}

let nextSupergraphId = 1;

/**
 * Plans of one gateway, shared by its successive supergraphs (keys carry the supergraph's id,
 * so a replaced supergraph's plans age out). A plan holds its document's AST and the planner's
 * output, about twice the document's own estimate.
 */
export function createPlanCache(maxBytes: number): BoundedCache<SubscriptionPlan> {
  return createBoundedCache<SubscriptionPlan>({ name: 'subscription_plans', maxBytes, sizeOf: (key) => 2 * estimateDocumentBytes(key.length) });
}

/** Plans cached per supergraph when no shared cache is given (tests, tools). */
const DEFAULT_PLAN_CACHE_BYTES = 16 * 2 ** 20;

export function createSupergraphPlanner(coreSupergraphSdl: string, planCache: BoundedCache<SubscriptionPlan> = createPlanCache(DEFAULT_PLAN_CACHE_BYTES)): SupergraphPlanner {
  const supergraph = Supergraph.build(coreSupergraphSdl);
  const apiFederationSchema = supergraph.apiSchema();
  const apiSchema = apiFederationSchema.toGraphQLJSSchema();
  const supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = new QueryPlanner(supergraph);
  const subgraphs = supergraph.subgraphs();
  const urls = new Map(supergraph.subgraphsMetadata().map((s) => [s.name, s.url]));
  const id = nextSupergraphId++;

  const self: SupergraphPlanner = {
    id,
    sdl: coreSupergraphSdl,
    subgraphs: supergraph.subgraphsMetadata(),
    apiSchema,
    apiFederationSchema,
    supergraphSchema,
    wsUrlOf(serviceName) {
      const url = urls.get(serviceName);
      if (!url) throw new Error(`no subgraph named ${serviceName} in this supergraph`);
      return url.replace(/^http(s?):/, 'ws$1:');
    },
    plan(queryText, document, operationName) {
      const cacheKey = `${id}\n${operationName ?? ''}\n${queryText}`;
      const cached = planCache.get(cacheKey);
      if (cached) return cached;
      const operation = operationFromDocument(apiFederationSchema, document, { operationName });
      const queryPlan = planner.buildQueryPlan(operation);
      const node = queryPlan.node;
      if (!node || node.kind !== 'Subscription') throw new Error('not a subscription plan');
      const primary = node.primary;
      const primaryDoc = parse(primary.operation);
      const root = rootField(primaryDoc);
      const keyFields = rootKeyFields(primary.serviceName, root);
      const eventFetch: FetchNode = { ...primary, serviceName: PRIMARY_SERVICE };
      const eventNode: PlanNode = node.rest ? { kind: 'Sequence', nodes: [eventFetch, node.rest] } : eventFetch;
      const rootKey = root.alias?.value ?? root.name.value;
      const plan: SubscriptionPlan = {
        supergraph: self,
        primary: {
          serviceName: primary.serviceName,
          operation: keyFields ? withKeyFields(primaryDoc, rootKey, keyFields) : primary.operation,
          operationName: primary.operationName,
          variableUsages: primary.variableUsages ?? [],
        },
        eventPlan: { kind: 'QueryPlan', node: eventNode },
        operationContext: buildOperationContext({ schema: apiSchema, operationDocument: document, operationName }),
        hasRest: node.rest !== undefined,
        keyOf: (data) => {
          if (!keyFields || !data) return null;
          const value = data[rootKey];
          if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
          const parts: unknown[] = [];
          for (const f of keyFields) {
            const v = (value as Record<string, unknown>)[KEY_ALIAS_PREFIX + f];
            if (v === undefined || v === null) return null;
            parts.push(v);
          }
          return JSON.stringify(parts);
        },
      };
      // Bounded in bytes: a client sending endless distinct documents must not grow it forever.
      planCache.set(cacheKey, plan);
      return plan;
    },
  };

  /** Scalar key fields of the root field's type in the subgraph that serves it, if any. */
  function rootKeyFields(serviceName: string, root: FieldNode): string[] | null {
    const subgraph = subgraphs.get(serviceName);
    if (!subgraph) return null;
    const field = subgraph.schema.schemaDefinition.root('subscription')?.type.field(root.name.value);
    if (!field?.type) return null;
    const type = baseType(field.type);
    if (type.kind !== 'ObjectType' && type.kind !== 'InterfaceType') return null;
    const keyDirective = subgraph.metadata().keyDirective();
    for (const key of type.appliedDirectivesOf(keyDirective)) {
      const fields = String(key.arguments().fields).trim().split(/[\s,]+/);
      // Nested keys ("a { b }") are not used for conflation; such events are simply not conflated.
      if (fields.some((f) => !/^[_A-Za-z][_0-9A-Za-z]*$/.test(f))) continue;
      if (fields.every((f) => type.field(f) !== undefined)) return fields;
    }
    return null;
  }

  return self;
}

/** Runs the executor for one event: the plan's data sources plus the event as a fetch. */
export function serviceMapWithEvent(base: ServiceMap, event: { data?: unknown; errors?: readonly unknown[] }): ServiceMap {
  return {
    ...base,
    [PRIMARY_SERVICE]: {
      process: async () => ({ data: (event.data ?? null) as Record<string, unknown> | null, errors: event.errors as never }),
    },
  };
}

function rootField(doc: DocumentNode): FieldNode {
  const op = doc.definitions[0] as OperationDefinitionNode;
  const field = op.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD);
  if (!field) throw new Error('subscription without a root field');
  return field;
}

/** The primary operation with the root object's key fields added under reserved aliases. */
function withKeyFields(doc: DocumentNode, rootKey: string, keyFields: readonly string[]): string {
  const op = doc.definitions[0] as OperationDefinitionNode;
  const extra: FieldNode[] = keyFields.map((f) => ({
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: KEY_ALIAS_PREFIX + f },
    name: { kind: Kind.NAME, value: f },
  }));
  const selections = op.selectionSet.selections.map((s) =>
    s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === rootKey && s.selectionSet
      ? { ...s, selectionSet: { ...s.selectionSet, selections: [...s.selectionSet.selections, ...extra] } }
      : s,
  );
  return print({ ...doc, definitions: [{ ...op, selectionSet: { ...op.selectionSet, selections } }] });
}
