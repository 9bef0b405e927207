// What the gateway reads from a supergraph besides its plans: the subgraphs and their URLs, the
// client-facing (API) schema, abstract types' members, and the keys each subgraph resolves an
// entity by. Read from the supergraph SDL's join__ directives with graphql-js alone.
import {
  buildASTSchema,
  isAbstractType,
  Kind,
  parse,
  type ConstDirectiveNode,
  type GraphQLSchema,
} from 'graphql';
import { schemaFromConsumerSdl } from '../../platform/schemaChecks';
import { isCallerIndependentFetch, markedFields } from './callerIndependence';

export interface SupergraphSubgraph {
  readonly name: string;
  readonly url: string;
  /** The join__Graph enum value naming it in join__ directives. */
  readonly graph: string;
}

export interface SupergraphInfo {
  readonly sdl: string;
  readonly subgraphs: readonly SupergraphSubgraph[];
  /** The schema clients query (handed to Apollo Server, which may wrap its fields' resolvers). */
  readonly apiSchema: GraphQLSchema;
  /** The same schema, never handed out: responses are shaped on it with resolvers of our own. */
  readonly executionSchema: GraphQLSchema;
  /** Whether an object of type `typename` matches a type condition (itself, or an abstract type it belongs to). */
  matches(typeCondition: string, typename: string): boolean;
  /** The key field sets `subgraph` declares for `type`, as written (resolvable or not: a key is an identity either way). */
  keysOf(type: string, subgraph: string): string[];
  /** Whether a subgraph operation is an entity fetch of `@callerIndependent` fields only (callerIndependence.ts). */
  isCallerIndependentFetch(operation: string): boolean;
}

const stringArg = (d: ConstDirectiveNode, name: string): string | undefined => {
  const arg = d.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
};
const enumArg = (d: ConstDirectiveNode, name: string): string | undefined => {
  const arg = d.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.ENUM ? arg.value.value : undefined;
};

/** `apiSchemaSdl`: the API schema the planner derived (QueryPlanner.consumerSchema). */
export function readSupergraph(sdl: string, apiSchemaSdl: string): SupergraphInfo {
  const doc = parse(sdl);
  const subgraphs: SupergraphSubgraph[] = [];
  const keys = new Map<string, string[]>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && def.name.value === 'join__Graph')
      for (const v of def.values ?? []) {
        const d = v.directives?.find((x) => x.name.value === 'join__graph');
        if (d) subgraphs.push({ name: stringArg(d, 'name') ?? v.name.value.toLowerCase(), url: stringArg(d, 'url') ?? '', graph: v.name.value });
      }
  }
  const graphName = new Map(subgraphs.map((s) => [s.graph, s.name]));
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'join__type') continue;
      const graph = enumArg(d, 'graph');
      const key = stringArg(d, 'key');
      if (!graph || !key) continue;
      const id = `${def.name.value}\n${graphName.get(graph)}`;
      keys.set(id, [...(keys.get(id) ?? []), key]);
    }
  }
  // The supergraph as graphql-js sees it, for abstract types' members (its own directive
  // definitions are in the SDL; nothing here is executed).
  const full = buildASTSchema(doc, { assumeValidSDL: true });
  const memberCache = new Map<string, boolean>();
  const marked = markedFields(doc);
  return {
    sdl,
    subgraphs,
    apiSchema: schemaFromConsumerSdl(apiSchemaSdl),
    executionSchema: schemaFromConsumerSdl(apiSchemaSdl),
    matches(typeCondition, typename) {
      if (typeCondition === typename) return true;
      const id = `${typeCondition}\n${typename}`;
      let hit = memberCache.get(id);
      if (hit === undefined) {
        const abstract = full.getType(typeCondition);
        const object = full.getType(typename);
        hit = !!abstract && !!object && isAbstractType(abstract) && 'getInterfaces' in object && full.isSubType(abstract, object as never);
        memberCache.set(id, hit);
      }
      return hit;
    },
    keysOf: (type, subgraph) => keys.get(`${type}\n${subgraph}`) ?? [],
    isCallerIndependentFetch: (operation) => isCallerIndependentFetch(operation, full, marked),
  };
}

