// The errors a fetch to an unavailable subgraph answers with, one per place in the response
// that the fetch would have filled, each with its `path`, so clients see partial data and
// exactly which fields are missing and why (a bare error without a path says neither).
// @apollo/gateway maps `_entities` paths to the entities' places in the response.
import { Kind, parse, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** Per-entity errors beyond this many are folded into one (a list of 10,000 entities stays one response). */
export const MAX_ENTITY_ERRORS = 100;

export interface UnavailableFetch {
  readonly query?: string;
  readonly document?: DocumentNode;
  readonly variables?: Record<string, unknown>;
}

export function unavailableErrors(fetch: UnavailableFetch, message: string, extensions: Record<string, unknown>): GraphQLFormattedError[] {
  const operation = operationOf(fetch);
  const lists = entityLists(operation, fetch.variables);
  if (lists.length > 0) {
    // Each entity's fields this fetch would have added: [<_entities or its alias>, i, field].
    const errors: GraphQLFormattedError[] = [];
    let budget = MAX_ENTITY_ERRORS;
    for (const list of lists) {
      const perEntity = Math.max(list.fields.length, 1);
      // At least one entity of the first list gets its errors, whatever the cap (which that one may overrun).
      const shown = Math.min(list.count, Math.max(list === lists[0] ? 1 : 0, Math.floor(Math.max(budget, 0) / perEntity)));
      for (let i = 0; i < shown; i++)
        if (list.fields.length === 0) errors.push({ message, path: [list.name, i], extensions });
        else for (const f of list.fields) errors.push({ message, path: [list.name, i, f], extensions });
      budget -= shown * perEntity;
      // Without a path it belongs to every entity of the fetch (the subscription batcher gives it to all callers).
      if (list.count > shown) errors.push({ message: `${message} (and ${list.count - shown} more entities)`, extensions });
    }
    return errors;
  }
  const names = operation ? responseNames(operation.selectionSet) : [];
  if (names.length === 0) return [{ message, extensions }];
  return names.map((name) => ({ message, path: [name], extensions }));
}

/**
 * The entity lists a fetch asks for: one `_entities` field, or several under aliases when the
 * gateway batches lookups of different places in one request (each with its own representations
 * variable). Without a readable operation, the `representations` variable alone.
 */
function entityLists(operation: OperationDefinitionNode | null, variables: Record<string, unknown> | undefined): Array<{ name: string; count: number; fields: string[] }> {
  if (!operation) {
    const reps = variables?.representations;
    return Array.isArray(reps) ? [{ name: '_entities', count: reps.length, fields: [] }] : [];
  }
  const lists: Array<{ name: string; count: number; fields: string[] }> = [];
  for (const sel of operation.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD || sel.name.value !== '_entities') continue;
    const arg = sel.arguments?.find((a) => a.name.value === 'representations');
    const reps = arg?.value.kind === Kind.VARIABLE ? variables?.[arg.value.name.value] : undefined;
    if (!Array.isArray(reps)) continue;
    lists.push({ name: sel.alias?.value ?? '_entities', count: reps.length, fields: sel.selectionSet ? responseNames(sel.selectionSet) : [] });
  }
  return lists;
}

function operationOf(fetch: UnavailableFetch): OperationDefinitionNode | null {
  let doc = fetch.document;
  if (!doc && fetch.query) {
    try {
      doc = parse(fetch.query);
    } catch {
      return null;
    }
  }
  const op = doc?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return op && op.kind === Kind.OPERATION_DEFINITION ? op : null;
}

/** The response names a selection fills (its fields, through inline fragments; not __typename). */
function responseNames(set: SelectionSetNode): string[] {
  const names = new Set<string>();
  const walk = (s: SelectionSetNode) => {
    for (const sel of s.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value !== '__typename') names.add(sel.alias?.value ?? sel.name.value);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet);
    }
  };
  walk(set);
  return [...names];
}
