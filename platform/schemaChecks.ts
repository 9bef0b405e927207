// Checks a schema change against what clients do and against what hurts them, before it
// reaches the graph. Pure: the caller brings the supergraphs and the recorded operations.
import {
  buildASTSchema,
  Kind,
  OperationTypeNode,
  parse,
  validate,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLSchema,
  type TypeNode,
} from 'graphql';
import type { RecordedOperation } from './operationLog';

/**
 * The schema clients query (the supergraph's API schema), as the gateway's planner derives it
 * (the Rust planner's consumer schema; it lists graphql-js's own introspection types and
 * built-in directives, which are left out here).
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  // Required lazily: the native planner is loaded only where schema changes are checked.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { QueryPlanner } = require('@graphql-hive/router-query-planner') as { QueryPlanner: new (sdl: string) => { consumerSchema: string } };
  return schemaFromConsumerSdl(new QueryPlanner(supergraphSdl).consumerSchema);
}

const BUILT_IN_DIRECTIVES = new Set(['skip', 'include', 'deprecated', 'specifiedBy', 'oneOf']);

/** A GraphQL schema from the planner's consumer schema, without what graphql-js provides itself. */
export function schemaFromConsumerSdl(sdl: string): GraphQLSchema {
  const doc = parse(sdl);
  const definitions: DefinitionNode[] = [];
  for (const def of doc.definitions) {
    if (def.kind === Kind.DIRECTIVE_DEFINITION && BUILT_IN_DIRECTIVES.has(def.name.value)) continue;
    if ('name' in def && def.name?.value.startsWith('__')) continue;
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION && def.fields?.some((f) => f.name.value.startsWith('__')))
      definitions.push({ ...def, fields: def.fields.filter((f) => !f.name.value.startsWith('__')) });
    else definitions.push(def);
  }
  return buildASTSchema({ ...doc, definitions });
}

export interface BreakingOperation {
  /** The operation's name, or `anonymous operation <hash prefix>`. */
  readonly operation: string;
  readonly hash: string;
  /** The first validation error against the candidate schema. */
  readonly error: string;
  readonly lastSeen: number;
}

/**
 * Recorded operations that validate against the graph as it is and would not against the
 * candidate. An operation already invalid now (written against an older graph) is not the
 * change's doing and does not count.
 */
export function breakingOperations(current: GraphQLSchema | null, candidate: GraphQLSchema, operations: readonly RecordedOperation[]): BreakingOperation[] {
  const out: BreakingOperation[] = [];
  for (const op of operations) {
    let doc: DocumentNode;
    try {
      doc = parse(op.text, { maxTokens: 50_000 });
    } catch {
      continue;
    }
    if (current && validate(current, doc).length > 0) continue;
    const errors = validate(candidate, doc);
    if (errors.length === 0) continue;
    out.push({ operation: op.name ?? `anonymous operation ${op.hash.slice(0, 12)}`, hash: op.hash, error: errors[0].message, lastSeen: op.lastSeen });
  }
  return out;
}

/** Subgraph SDLs by name, as published (or about to be). */
export interface NamedSdl {
  readonly name: string;
  readonly sdl: string;
}

const isNonNull = (t: TypeNode) => t.kind === Kind.NON_NULL_TYPE;
/** The type a field returns when it returns one object (`T` or `T!`, not a list). */
const singleType = (t: TypeNode): string | null => (t.kind === Kind.NAMED_TYPE ? t.name.value : t.kind === Kind.NON_NULL_TYPE ? singleType(t.type) : null);
const directive = (node: { readonly directives?: readonly ConstDirectiveNode[] }, name: string) => (node.directives ?? []).filter((d) => d.name.value === name);

/** How one subgraph defines one entity type. */
interface EntityDefinition {
  /** The top-level fields of its @key field sets. */
  readonly keyFields: Set<string>;
  /** It has a @key without `resolvable: false`: the gateway may enter it with a representation. */
  resolvable: boolean;
  /** It has a root query field that returns the type itself (`product(id: ID!): Product`). */
  lookup: boolean;
  /** Its own fields: not @external (key fields are taken out once every subgraph's keys are known). */
  readonly fields: { readonly field: string; readonly nonNull: boolean }[];
}

/**
 * Non-null fields that `name` adds to an entity another subgraph owns. When `name` is down,
 * such a null climbs to the nearest nullable parent and takes the other team's fields with it
 * (a ratings outage nulls the whole Product); nullable fields lose only themselves.
 *
 * Federation 2 has no owner of a type, so the rule says what it takes one to be:
 * - A subgraph *serves* a field of entity T when it defines the field on T, the field is not a
 *   key field (of any subgraph's @key on T: every subgraph that knows T has those) and it is
 *   not @external (another subgraph's, declared only for @requires or @provides).
 * - T's *owners* are the subgraphs that serve fields of T and look T up at the root: a field of
 *   the query type that returns one T (`product(id: ID!): Product`; a list or a connection
 *   does not count). The owner decides which T exist: an id it does not know is null there and
 *   no other subgraph is asked. An extension adds fields to the T others hand out and offers no
 *   lookup of its own. When no subgraph looks T up, every other subgraph that serves fields of
 *   T counts as an owner: there is no telling whose entity it is, and either side's outage
 *   would take the other's fields, so each side is warned.
 * - `name` *extends* T when it serves fields of T, is not one of T's owners, and has a @key on
 *   T without `resolvable: false`: the gateway hands it the T an owner produced and asks it for
 *   its fields by key. A definition with only `resolvable: false` keys is served only on
 *   objects `name` returns itself (gone anyway while it is down); a key-only one serves nothing.
 * Every non-null field `name` serves on an entity it extends is warned about. How many fields
 * each side serves does not matter: a three-field extension of the catalog's two-field Store
 * is still an extension.
 */
