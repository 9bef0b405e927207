// Checks a schema change against what clients do and against what hurts them, before it
// reaches the graph. Pure: the caller brings the supergraphs and the recorded operations.
import { buildASTSchema, Kind, parse, validate, type DefinitionNode, type DocumentNode, type GraphQLSchema, type TypeNode } from 'graphql';
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

/**
 * Non-null fields that `name` adds to an entity another subgraph owns. When `name` is down,
 * such a null climbs to the nearest nullable parent and takes the other team's fields with it
 * (a ratings outage nulls the whole Product); nullable fields lose only themselves. Federation
 * has no owner of a type; the subgraph that serves most of its fields is taken as its owner.
 */
export function nonNullExtensionWarnings(subgraphs: readonly NamedSdl[], name: string): string[] {
  // Per entity type, per subgraph: the fields it serves itself (not keys, not @external).
  const served = new Map<string, Map<string, { field: string; nonNull: boolean }[]>>();
  for (const s of subgraphs) {
    for (const def of safeParse(s.sdl)?.definitions ?? []) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const keys = (def.directives ?? []).filter((d) => d.name.value === 'key');
      if (keys.length === 0) continue;
      const keyFields = new Set(
        keys
          .flatMap((d) => d.arguments ?? [])
          .flatMap((a) => (a.name.value === 'fields' && a.value.kind === Kind.STRING ? a.value.value.split(/[\s{}]+/) : []))
          .filter(Boolean),
      );
      const fields = (def.fields ?? [])
        .filter((f) => !keyFields.has(f.name.value) && !f.directives?.some((d) => d.name.value === 'external'))
        .map((f) => ({ field: f.name.value, nonNull: isNonNull(f.type) }));
      const byType = served.get(def.name.value) ?? new Map();
      byType.set(s.name, [...(byType.get(s.name) ?? []), ...fields]);
      served.set(def.name.value, byType);
    }
  }
  const warnings: string[] = [];
  for (const [type, bySubgraph] of served) {
    const own = bySubgraph.get(name);
    if (!own?.length) continue;
    const owner = [...bySubgraph.entries()].filter(([, f]) => f.length > 0).sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0][0];
    if (owner === name) continue;
    for (const f of own)
      if (f.nonNull)
        warnings.push(
          `${name} adds ${type}.${f.field} as non-null to an entity ${owner} owns: when ${name} is down, ` +
            `every ${type} it appears in turns null, ${owner}'s fields with it; make the field nullable`,
        );
  }
  return warnings;
}

function safeParse(sdl: string): DocumentNode | null {
  try {
    return parse(sdl);
  } catch {
    return null;
  }
}
