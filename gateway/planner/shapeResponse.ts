// Fits the merged subgraph data to the client's operation: graphql-js executes the operation
// over the data, reading each field by its response name, so aliases, fragments, abstract
// types (by __typename), introspection and non-null propagation follow the GraphQL spec
// exactly. A null in a non-null position becomes an error at its path, unless a subgraph's
// error already explains that place (then that error is the one the client needs). So does a
// field that no fetch of the plan provided (an empty plan for it, an entity no fetch reached):
// never a silent null. A subgraph's own null (for a field, or for an entity) stays a null.
import { execute, GraphQLError, type DocumentNode, type GraphQLFieldResolver, type GraphQLFormattedError, type GraphQLSchema, type GraphQLTypeResolver } from 'graphql';
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
}): ShapedResponse {
  const result = execute({
    schema: opts.schema,
    document: opts.document,
    rootValue: opts.data,
    variableValues: opts.variables,
    operationName: opts.operationName ?? undefined,
    fieldResolver: fieldByResponseName,
    typeResolver: typeByTypename,
  });
  if ('then' in result) throw new Error('shaping a response never waits: every field is read from the merged data');
  const errors: GraphQLFormattedError[] = [...opts.fetchErrors];
  // A subgraph error without a path may explain any null; then it is the whole story.
  const explained = (path: ReadonlyArray<string | number> | undefined) =>
    opts.fetchErrors.some((e) => !e.path || (path && (startsWith(path, e.path) || startsWith(e.path, path))));
  for (const e of result.errors ?? []) if (!explained(e.path)) errors.push(shapingError(e));
  return errors.length ? { data: (result.data as Record<string, unknown> | null) ?? null, errors } : { data: (result.data as Record<string, unknown> | null) ?? null };
}

/** A null where the schema promises a value, a value of the wrong shape, or a field no fetch provided, that no subgraph error explains. */
function shapingError(e: GraphQLError): GraphQLFormattedError {
  const own = e.extensions?.code;
  const code = typeof own === 'string' ? own : /^Cannot return null for non-nullable field/.test(e.message) ? 'NON_NULL_VIOLATION' : 'INVALID_SUBGRAPH_RESPONSE';
  return { message: e.message, ...(e.path ? { path: e.path } : {}), extensions: { code } };
}
