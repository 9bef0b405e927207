// Which entity fetches answer the same whoever asks. A subgraph marks such fields with
// `@callerIndependent` (a directive it links and composes into the supergraph, see
// docs/subscriptions.md); an `_entities` fetch that selects only marked fields may then serve the
// subscription events of several callers in one call, where every other fetch stays per caller
// because the subgraph authorises it against its caller.
//
// Only field marks count: a type-level mark would be merged across every subgraph that defines
// the type, and claim fields the marking team does not own.
import {
  Kind,
  getNamedType,
  isObjectType,
  isInterfaceType,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/** The spec the directive is linked from; its name segment gives the default `caller__` prefix. */
const CALLER_SPEC_URL_PATTERN = /\/caller\/v1\.\d+$/;
const CALLER_INDEPENDENT = 'callerIndependent';

/** The names the supergraph gives the directive (`@callerIndependent`, a rename, or `@caller__callerIndependent`). */
export function callerIndependentNames(doc: DocumentNode): Set<string> {
  const names = new Set<string>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'link') continue;
      const url = d.arguments?.find((a) => a.name.value === 'url')?.value;
      if (url?.kind !== Kind.STRING || !CALLER_SPEC_URL_PATTERN.test(url.value)) continue;
      let local = `caller__${CALLER_INDEPENDENT}`;
      const imports = d.arguments?.find((a) => a.name.value === 'import')?.value;
      for (const item of imports?.kind === Kind.LIST ? imports.values : []) {
        if (item.kind === Kind.STRING && item.value === `@${CALLER_INDEPENDENT}`) local = CALLER_INDEPENDENT;
        if (item.kind === Kind.OBJECT) {
          const field = (n: string) => item.fields.find((f) => f.name.value === n)?.value;
          const name = field('name');
          const as = field('as');
          if (name?.kind === Kind.STRING && name.value === `@${CALLER_INDEPENDENT}`)
            local = as?.kind === Kind.STRING ? as.value.replace(/^@/, '') : CALLER_INDEPENDENT;
        }
      }
      names.add(local);
    }
  }
  return names;
}

/** `Type.field` of every field the supergraph marks. */
export function markedFields(doc: DocumentNode): Set<string> {
  const names = callerIndependentNames(doc);
  const marked = new Set<string>();
  if (names.size === 0) return marked;
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const field of def.fields ?? []) if (field.directives?.some((d) => names.has(d.name.value))) marked.add(`${def.name.value}.${field.name.value}`);
  }
  return marked;
}

/**
 * Whether a subgraph operation is an `_entities` fetch selecting only marked fields (and
 * `__typename`), at every depth. Anything else, or anything this cannot follow, is not.
 * @param schema the supergraph as graphql-js reads it, for the types of nested fields
 */
export function isCallerIndependentFetch(operation: string, schema: GraphQLSchema, marked: ReadonlySet<string>): boolean {
  if (marked.size === 0) return false;
  let doc: DocumentNode;
  try {
    doc = parse(operation);
  } catch {
    return false;
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (op?.kind !== Kind.OPERATION_DEFINITION || op.operation !== 'query') return false;
  const roots = op.selectionSet.selections;
  if (roots.length !== 1 || roots[0]!.kind !== Kind.FIELD || roots[0]!.name.value !== '_entities' || !roots[0]!.selectionSet) return false;

  const seen = new Set<string>();
  /** `typeName`: the type the selections apply to; null at `_entities`, where only typed fragments may appear. */
  const allMarked = (set: SelectionSetNode, typeName: string | null): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const on = s.typeCondition?.name.value ?? typeName;
        return on !== null && allMarked(s.selectionSet, on);
      }
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(s.name.value);
        if (!f || seen.has(f.name.value)) return !!f;
        seen.add(f.name.value);
        return allMarked(f.selectionSet, f.typeCondition.name.value);
      }
      if (s.name.value === '__typename') return true;
      if (typeName === null || !marked.has(`${typeName}.${s.name.value}`)) return false;
      if (!s.selectionSet) return true;
      const parent = schema.getType(typeName);
      if (!parent || !(isObjectType(parent) || isInterfaceType(parent))) return false;
      const field = parent.getFields()[s.name.value];
      return !!field && allMarked(s.selectionSet, getNamedType(field.type).name);
    });
  return allMarked(roots[0]!.selectionSet, null);
}
