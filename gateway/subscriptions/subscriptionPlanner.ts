// Plans client subscriptions against one supergraph with the same Rust planner and executor
// as queries (gateway/planner). A subscription plan is `Sequence [Subscription { primary },
// rest]`: `primary` is sent to the owning subgraph over graphql-ws, `rest` (entity fetches to
// other subgraphs) runs for every event, then the event is shaped to the client's operation.
// A plan holds its supergraph, so a subscription keeps the plan it started with across reloads.
import {
  getNamedType,
  Kind,
  parse,
  print,
  type DocumentNode,
  type FieldNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { createBoundedCache, estimateDocumentBytes, type BoundedCache } from '../boundedCache';
import { executePlan, type SendFetch } from '../planner/executePlan';
import { QueryPlanner, type FetchNode, type PlanNode } from '../planner/hivePlanner';
import { nameFetches } from '../planner/nameFetches';
import type { GatewayContext } from '../execution/context';
import type { SubgraphSource } from '../execution/subgraphDataSource';
import { shapeResponse } from '../planner/shapeResponse';
import { readSupergraph, type SupergraphInfo } from '../planner/supergraphInfo';

/** The service name the event's own data is "fetched" from when `rest` runs. */
export const PRIMARY_SERVICE = '__subscription_event__';
/** Aliases under which the primary fetch also asks for the root object's key fields. */
const KEY_ALIAS_PREFIX = '__sg_key_';

/** The data sources of one supergraph's subgraphs, by name. */
export type ServiceMap = Record<string, SubgraphSource>;

/** One upstream event: the primary's answer. */
export interface UpstreamEvent {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLFormattedError[];
}

export interface SubscriptionPlan {
  readonly supergraph: SupergraphPlanner;
  /** Sent to the owning subgraph, asking also for the root object's key fields. */
  readonly primary: { readonly serviceName: string; readonly operation: string; readonly operationName?: string; readonly variableUsages: readonly string[] };
  /** `Sequence [the event as a fetch, rest]`, run per event. */
  readonly eventNode: PlanNode;
  readonly hasRest: boolean;
  /**
   * The identity of the object an event is about (its federation key), or null when the
   * root field's type has no key the owning subgraph serves. Events with a key are states:
   * a lagging client only needs the newest per key (conflation), and a client joining a
   * shared subscription gets the latest of each.
   */
  keyOf(data: Record<string, unknown> | null | undefined): string | null;
  /** Resolves one event: `rest`'s entity fetches through `services`, then shaped to the client's operation. */
  executeEvent(
    services: ServiceMap,
    event: UpstreamEvent,
    request: { readonly variables: Record<string, unknown>; readonly operationName?: string },
    context: unknown,
  ): Promise<{ data: Record<string, unknown> | null; errors?: GraphQLFormattedError[] }>;
}

export interface SupergraphPlanner {
  /** Increases with every supergraph the gateway loads; part of the sharing key. */
  readonly id: number;
  /** The core supergraph SDL this planner was built from. */
  readonly sdl: string;
  readonly subgraphs: readonly { readonly name: string; readonly url: string }[];
  readonly apiSchema: GraphQLSchema;
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
  const planner = new QueryPlanner(coreSupergraphSdl);
  const info: SupergraphInfo = readSupergraph(coreSupergraphSdl, planner.consumerSchema);
  const urls = new Map(info.subgraphs.map((s) => [s.name, s.url]));
  const id = nextSupergraphId++;
  const noLabels = new Set<string>();

  const self: SupergraphPlanner = {
    id,
    sdl: coreSupergraphSdl,
    subgraphs: info.subgraphs,
    apiSchema: info.apiSchema,
    wsUrlOf(serviceName) {
      const url = urls.get(serviceName);
      if (!url) throw new Error(`no subgraph named ${serviceName} in this supergraph`);
      return url.replace(/^http(s?):/, 'ws$1:');
    },
    plan(queryText, document, operationName) {
      const cacheKey = `${id}\n${operationName ?? ''}\n${queryText}`;
      const cached = planCache.get(cacheKey);
      if (cached) return cached;
      // Fetches are named after the operation even when the client did not send its name.
      const named = operationName ?? document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)?.name?.value;
      const { primary, rest } = splitSubscription(nameFetches(planner.plan(queryText, operationName ?? null, noLabels, 0), named).node);
      const primaryDoc = parse(primary.operation);
      const root = rootField(primaryDoc);
      const keyFields = rootKeyFields(primary.serviceName, root);
      const eventFetch: FetchNode = { ...primary, kind: 'Fetch', serviceName: PRIMARY_SERVICE };
      const eventNode: PlanNode = rest ? { kind: 'Sequence', nodes: [eventFetch, rest] } : eventFetch;
      const rootKey = root.alias?.value ?? root.name.value;
      // Shaped on the client's own document, validated before planning.
      const clientDocument: DocumentNode = { kind: Kind.DOCUMENT, definitions: document.definitions };
      // Per plan, so bounded by its fetches: whether each fetch may be shared across callers.
      const independent = new Map<string, boolean>();
      const sharedAcrossCallers = (operation: string | undefined): boolean => {
        if (operation === undefined) return false;
        let hit = independent.get(operation);
        if (hit === undefined) independent.set(operation, (hit = info.isCallerIndependentFetch(operation)));
        return hit;
      };
      const plan: SubscriptionPlan = {
        supergraph: self,
        primary: {
          serviceName: primary.serviceName,
          operation: keyFields ? withKeyFields(primaryDoc, rootKey, keyFields) : primary.operation,
          operationName: primary.operationName,
          variableUsages: primary.variableUsages ?? [],
        },
        eventNode,
        hasRest: rest !== undefined,
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
        async executeEvent(services, event, request, context) {
          const send: SendFetch = async (serviceName, req, path) => {
            // The event is the primary's answer, named after the subgraph that sent it.
            if (serviceName === PRIMARY_SERVICE)
              return { data: event.data ?? null, errors: event.errors?.map((e) => ({ ...e, extensions: { ...e.extensions, serviceName: primary.serviceName } })) };
            const service = services[serviceName];
            if (!service) throw new Error(`no subgraph named ${serviceName} in this supergraph`);
            void path;
            return service.process({ request: req, context: context as GatewayContext, sharedAcrossCallers: sharedAcrossCallers(req.query) });
          };
          const executed = await executePlan(eventNode, { variables: request.variables, send, matches: info.matches });
          const shaped = shapeResponse({
            schema: info.executionSchema,
            document: clientDocument,
            operationName: request.operationName,
            variables: request.variables,
            data: executed.data,
            fetchErrors: executed.errors,
          });
          return shaped.errors ? { data: shaped.data, errors: shaped.errors } : { data: shaped.data };
        },
      };
      // Bounded in bytes: a client sending endless distinct documents must not grow it forever.
      planCache.set(cacheKey, plan);
      return plan;
    },
  };

  /** Scalar key fields of the root field's type in the subgraph that serves it, if any. */
  function rootKeyFields(serviceName: string, root: FieldNode): string[] | null {
    const field = info.apiSchema.getSubscriptionType()?.getFields()[root.name.value];
    if (!field) return null;
    const type = getNamedType(field.type);
    if (!('getFields' in type)) return null;
    const fieldsOfType = type.getFields();
    for (const key of info.keysOf(type.name, serviceName)) {
      const fields = key.trim().split(/[\s,]+/);
      // Nested keys ("a { b }") are not used for conflation; such events are simply not conflated.
      if (fields.some((f) => !/^[_A-Za-z][_0-9A-Za-z]*$/.test(f))) continue;
      if (fields.every((f) => fieldsOfType[f] !== undefined)) return fields;
    }
    return null;
  }

  return self;
}

