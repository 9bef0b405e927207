// Operation limits (depth, aliases, estimated cost): checked after parsing and validation, before planning.
// Their settings from the environment: limitsFromEnv.ts.
//
// Why before planning: a query that fans out to millions of entity fetches must be refused while it
// is still a document, before the gateway spends subgraph calls on it.
//
// What is measured, for the one operation that will run (fragments expanded per use):
// - depth: field nesting levels; a top-level field is depth 1. `__typename` is a field like any other.
// - introspection: `__schema` and `__type` selections (counted per use, like aliases), and the depth
//   of the paths through them. Introspection is held to limits of its own rather than exempt:
//   tools' standard introspection query is 15 levels deep (deeper than data queries need), while
//   a hundred aliased `__schema` selections in one small request would answer megabytes.
// - aliases: fields written with an alias (`a: name`), counted each time a fragment is used.
// - cost: an upper-bound estimate of the work:
//     cost(field)     = 1 + size(field) x cost(its selection set)     (a leaf field costs 1)
//     size(field)     = 1 for a single object, else the page size when the field returns a list
//                       (possibly non-null wrapped) or a connection (a type with an `edges` field):
//                       the largest of its `first`, `last` and `limit` arguments (literal, variable, or
//                       the schema default), else `defaultListSize`
//     `edges`/`nodes` directly inside a connection cost no second multiplication: the connection
//     field already applied the page size to everything below it (pageInfo included, which only
//     overestimates). Lists of the introspection types (`__Type.fields` ...) count 1: their length
//     is the schema's, not the client's to choose, and the introspection limits bound them.
//   Fragments and inline fragments are expanded and SUMMED, also across the type conditions of an
//   abstract type (`... on A { } ... on B { }` costs A + B, not max(A, B)): a sum never underestimates,
//   and a document can only name so many type conditions. A field selected twice counts twice, for
//   the same reason.
// Fragment cycles cannot pass validation, but a cycle would hang this walk, so a spread already on
// the current path counts as empty. Each fragment is measured once and reused: its measure does not
// depend on where it is spread, and re-walking it per spread would let a small document of nested
// fragments cost exponential time here.

import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export interface OperationLimits {
  /** Deepest field nesting allowed (fragments expanded; __typename and introspection meta fields count too). @default 12 */
  readonly maxDepth: number;
  /** Most aliased fields allowed in one operation. @default 30 */
  readonly maxAliases: number;
  /** Highest estimated cost allowed. @default 5000 */
  readonly maxCost: number;
  /** Largest request body accepted, in bytes (checked by the HTTP layer; exported here for one place of truth). @default 102400 */
  readonly maxBodyBytes: number;
  /** Assumed size of a list field without a `first`/`last`/`limit` argument. @default 20 */
  readonly defaultListSize: number;
  /** Most `__schema` and `__type` selections in one operation (fragments expanded). @default 3 */
  readonly maxIntrospectionFields: number;
  /** Deepest nesting of a path through `__schema` or `__type` (the standard introspection query is 15). @default 20 */
  readonly maxIntrospectionDepth: number;
}

export const DEFAULT_LIMITS: OperationLimits = Object.freeze({
  maxDepth: 12,
  maxAliases: 30,
  maxCost: 5000,
  maxBodyBytes: 102_400,
  defaultListSize: 20,
  maxIntrospectionFields: 3,
  maxIntrospectionDepth: 20,
});

export interface OperationMeasure {
  depth: number;
  aliases: number;
  cost: number;
  /** `__schema` and `__type` selections. */
  introspectionFields: number;
  /** Deepest path through an introspection field (0 without one). */
  introspectionDepth: number;
}

const EMPTY: OperationMeasure = Object.freeze({ depth: 0, aliases: 0, cost: 0, introspectionFields: 0, introspectionDepth: 0 });
const INTROSPECTION_ROOTS: ReadonlySet<string> = new Set([SchemaMetaFieldDef.name, TypeMetaFieldDef.name]);

/**
 * Measures an operation (the one named operationName, or the only one) of a validated document
 * against the schema. An operation that cannot be selected measures as zero: execution reports
 * that error with a better message than a limit could.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
): OperationMeasure {
  const operation = getOperationAST(document, operationName);
  if (!operation) return { ...EMPTY };
  const root = schema.getRootType(operation.operation) ?? undefined;
  const walk: Walk = {
    schema,
    fragments: fragmentsByName(document),
    variables: coerceVariables(schema, operation, variables),
    defaultListSize: limits.defaultListSize,
    measured: new Map(),
    onPath: new Set(),
  };
  return { ...measureSelectionSet(walk, operation.selectionSet, root) };
}

/**
 * GraphQLErrors (extensions.code 'OPERATION_LIMIT', extensions.limit: 'depth'|'aliases'|'cost'|'introspection'|'introspectionDepth',
 * extensions.max, extensions.measured) for each limit exceeded; [] when within.
 */
export function checkLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
): GraphQLError[] {
  const measure = measureOperation(schema, document, operationName, variables, limits);
  const operation = getOperationAST(document, operationName) ?? undefined;
  const checks = [
    { limit: 'depth', label: 'depth', measured: measure.depth, max: limits.maxDepth },
    { limit: 'aliases', label: 'alias count', measured: measure.aliases, max: limits.maxAliases },
    { limit: 'cost', label: 'estimated cost', measured: measure.cost, max: limits.maxCost },
    {
      limit: 'introspection',
      label: 'count of __schema and __type selections',
      measured: measure.introspectionFields,
      max: limits.maxIntrospectionFields,
    },
    {
      limit: 'introspectionDepth',
      label: 'introspection depth',
      measured: measure.introspectionDepth,
      max: limits.maxIntrospectionDepth,
    },
  ] as const;
  return checks
    .filter((c) => c.measured > c.max)
    .map(
      (c) =>
        new GraphQLError(`operation ${c.label} ${c.measured} exceeds the maximum of ${c.max}`, {
          nodes: operation,
          extensions: { code: 'OPERATION_LIMIT', limit: c.limit, max: c.max, measured: c.measured },
        }),
    );
}

