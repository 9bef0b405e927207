// What the gateway reads from a supergraph besides its plans: the subgraphs and their URLs, the
// client-facing (API) schema, abstract types' members, and the keys each subgraph resolves an
// entity by. Read from the supergraph SDL's join__ directives with graphql-js alone.
import {
  buildASTSchema,
  isAbstractType,
  isInterfaceType,
  Kind,
  parse,
  print,
  type ConstDirectiveNode,
  type DefinitionNode,
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
  /**
   * The same schema, never handed out: responses are shaped on it with resolvers of our own.
   * An interface no object type implements is an object type here (interfacesAsObjects).
   */
  readonly executionSchema: GraphQLSchema;
  /**
   * Only when executionSchema differs from the API schema (an interface without a possible
   * type): a copy of the API schema, never handed out, that introspection is answered from.
   */
  readonly introspectionSchema?: GraphQLSchema;
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
  const apiSchema = schemaFromConsumerSdl(apiSchemaSdl);
  const unimplemented = interfacesWithoutObjects(apiSchema);
  return {
    sdl,
    subgraphs,
    apiSchema,
    ...(unimplemented.size === 0
      ? { executionSchema: schemaFromConsumerSdl(apiSchemaSdl) }
      : { executionSchema: schemaFromConsumerSdl(interfacesAsObjects(apiSchemaSdl, unimplemented)), introspectionSchema: schemaFromConsumerSdl(apiSchemaSdl) }),
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

/** The interfaces of `schema` that no object type implements, directly or through another interface. */
export function interfacesWithoutObjects(schema: GraphQLSchema): Set<string> {
  const names = new Set<string>();
  for (const type of Object.values(schema.getTypeMap()))
    if (isInterfaceType(type) && !type.name.startsWith('__') && schema.getPossibleTypes(type).length === 0) names.add(type.name);
  return names;
}

/**
 * The rule for a value of an interface that no object type implements (an @interfaceObject's
 * interface, say, whose implementations no subgraph declares): the value can have no other
 * runtime type than the interface itself, so the gateway answers it as the interface: its
 * __typename is the interface's name (what the @interfaceObject subgraph that returned it says
 * too) and its fields are the interface's own, fragments on the interface (or on an interface
 * it implements) applying and fragments on anything else not. graphql-js can complete a value
 * only as an object type, so the execution schema declares each such interface as an object
 * type of the same name and fields, implementing the interfaces the interface implements except
 * those converted too (an object cannot implement an object: for interfaces without objects that
 * implement each other, a fragment on such an ancestor does not apply to the value, the one
 * reading that differs from the API schema's). Nothing else changes, and a supergraph without
 * such interfaces keeps the API schema as it is. Introspection still describes them as the
 * interfaces they are (shapeResponse.ts answers it from the API schema). The check is made once
 * per supergraph; the hot path is unchanged.
 */
export function interfacesAsObjects(apiSchemaSdl: string, names: ReadonlySet<string>): string {
  const converted = (named: { readonly name: { readonly value: string } }) => names.has(named.name.value);
  const definitions = parse(apiSchemaSdl).definitions.map((def): DefinitionNode => {
    if ((def.kind !== Kind.INTERFACE_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_EXTENSION) || !converted(def)) return def;
    // Its own directives are left out: a directive allowed on interfaces only would not be valid here, and none matters to execution.
    const interfaces = def.interfaces?.filter((i) => !converted(i));
    return def.kind === Kind.INTERFACE_TYPE_DEFINITION
      ? { ...def, kind: Kind.OBJECT_TYPE_DEFINITION, interfaces, directives: [] }
      : { ...def, kind: Kind.OBJECT_TYPE_EXTENSION, interfaces, directives: [] };
  });
  return print({ kind: Kind.DOCUMENT, definitions });
}