/** The Rust planner's subscription plan: `Subscription { primary }`, alone or first in a Sequence. */
function splitSubscription(node: PlanNode | undefined): { primary: FetchNode; rest?: PlanNode } {
  if (node?.kind === 'Subscription') return { primary: node.primary };
  if (node?.kind === 'Sequence' && node.nodes[0]?.kind === 'Subscription') {
    const [first, ...others] = node.nodes;
    const rest: PlanNode | undefined = others.length === 0 ? undefined : others.length === 1 ? others[0] : { kind: 'Sequence', nodes: others };
    return { primary: (first as { primary: FetchNode }).primary, rest };
  }
  throw new Error('not a subscription plan');
}

function operationOf(doc: DocumentNode): OperationDefinitionNode {
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) throw new Error('subscription plan without an operation');
  return op;
}

function rootField(doc: DocumentNode): FieldNode {
  const field = operationOf(doc).selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD);
  if (!field) throw new Error('subscription without a root field');
  return field;
}

/** The primary operation with the root object's key fields added under reserved aliases. */
function withKeyFields(doc: DocumentNode, rootKey: string, keyFields: readonly string[]): string {
  const op = operationOf(doc);
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
  // The planner may share selections through fragments: they go along with the operation.
  return print({ ...doc, definitions: doc.definitions.map((d) => (d === op ? { ...op, selectionSet: { ...op.selectionSet, selections } } : d)) });
}
