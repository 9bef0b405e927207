// The errors a fetch to an unavailable subgraph answers with, one per place in the response
// that the fetch would have filled, each with its `path`, so clients see partial data and
// exactly which fields are missing and why (a bare error without a path says neither).
// @apollo/gateway maps `_entities` paths to the entities' places in the response.
import { Kind, parse, type DocumentNode, type FieldNode, type GraphQLFormattedError, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** Per-entity errors beyond this many are folded into one (a list of 10,000 entities stays one response). */
export const MAX_ENTITY_ERRORS = 100;

export interface UnavailableFetch {
  readonly query?: string;
  readonly document?: DocumentNode;
  readonly variables?: Record<string, unknown>;
}

export function unavailableErrors(fetch: UnavailableFetch, message: string, extensions: Record<string, unknown>): GraphQLFormattedError[] {
  const representations = fetch.variables?.representations;
  const operation = operationOf(fetch);
  if (Array.isArray(representations)) {
    // Each entity's fields this fetch would have added: ['_entities', i, field].
    const entities = operation ? fieldOf(operation.selectionSet, '_entities') : null;
    const fields = entities?.selectionSet ? responseNames(entities.selectionSet) : [];
    const perEntity = Math.max(fields.length, 1);
    const shown = Math.min(representations.length, Math.max(1, Math.floor(MAX_ENTITY_ERRORS / perEntity)));
    const errors: GraphQLFormattedError[] = [];
    for (let i = 0; i < shown; i++)
      if (fields.length === 0) errors.push({ message, path: ['_entities', i], extensions });
      else for (const f of fields) errors.push({ message, path: ['_entities', i, f], extensions });
    // Without a path it belongs to every entity of the fetch (the subscription batcher gives it to all callers).
    if (representations.length > shown)
      errors.push({ message: `${message} (and ${representations.length - shown} more entities)`, extensions });
    return errors;
  }
  const names = operation ? responseNames(operation.selectionSet) : [];
  if (names.length === 0) return [{ message, extensions }];
  return names.map((name) => ({ message, path: [name], extensions }));
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

function fieldOf(set: SelectionSetNode, name: string): FieldNode | null {
  for (const s of set.selections) if (s.kind === Kind.FIELD && s.name.value === name) return s;
  return null;
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