export function nonNullExtensionWarnings(subgraphs: readonly NamedSdl[], name: string): string[] {
  const entities = entityDefinitions(subgraphs);
  const warnings: string[] = [];
  for (const [type, bySubgraph] of entities) {
    const own = bySubgraph.get(name);
    if (!own || !own.resolvable) continue;
    const keyFields = new Set([...bySubgraph.values()].flatMap((d) => [...d.keyFields]));
    const serves = (d: EntityDefinition) => d.fields.filter((f) => !keyFields.has(f.field));
    const serving = [...bySubgraph].filter(([, d]) => serves(d).length > 0);
    const lookups = serving.filter(([, d]) => d.lookup).map(([s]) => s);
    if (lookups.includes(name)) continue;
    const owners = (lookups.length > 0 ? lookups : serving.map(([s]) => s).filter((s) => s !== name)).sort();
    if (owners.length === 0) continue;
    const ownerText = owners.length === 1 ? `${owners[0]} owns` : `${owners.slice(0, -1).join(', ')} and ${owners[owners.length - 1]} own`;
    const whose = owners.length > 1 ? 'their' : owners[0].endsWith('s') ? `${owners[0]}'` : `${owners[0]}'s`;
    for (const f of serves(own))
      if (f.nonNull)
        warnings.push(
          `${name} adds ${type}.${f.field} as non-null to an entity ${ownerText}: when ${name} is down, ` +
            `every ${type} it appears in turns null, ${whose} fields with it; make the field nullable`,
        );
  }
  return warnings;
}

/** The warnings of every subgraph of a graph (what `npm run compose` prints), in name order. */
export function graphExtensionWarnings(subgraphs: readonly NamedSdl[]): string[] {
  return [...subgraphs]
    .map((s) => s.name)
    .sort()
    .flatMap((n) => nonNullExtensionWarnings(subgraphs, n));
}

/** Per entity type (an object type some subgraph gives a @key), per subgraph: how it defines it. */
function entityDefinitions(subgraphs: readonly NamedSdl[]): Map<string, Map<string, EntityDefinition>> {
  const defs = new Map<string, Map<string, EntityDefinition>>();
  const entityTypes = new Set<string>();
  const rootLookups = new Map<string, Set<string>>();
  for (const s of subgraphs) {
    const doc = safeParse(s.sdl);
    if (!doc) continue;
    let queryType = 'Query';
    for (const def of doc.definitions)
      if (def.kind === Kind.SCHEMA_DEFINITION || def.kind === Kind.SCHEMA_EXTENSION)
        for (const op of def.operationTypes ?? []) if (op.operation === OperationTypeNode.QUERY) queryType = op.type.name.value;
    const lookups = new Set<string>();
    rootLookups.set(s.name, lookups);
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const type = def.name.value;
      if (type === queryType)
        for (const f of def.fields ?? []) {
          const returned = singleType(f.type);
          if (returned) lookups.add(returned);
        }
      const keys = directive(def, 'key');
      if (keys.length > 0) entityTypes.add(type);
      const bySubgraph = defs.get(type) ?? new Map<string, EntityDefinition>();
      defs.set(type, bySubgraph);
      const d = bySubgraph.get(s.name) ?? { keyFields: new Set<string>(), resolvable: false, lookup: false, fields: [] };
      bySubgraph.set(s.name, d);
      for (const key of keys) {
        const args = key.arguments ?? [];
        const fields = args.find((a) => a.name.value === 'fields')?.value;
        if (fields?.kind === Kind.STRING) for (const f of topLevelFields(fields.value)) d.keyFields.add(f);
        const resolvable = args.find((a) => a.name.value === 'resolvable')?.value;
        if (!(resolvable?.kind === Kind.BOOLEAN && !resolvable.value)) d.resolvable = true;
      }
      for (const f of def.fields ?? []) if (directive(f, 'external').length === 0) d.fields.push({ field: f.name.value, nonNull: isNonNull(f.type) });
    }
  }
  const entities = new Map<string, Map<string, EntityDefinition>>();
  for (const type of entityTypes) {
    const bySubgraph = defs.get(type)!;
    for (const [s, d] of bySubgraph) d.lookup = rootLookups.get(s)?.has(type) ?? false;
    entities.set(type, bySubgraph);
  }
  return entities;
}

/** The top-level field names of a field set (`"id"`, `"storeId productId"`, `"product { id }"`). */
export function topLevelFields(fieldSet: string): string[] {
  const doc = safeParse(`{ ${fieldSet} }`);
  const op = doc?.definitions[0];
  if (op?.kind !== Kind.OPERATION_DEFINITION) return fieldSet.split(/\s+/).filter(Boolean);
  return op.selectionSet.selections.flatMap((sel) => (sel.kind === Kind.FIELD ? [sel.name.value] : []));
}

function safeParse(sdl: string): DocumentNode | null {
  try {
    return parse(sdl);
  } catch {
    return null;
  }
}
