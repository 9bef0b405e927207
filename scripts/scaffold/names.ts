// Every identifier a scaffolded subgraph uses, derived once from its name (`tasting-notes`)
// so the templates never disagree about what a thing is called.

/** Lowercase letters, digits and single dashes, starting with a letter: a Kafka topic, a registry name and an env prefix at once. */
export const SUBGRAPH_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_NAME = 40;
const ENTITY_NAME = /^[A-Z][A-Za-z0-9]*$/;

export interface SubgraphNames {
  /** `tasting-notes`: the registry name, the Kafka topic and the log/metrics label. */
  readonly name: string;
  /** `TastingNotes`: prefixes the exported functions and types (`startTastingNotesSubgraph`). */
  readonly pascal: string;
  /** `tastingNotes`: the field on Store and the view's name in the declaration (`ctx.views.tastingNotes`). */
  readonly camel: string;
  /** `TASTING_NOTES`: constants (`TASTING_NOTES_TOPIC`). */
  readonly constant: string;
  /** `TASTING_NOTES_PORT`: the port setting main.ts reads. */
  readonly portVariable: string;
  /** The subgraph's own entity type, e.g. `TastingNote`. */
  readonly entity: string;
  /** `tastingNote`: the Query field, the id field of the payload (`tastingNoteId`), variables. */
  readonly entityCamel: string;
  /** `tasting note`: how error messages and docs name one entity. */
  readonly entityWords: string;
}

/** Why a name cannot be scaffolded, in one line that says how to fix it. */
export function nameProblem(name: string): string | null {
  if (!SUBGRAPH_NAME.test(name))
    return `"${name}" is not a subgraph name: use lowercase letters, digits and single dashes, starting with a letter (e.g. tasting-notes)`;
  if (name.length > MAX_NAME) return `"${name}" is longer than ${MAX_NAME} characters`;
  return null;
}

export function entityProblem(entity: string): string | null {
  return ENTITY_NAME.test(entity) ? null : `--entity "${entity}" is not a GraphQL type name in PascalCase (e.g. TastingNote)`;
}

const capital = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

/**
 * The last word made singular by the common English endings; good enough for a default,
 * and `--entity` covers the rest (a subgraph named `news` wants `--entity NewsItem`).
 */
export function singular(word: string): string {
  if (/ies$/.test(word) && word.length > 4) return word.replace(/ies$/, 'y');
  if (/(ss|x|ch|sh)es$/.test(word)) return word.replace(/es$/, '');
  if (/[^su]s$/.test(word) && word.length > 3) return word.slice(0, -1);
  return word;
}

export function subgraphNames(name: string, entity?: string): SubgraphNames {
  const words = name.split('-');
  const pascal = words.map(capital).join('');
  const entityName = entity ?? [...words.slice(0, -1), singular(words[words.length - 1])].map(capital).join('');
  const entityCamel = entityName.charAt(0).toLowerCase() + entityName.slice(1);
  return {
    name,
    pascal,
    camel: pascal.charAt(0).toLowerCase() + pascal.slice(1),
    constant: words.join('_').toUpperCase(),
    portVariable: `${words.join('_').toUpperCase()}_PORT`,
    entity: entityName,
    entityCamel,
    entityWords: entityName.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase(),
  };
}

/** The entity another subgraph owns that the new subgraph adds fields to (`Product`, keyed by `id`). */
export interface ExtendedNames {
  /** `Product`. */
  readonly type: string;
  /** `product`: the start of the names below. */
  readonly camel: string;
  /** `product`: how messages and docs name one. */
  readonly words: string;
  /** `a product`, `an order`. */
  readonly a: string;
  /** `id`: its one key field in the graph. */
  readonly keyField: string;
  /** `ID` or `String`: the key field's GraphQL type. */
  readonly keyType: string;
  /** `productId`: the payload field, argument and record key naming one (the key field itself when it is not `id`, prefixed). */
  readonly idField: string;
  /** `knownProducts`: the view of the ones that exist, when a topic carries them. */
  readonly knownView: string;
}

export function extendedNames(type: string, keyField: string, keyType: string): ExtendedNames {
  const camel = type.charAt(0).toLowerCase() + type.slice(1);
  const words = type.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return {
    type,
    camel,
    words,
    a: `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words}`,
    keyField,
    keyType,
    idField: keyField === 'id' ? `${camel}Id` : keyField.startsWith(camel) ? keyField : `${camel}${capital(keyField)}`,
    knownView: `known${type}s`,
  };
}

/** The fields and types the new subgraph adds to the graph, named once for the templates and the clash checks. */
export interface AddedNames {
  /** `averageRating`: the mean score, on the extended type. */
  readonly average: string;
  /** `ratingCount`: how many, on the extended type. */
  readonly count: string;
  /** `ratings`: the list of the subgraph's own entities, on the extended type. */
  readonly list: string;
  /** `ratingsChanged`: the subscription to the extended entity's aggregate. */
  readonly changed: string;
  /** `recordRating`: the mutation. */
  readonly record: string;
  /** The subgraph's own types: `Rating`, `RatingEdge`, `RatingConnection`, `RecordRatingInput`. */
  readonly types: readonly string[];
}

export function addedNames(n: SubgraphNames): AddedNames {
  return {
    average: `average${n.entity}`,
    count: `${n.entityCamel}Count`,
    list: n.camel,
    changed: `${n.camel}Changed`,
    record: `record${n.entity}`,
    types: [n.entity, `${n.entity}Edge`, `${n.entity}Connection`, `Record${n.entity}Input`],
  };
}
