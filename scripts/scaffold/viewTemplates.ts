// The scaffolded subgraph's folds (projection.ts): its own entities with each extended entity's
// aggregate, and its copy of which extended entities exist.
import { namesOf, ownerOf, plural, type TemplateInput } from './templateInput';

/** The known-entities fold over the carrier's topic, or nothing when no topic carries the type. */
function knownProjection(i: TemplateInput): string {
  const { n, x, carrier } = i;
  if (!carrier) return '';
  const { known, knownState } = namesOf(i);
  const is = (types: readonly string[]) => types.map((t) => `e.type === '${t}'`).join(' || ');
  const all = [...carrier.creates, ...carrier.deletes];
  const deletes = carrier.deletes.length
    ? `
    if (${is(carrier.deletes)}) {
      const id = e.payload.${carrier.idField};
      return view.get(id) ? new Map([[id, undefined]]) : new Map();
    }`
    : '';
  return `
/** A ${x.words} ${ownerOf(carrier)} has published: ${n.name} refuses any other with NOT_FOUND. */
export interface ${knownState} {
  readonly id: string;
}

/**
 * The ids of the ${x.words}s that exist, as ${ownerOf(carrier)} publishes them on ${carrier.contract.name}
 * (${all.join(', ')}), so the mutation can refuse an unknown one without calling
 * another subgraph. Its other events change nothing here and are passed over unparsed.
 */
export const ${known}: Projection<typeof ${carrier.exportName}, ${knownState}> = {
  name: '${n.name}.${x.knownView}',
  topic: ${carrier.exportName},
  reads: (e) => (${is(all)} ? [e.payload.${carrier.idField}] : []),
${
  carrier.keyedById
    ? `  // Keyed like its records (by ${carrier.idField}): a lookup reads one partition.
  recordKeyOf: (id) => id,`
    : `  // Its records are keyed by ${carrier.contract.keyedBy}, not by the id: one ${x.words}'s records share a
  // partition, but the id does not say which, so a lookup asks every partition and takes the
  // part that knows it (only one can).
  recordKeyOf: () => null,
  combine: (parts) => parts[0],`
}
  notify: false,
  types: [${all.map((t) => `'${t}'`).join(', ')}],
  apply(view, e) {
    if (${is(carrier.creates)}) {
      const id = e.payload.${carrier.idField};
      // A change to a known ${x.words} is no change to its existence.
      return view.get(id) ? new Map() : new Map([[id, { id }]]);
    }${deletes}
    return new Map();
  },
};
`;
}

