// Fits the merged subgraph data to the client's operation: graphql-js executes the operation
// over the data, reading each field by its response name, so aliases, fragments, abstract
// types (by __typename), introspection and non-null propagation follow the GraphQL spec
// exactly. A null in a non-null position becomes an error at its path, unless a subgraph's
// error already explains that place (then that error is the one the client needs). So does a
// field that no fetch of the plan provided (an empty plan for it, an entity no fetch reached):
// never a silent null. A subgraph's own null (for a field, or for an entity) stays a null. The
// schema it executes on declares an interface no object type implements as an object type
// (supergraphInfo.ts, interfacesAsObjects); introspection is then answered from the API schema.
import {
  execute,
  GraphQLError,
  Kind,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type GraphQLTypeResolver,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import { ANSWERED_NULL } from './executePlan';

const fieldByResponseName: GraphQLFieldResolver<unknown, unknown> = (source, _args, _ctx, info) => {
  if (typeof source !== 'object' || source === null) return undefined;
  const value = (source as Record<string, unknown>)[info.path.key as string];
  // The hot path: every field a fetch provided is there, null included (a subgraph's null).
  if (value !== undefined || (source as Record<PropertyKey, unknown>)[ANSWERED_NULL] === true) return value;
  throw new GraphQLError(`${info.parentType.name}.${info.fieldName} could not be resolved: no fetch of the query plan provided it`, {
    extensions: { code: 'UNRESOLVED_FIELD' },
  });
};

const typeByTypename: GraphQLTypeResolver<unknown, unknown> = (value) => {
  const t = (value as { __typename?: unknown } | null)?.__typename;
  return typeof t === 'string' ? t : undefined;
};

export interface ShapedResponse {
  readonly data: Record<string, unknown> | null;
  readonly errors?: GraphQLFormattedError[];
}

const startsWith = (longer: ReadonlyArray<string | number>, prefix: ReadonlyArray<string | number>) => prefix.length <= longer.length && prefix.every((p, i) => longer[i] === p);

export function shapeResponse(opts: {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown>;
  readonly data: Record<string, unknown>;
  readonly fetchErrors: readonly GraphQLFormattedError[];
  /**
   * The schema introspection (`__schema`, `__type`) is answered from when `schema` differs from
   * the API schema (SupergraphInfo.introspectionSchema); without it, `schema` answers it.
   */
  readonly introspectionSchema?: GraphQLSchema;
}): ShapedResponse {
  let result = run(opts.schema, opts.document, opts);
  // Rare (a supergraph with an interface no object implements): only then is the operation looked at here.
  if (opts.introspectionSchema) {
    const introspection = introspectionOnly(opts.document, opts.operationName);
    if (introspection) result = withIntrospection(result, run(opts.introspectionSchema, introspection.document, opts), introspection.keys);
  }
  const errors: GraphQLFormattedError[] = [...opts.fetchErrors];
  // A subgraph error without a path may explain any null; then it is the whole story.
  const explained = (path: ReadonlyArray<string | number> | undefined) =>
    opts.fetchErrors.some((e) => !e.path || (path && (startsWith(path, e.path) || startsWith(e.path, path))));
  for (const e of result.errors ?? []) if (!explained(e.path)) errors.push(shapingError(e));
  return errors.length ? { data: (result.data as Record<string, unknown> | null) ?? null, errors } : { data: (result.data as Record<string, unknown> | null) ?? null };
}

function run(schema: GraphQLSchema, document: DocumentNode, opts: { readonly data: Record<string, unknown>; readonly variables?: Record<string, unknown>; readonly operationName?: string | null }): ExecutionResult {
  const result = execute({
    schema,
    document,
    rootValue: opts.data,
    variableValues: opts.variables,
    operationName: opts.operationName ?? undefined,
    fieldResolver: fieldByResponseName,
    typeResolver: typeByTypename,
  });
  if ('then' in result) throw new Error('shaping a response never waits: every field is read from the merged data');
  return result;
}

const isIntrospectionField = (name: string) => name === '__schema' || name === '__type';

/**
 * The document with the operation's root selections cut down to its introspection fields
 * (fragments spread at the root inlined, with their directives) and their response keys, or
 * null when it has none.
 */
function introspectionOnly(document: DocumentNode, operationName: string | null | undefined): { document: DocumentNode; keys: Set<string> } | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation || operation.operation !== 'query') return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  const keys = new Set<string>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const keep = (selections: readonly SelectionNode[]): SelectionNode[] => {
    const out: SelectionNode[] = [];
    for (const sel of selections) {
      if (sel.kind === Kind.FIELD) {
        if (isIntrospectionField(sel.name.value)) {
          out.push(sel);
          keys.add(sel.alias?.value ?? sel.name.value);
        }
        continue;
      }
      const fragment = sel.kind === Kind.INLINE_FRAGMENT ? sel : fragments.get(sel.name.value);
      const inner = fragment ? keep(fragment.selectionSet.selections) : [];
      if (inner.length > 0)
        out.push({ kind: Kind.INLINE_FRAGMENT, typeCondition: fragment!.typeCondition, directives: sel.directives, selectionSet: { kind: Kind.SELECTION_SET, selections: inner } });
    }
    return out;
  };
  const selections = keep(operation.selectionSet.selections);
  if (selections.length === 0) return null;
  const only: OperationDefinitionNode = { ...operation, selectionSet: { ...operation.selectionSet, selections } };
  return { document: { ...document, definitions: document.definitions.map((d) => (d === operation ? only : d)) }, keys };
}

/** `result` with the values and errors of its introspection fields (response `keys`) taken from `introspection`. */
function withIntrospection(result: ExecutionResult, introspection: ExecutionResult, keys: ReadonlySet<string>): ExecutionResult {
  const errors = [...(result.errors ?? []).filter((e) => !keys.has(e.path?.[0] as string)), ...(introspection.errors ?? [])];
  // Assigning existing keys keeps the response's field order; a null either side nulls it all, as one execution would.
  const data = result.data && introspection.data ? { ...result.data, ...introspection.data } : null;
  return errors.length ? { data, errors } : { data };
}

/** A null where the schema promises a value, a value of the wrong shape, or a field no fetch provided, that no subgraph error explains. */
function shapingError(e: GraphQLError): GraphQLFormattedError {
  const own = e.extensions?.code;
  const code = typeof own === 'string' ? own : /^Cannot return null for non-nullable field/.test(e.message) ? 'NON_NULL_VIOLATION' : 'INVALID_SUBGRAPH_RESPONSE';
  return { message: e.message, ...(e.path ? { path: e.path } : {}), extensions: { code } };
}
