// Which entities of the graph a new subgraph can extend: a type with a `@key` that some
// subgraph resolves, keyed by one ID or String field (the record key of the new topic and the
// argument of its subscription). Read from the subgraphs' SDL, so a scaffolded subgraph's
// entities count too.
import { Kind, parse, type ConstDirectiveNode, type DocumentNode, type FieldDefinitionNode, type TypeNode } from 'graphql';

export interface SubgraphSdl {
  readonly name: string;
  readonly sdl: string;
}

/** One `@key` of a type in one subgraph. */
interface KeyUse {
  readonly subgraph: string;
  readonly fields: string;
  readonly resolvable: boolean;
}

/** An entity the scaffold can extend. */
export interface ExtendableEntity {
  readonly type: string;
  readonly keyField: string;
  readonly keyType: string;
  /** The subgraphs that resolve it by its key (its owners, and any that add fields to it). */
  readonly resolvedBy: readonly string[];
}

const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));

function keyOf(d: ConstDirectiveNode, subgraph: string): KeyUse | null {
  if (d.name.value !== 'key') return null;
  const arg = (name: string) => d.arguments?.find((a) => a.name.value === name)?.value;
  const fields = arg('fields');
  const resolvable = arg('resolvable');
  if (fields?.kind !== Kind.STRING) return null;
  return { subgraph, fields: fields.value.trim(), resolvable: !(resolvable?.kind === Kind.BOOLEAN && !resolvable.value) };
}

/** Every object type's keys and field types over all the subgraphs' SDL. */
function entityTable(sdls: readonly SubgraphSdl[]) {
  const keys = new Map<string, KeyUse[]>();
  const fieldTypes = new Map<string, Map<string, string>>();
  for (const { name, sdl } of sdls) {
    const doc: DocumentNode = parse(sdl);
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const type = def.name.value;
      const uses = (def.directives ?? []).map((d) => keyOf(d, name)).filter((k): k is KeyUse => k !== null);
      if (uses.length) keys.set(type, [...(keys.get(type) ?? []), ...uses]);
      const fields = fieldTypes.get(type) ?? new Map<string, string>();
      for (const f of (def.fields ?? []) as readonly FieldDefinitionNode[]) fields.set(f.name.value, namedType(f.type));
      fieldTypes.set(type, fields);
    }
  }
  return { keys, fieldTypes };
}

/** The entity `type` as the scaffold extends it, or a one-line reason it cannot. */
export function extendableEntity(type: string, sdls: readonly SubgraphSdl[]): ExtendableEntity | string {
  const { keys, fieldTypes } = entityTable(sdls);
  const entities = [...keys.keys()].sort().join(', ');
  if (!fieldTypes.has(type)) return `--extends ${type}: the graph has no type ${type}; entities (types with a @key): ${entities}`;
  const uses = keys.get(type);
  if (!uses) return `--extends ${type}: ${type} has no @key, so it is not an entity other subgraphs can add fields to; entities: ${entities}`;
  const resolved = uses.filter((k) => k.resolvable);
  if (!resolved.length)
    return `--extends ${type}: no subgraph resolves ${type} by its key (every @key has resolvable: false), so the gateway could never reach fields added to it`;
  const single = resolved.find((k) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k.fields));
  if (!single)
    return `--extends ${type}: its key is "${resolved[0].fields}"; the scaffold extends entities keyed by one field (the new topic's record key), so write this one by hand`;
  const keyType = fieldTypes.get(type)!.get(single.fields) ?? 'ID';
  if (keyType !== 'ID' && keyType !== 'String')
    return `--extends ${type}: its key field ${single.fields} is ${keyType}; the scaffold keys topics by ID or String fields`;
  return {
    type,
    keyField: single.fields,
    keyType,
    resolvedBy: [...new Set(resolved.filter((k) => k.fields === single.fields).map((k) => k.subgraph))],
  };
}