export function projection(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { projection, state, summary, entity, itemId, summaryId, index, emptySummary, event, idField } = namesOf(i);
  return `// The ${n.name} view as a pure fold: each ${n.entityWords}, and each ${x.words}'s aggregate (count and
// score total), both living in the ${x.words}'s partition (the topic is keyed by ${x.idField}).
// No I/O: the runtime reads the states the fold names, and writes what it returns together
// with the partition checkpoint in one atomic step.
import type { Projection } from '${imports.runtime}/projection';
${carrier ? `import { ${carrier.exportName} } from '${imports.events}';\n` : ''}import { ${n.constant}_TOPIC } from './contract';

export interface ${state} {
  readonly kind: 'item';
  readonly id: string;
  readonly ${x.idField}: string;
  /** Who recorded it (the token's subject); an admin's change keeps the author. */
  readonly authorId: string;
  readonly score: number;
  readonly title: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** 1 when first recorded, then one more with every event that changes it. */
  readonly version: number;
}

/** One ${x.words}'s aggregate, kept as sums so that a changed ${n.entityWords} replaces its score. */
export interface ${summary} {
  readonly kind: 'summary';
  readonly ${x.idField}: string;
  readonly count: number;
  readonly scoreTotal: number;
  /** null only for ${x.a} without ${plural(n)} (never written). */
  readonly updatedAt: string | null;
  /** One more with every change to the ${x.words}'s ${plural(n)}. */
  readonly version: number;
}

/** An entity of the view: a ${n.entityWords}, or ${x.a}'s aggregate. */
export type ${entity} = ${state} | ${summary};

export const isItem = (e: ${entity} | undefined | null): e is ${state} => e?.kind === 'item';
export const isSummary = (e: ${entity} | undefined | null): e is ${summary} => e?.kind === 'summary';

// Ids may contain ':' (the contract allows any 1-128 characters), so each is URI-encoded.
const enc = encodeURIComponent;
const SUMMARY = 'summary:';
export const ${itemId} = (id: string) => \`item:\${enc(id)}\`;
export const ${summaryId} = (${x.idField}: string) => \`\${SUMMARY}\${enc(${x.idField})}\`;
/** A ${x.words}'s ${plural(n)}, newest first; it lives in the ${x.words}'s partition. */
export const ${index} = (${x.idField}: string) => \`items:\${enc(${x.idField})}\`;

/** The aggregate of ${x.a} nobody has recorded a ${n.entityWords} for yet. */
export const ${emptySummary} = (${x.idField}: string): ${summary} => ({
  kind: 'summary',
  ${x.idField},
  count: 0,
  scoreTotal: 0,
  updatedAt: null,
  version: 0,
});

export const ${projection}: Projection<typeof ${n.constant}_TOPIC, ${entity}> = {
  name: '${n.name}.${n.camel}',
  topic: ${n.constant}_TOPIC,
  reads: (e) => [${itemId}(e.payload.${idField}), ${summaryId}(e.payload.${x.idField})],
  // An aggregate is keyed like the records (by ${x.idField}): reading one touches one partition.
  // A ${n.entityWords}'s id does not say which ${x.words} it is about, so reading one asks every
  // partition and combine() takes the part found; only its ${x.words}'s partition holds one.
  recordKeyOf: (id) => (id.startsWith(SUMMARY) ? decodeURIComponent(id.slice(SUMMARY.length)) : null),
  combine: (parts) => parts.reduce((a, b) => (b.version > a.version ? b : a)),
  apply(view, e) {
    switch (e.type) {
      case '${event}': {
        const p = e.payload;
        const itemKey = ${itemId}(p.${idField});
        const summaryKey = ${summaryId}(p.${x.idField});
        const cur = view.get(itemKey);
        const before = isItem(cur) ? cur : undefined;
        // A ${n.entityWords} stays with its ${x.words} (the command refuses a move).
        if (before && before.${x.idField} !== p.${x.idField}) return new Map();
        // A replayed or duplicated event changes nothing, so version counts real changes.
        if (before && before.score === p.score && before.title === p.title) return new Map();
        const found = view.get(summaryKey);
        const sum = isSummary(found) ? found : ${emptySummary}(p.${x.idField});
        const item: ${state} = {
          kind: 'item',
          id: p.${idField},
          ${x.idField}: p.${x.idField},
          authorId: before?.authorId ?? p.authorId,
          score: p.score,
          title: p.title,
          createdAt: before?.createdAt ?? e.occurredAt,
          updatedAt: e.occurredAt,
          version: (before?.version ?? 0) + 1,
        };
        const next: ${summary} = {
          kind: 'summary',
          ${x.idField}: p.${x.idField},
          count: sum.count + (before ? 0 : 1),
          scoreTotal: sum.scoreTotal - (before?.score ?? 0) + p.score,
          updatedAt: e.occurredAt,
          version: sum.version + 1,
        };
        return new Map<string, ${entity}>([
          [itemKey, item],
          [summaryKey, next],
        ]);
      }
    }
  },
  // Newest first: the runtime keeps the index in step with each state it writes.
  indexes: (_id, s) => (isItem(s) ? [{ index: ${index}(s.${x.idField}), score: -Date.parse(s.createdAt) }] : []),
};
${knownProjection(i)}`;
}