/** What one measurement carries along; `measured` and `onPath` make fragments linear-time and cycle-safe. */
interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Record<string, unknown>;
  readonly defaultListSize: number;
  readonly measured: Map<string, OperationMeasure>;
  readonly onPath: Set<string>;
}

function fragmentsByName(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

/** Coerced the way execution will coerce them, so a variable's own default (`$n: Int = 5`) counts. */
function coerceVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const result = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  // Bad variables fail execution anyway; measuring with the raw values keeps the limit check total.
  return result.coerced ?? { ...variables };
}

function measureSelectionSet(walk: Walk, selectionSet: SelectionSetNode, parentType: GraphQLCompositeType | undefined): OperationMeasure {
  let depth = 0;
  let aliases = 0;
  let cost = 0;
  let introspectionFields = 0;
  let introspectionDepth = 0;
  for (const selection of selectionSet.selections) {
    const m =
      selection.kind === Kind.FIELD
        ? measureField(walk, selection, parentType)
        : selection.kind === Kind.INLINE_FRAGMENT
          ? measureSelectionSet(walk, selection.selectionSet, conditionType(walk.schema, selection.typeCondition?.name.value) ?? parentType)
          : measureFragment(walk, selection.name.value);
    depth = Math.max(depth, m.depth);
    aliases += m.aliases;
    cost += m.cost;
    introspectionFields += m.introspectionFields;
    introspectionDepth = Math.max(introspectionDepth, m.introspectionDepth);
  }
  return { depth, aliases, cost, introspectionFields, introspectionDepth };
}

function measureFragment(walk: Walk, name: string): OperationMeasure {
  const known = walk.measured.get(name);
  if (known) return known;
  const fragment = walk.fragments.get(name);
  if (!fragment || walk.onPath.has(name)) return EMPTY;
  walk.onPath.add(name);
  const m = measureSelectionSet(walk, fragment.selectionSet, conditionType(walk.schema, fragment.typeCondition.name.value));
  walk.onPath.delete(name);
  walk.measured.set(name, m);
  return m;
}

function measureField(walk: Walk, node: FieldNode, parentType: GraphQLCompositeType | undefined): OperationMeasure {
  const field = parentType ? fieldDefinition(walk.schema, parentType, node.name.value) : undefined;
  const childType = field ? getNamedType(field.type) : undefined;
  const below = node.selectionSet
    ? measureSelectionSet(walk, node.selectionSet, childType && isCompositeType(childType) ? childType : undefined)
    : EMPTY;
  const aliases = (node.alias ? 1 : 0) + below.aliases;
  const cost = 1 + fieldSize(walk, node, field, parentType) * below.cost;
  // Below `__schema`/`__type` everything is introspection: its depth is measured apart.
  if (field && INTROSPECTION_ROOTS.has(field.name))
    return { depth: 0, aliases, cost, introspectionFields: 1 + below.introspectionFields, introspectionDepth: 1 + Math.max(below.depth, below.introspectionDepth) };
  return {
    depth: 1 + below.depth,
    aliases,
    cost,
    introspectionFields: below.introspectionFields,
    introspectionDepth: below.introspectionDepth > 0 ? 1 + below.introspectionDepth : 0,
  };
}

/** How many times the field's selection set is resolved: 1, or the page size of a list or connection. */
function fieldSize(walk: Walk, node: FieldNode, field: GraphQLField<unknown, unknown> | undefined, parentType: GraphQLCompositeType | undefined): number {
  if (!field) return 1;
  if (parentType?.name.startsWith('__')) return 1;
  const returnsList = isListType(getNullableType(field.type));
  if (!returnsList && !isConnection(getNamedType(field.type))) return 1;
  // The connection field above already multiplied by its page size.
  if (returnsList && parentType && isConnection(parentType) && (field.name === 'edges' || field.name === 'nodes')) return 1;
  return pageSize(walk, node, field) ?? walk.defaultListSize;
}

/** The largest of `first`, `last` and `limit` that is a usable count; undefined when none is. */
function pageSize(walk: Walk, node: FieldNode, field: GraphQLField<unknown, unknown>): number | undefined {
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(field, node, walk.variables);
  } catch {
    // Only reachable with invalid input, which execution rejects; fall back to the default size.
    return undefined;
  }
  const sizes = ['first', 'last', 'limit']
    .map((name) => args[name])
    .filter((v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
  return sizes.length > 0 ? Math.max(...sizes) : undefined;
}

function isConnection(type: GraphQLNamedType): boolean {
  return (isObjectType(type) || isInterfaceType(type)) && type.getFields().edges !== undefined;
}

/** Meta fields are not in any type's field map but must be measured like the fields they are. */
function fieldDefinition(schema: GraphQLSchema, parentType: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parentType === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
}

function conditionType(schema: GraphQLSchema, name: string | undefined): GraphQLCompositeType | undefined {
  const type = name === undefined ? undefined : schema.getType(name);
  return type && isCompositeType(type) ? type : undefined;
}
