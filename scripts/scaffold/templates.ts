// The files of a scaffolded subgraph, as text. Each function returns one file; imports of the
// repo's shared code come in through ImportPaths, computed from wherever the subgraph is written.
// The subgraph owns an entity of its own (a rating) about an entity of another team's (a
// product), on a topic keyed by that entity's key, and adds nullable fields to it.
import type { Carrier } from './carrier';
import { addedNames, type AddedNames, type ExtendedNames, type SubgraphNames } from './names';

/** Import specifiers from the new subgraph's folder to the shared code it builds on. */
export interface ImportPaths {
  /** schema/events (topics, envelope, ContractViolation). */
  readonly events: string;
  /** schema/events/validate (the contract's check helpers). */
  readonly validate: string;
  /** subgraphs/runtime (no trailing slash). */
  readonly runtime: string;
  /** platform (no trailing slash). */
  readonly platform: string;
  /** test/support (only the integration test uses it). */
  readonly testSupport: string;
}

export interface TemplateInput {
  readonly n: SubgraphNames;
  /** The entity it extends (`Product`). */
  readonly x: ExtendedNames;
  /** The subgraphs that own the extended entity (named in comments and docs). */
  readonly owners: readonly string[];
  /** The topic that says which extended entities exist; null: no existence check. */
  readonly carrier: Carrier | null;
  readonly port: number;
  readonly imports: ImportPaths;
}

/** Every file of the subgraph, by file name within its folder. */
export function subgraphFiles(input: TemplateInput): Record<string, string> {
  return {
    'schema.graphql': sdl(input),
    'contract.ts': contract(input),
    'declaration.ts': declaration(input),
    'projection.ts': projection(input),
    'projection.test.ts': projectionTest(input),
    'context.ts': context(input),
    'commands.ts': commands(input),
    'resolvers.ts': resolvers(input),
    'schema.ts': schema(input),
    'index.ts': index(input),
    'main.ts': main(input),
    [`${input.n.name}.test.ts`]: integrationTest(input),
  };
}

/** How the docs and messages say "the subgraph's records" (the name is usually a plural noun). */
const plural = (n: SubgraphNames) => n.name.replace(/-/g, ' ');
const owner = (i: TemplateInput) => (i.owners.length ? `the ${i.owners.join(' and ')} subgraph${i.owners.length > 1 ? 's' : ''}` : 'another subgraph');

/** How comments and test names call the team that owns a topic. */
const ownerOf = (carrier: Carrier) => `the ${carrier.contract.owner} subgraph`;

/** Names used by several files, derived once. */
function namesOf({ n, x }: TemplateInput) {
  const a: AddedNames = addedNames(n);
  return {
    a,
    E: n.entity,
    X: x.type,
    /** The view of the subgraph's own entities and the aggregates, by its declaration key. */
    view: n.camel,
    projection: `${n.camel}Projection`,
    state: `${n.entity}State`,
    summary: `${x.type}${n.pascal}State`,
    entity: `${n.pascal}Entity`,
    itemId: `${n.entityCamel}EntityId`,
    summaryId: `${x.camel}SummaryId`,
    index: `${x.camel}${n.pascal}Index`,
    emptySummary: `empty${x.type}Summary`,
    known: `${x.knownView}Projection`,
    knownState: `Known${x.type}`,
    event: `${n.entity}Recorded`,
    idField: `${n.entityCamel}Id`,
    ref: `${x.type}Ref`,
  };
}

function sdl(i: TemplateInput): string {
  const { n, x } = i;
  const { a, E, X } = namesOf(i);
  return `# The ${n.name} subgraph: ${plural(n)} of ${x.words}s, built from its own ${n.name} topic (contract.ts),
# which is keyed by ${x.idField}: one partition holds all of ${x.a}'s ${plural(n)}, so the
# per-${x.words} aggregate folds them in order.
# This SDL is the team's contract with the graph: the gateway composes it with every other
# subgraph's, so a name another subgraph already uses for something else fails composition.
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

"A ${n.entityWords}, owned by the ${n.name} subgraph. Every change increases \`version\` by one."
type ${E} @key(fields: "id") {
  id: ID!
  "The ${x.words} it is about; ${owner(i)} resolve${i.owners.length > 1 ? '' : 's'} its other fields."
  ${x.camel}: ${X}
  "1 to 5."
  score: Int!
  title: String!
  "When it was first recorded (ISO-8601)."
  createdAt: String!
  "When it last changed (ISO-8601)."
  updatedAt: String!
  version: Int!
}

"""
${owner(i).charAt(0).toUpperCase() + owner(i).slice(1)} own${i.owners.length > 1 ? '' : 's'} ${X}; this subgraph adds fields to it. They are nullable on purpose:
while this subgraph is unavailable a query still gets the ${x.words}, with these fields null
and an error naming the subgraph, instead of losing the whole ${x.words}.
"""
type ${X} @key(fields: "${x.keyField}") {
  ${x.keyField}: ${x.keyType}!
  "The mean score of its ${plural(n)}; null when it has none."
  ${a.average}: Float
  "How many ${plural(n)} it has."
  ${a.count}: Int
  "Its ${plural(n)}, newest first; first is 0 to 100."
  ${a.list}(first: Int = 20, after: String): ${E}Connection
}

type ${E}Edge {
  cursor: String!
  node: ${E}!
}

type ${E}Connection {
  edges: [${E}Edge!]!
  pageInfo: PageInfo!
}

"The same in every subgraph that pages (shareable: identical fields)."
type PageInfo @shareable {
  hasNextPage: Boolean!
  endCursor: String
}

input Record${E}Input {
  "The ${n.entityWords} to change (yours, unless you are an admin); absent for a new one."
  id: ID
  "The ${x.words} it is about: one that exists, or NOT_FOUND."
  ${x.idField}: ${x.keyType}!
  "1 to 5."
  score: Int!
  "1 to 200 characters."
  title: String!
}

type Query {
  ${n.entityCamel}(id: ID!): ${E}
}

type Mutation {
  "Records a new ${n.entityWords} (any signed-in caller, as its author) or changes one (its author or an admin)."
  ${a.record}(input: Record${E}Input!): ${E}!
}

type Subscription {
  "The ${x.words}'s ${a.count} and ${a.average} now, then after every change to its ${plural(n)}."
  ${a.changed}(${x.idField}: ${x.keyType}!): ${X}!
}
`;
}

function contract(i: TemplateInput): string {
  const { n, x, imports } = i;
  const { event, idField } = namesOf(i);
  const C = n.constant;
  return `// The ${n.name} topic's contract, as a value: its Kafka topic, what its records are keyed by,
// each event type with its version and payload check (the validators schema/events uses) and
// the team that owns it. This team owns it here; the runtime, \`npm run topics\` and the other
// CLIs take it from declaration.ts. When other teams consume the topic, move it into
// schema/events (docs/adding-a-subgraph.md, "Promoting the contract").
import { defineTopic, type EventOf } from '${imports.events}';
import { int, obj, str } from '${imports.validate}';

const id = str({ min: 1, max: 128 });

/**
 * Records keyed by the ${x.words} (${x.idField}), not by the ${n.entityWords}: every event about one
 * ${x.words} lands in one partition, in order, so its aggregate is folded there exactly
 * (docs/streams.md: recordKeyOf, partitions, combine). Kept forever: views are rebuilt by
 * replaying them. Never change the partition count in place; readers find a key's partition
 * with it. A new event type goes into \`events\`, then into the fold's switch (projection.ts).
 */
export const ${C}_TOPIC = defineTopic({
  name: '${n.name}',
  partitions: 6,
  cleanupPolicy: 'delete',
  retentionMs: -1,
  keyedBy: '${x.idField}',
  owner: '${n.name}',
  events: {
    ${event}: {
      version: 1,
      payload: obj({ ${idField}: id, ${x.idField}: id, authorId: id, score: int({ min: 1, max: 5 }), title: str({ max: 200 }) }),
    },
  },
});

/** Any event of the ${n.name} topic, discriminated by \`type\`. */
export type ${n.pascal}Event = EventOf<typeof ${C}_TOPIC>;
`;
}

function declaration(i: TemplateInput): string {
  const { n, x, port, imports, carrier } = i;
  const { view, projection, known, a: added } = namesOf(i);
  const views = carrier ? `{ ${view}: ${projection}, ${x.knownView}: ${known} }` : `{ ${view}: ${projection} }`;
  // Its data product for the catalog (the mesh subgraph): the fields its own view backs; the
  // known-entities view joins the product by itself (a view no product lists goes to the first).
  const backed = [`${x.type}.${added.average}`, `${x.type}.${added.count}`, `${x.type}.${added.list}`, `Mutation.${added.record}`, `Subscription.${added.changed}`];
  return `// The ${n.name} subgraph as the runtime and the operations tools see it: where it listens
// (${n.portVariable} overrides the port), the topic it writes and the views it builds${carrier ? ` (its own, and
// its copy of which ${x.words}s exist, from ${carrier.contract.name})` : ''}.
// \`npm run topics\`, \`lag\`, \`dlq\` and \`rebuild\` find it here.
import { declareSubgraph, defineDataProducts } from '${imports.runtime}/declaration';
import { ${n.constant}_TOPIC } from './contract';
import { ${carrier ? `${known}, ` : ''}${projection} } from './projection';

export const declaration = declareSubgraph({
  name: '${n.name}',
  port: ${port},
  portVariable: '${n.portVariable}',
  topics: [${n.constant}_TOPIC],
  views: ${views},
  // What the catalog of data products shows analysts and other teams (README, "Data products").
  dataProducts: defineDataProducts([
    {
      name: '${n.name}',
      team: '${n.name}',
      contact: '#team-${n.name}',
      description: '${n.name} of ${x.words}s, and per ${x.words} their count and average.',
      views: { ${view}: ${JSON.stringify(backed).replace(/"/g, "'").replace(/,/g, ', ')} },
      serviceLevels: { maxLag: { records: 1000, seconds: 60 }, maxEventAgeSeconds: null, minValidShare: 0.99 },
    },
  ]),
});
`;
}

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

function projection(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { E, projection, state, summary, entity, itemId, summaryId, index, emptySummary, event, idField } = namesOf(i);
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

/** A value as a TypeScript literal, with the id fields taken from the variable `id`. */
function literal(values: Record<string, unknown>, isId: (k: string) => boolean): string {
  return `{ ${Object.entries(values).map(([k, v]) => (isId(k) ? `${k}: id` : `${k}: ${JSON.stringify(v)}`)).join(', ')} }`;
}

/**
 * How the generated tests make one extended entity known, as code using a variable `id`: an
 * event of the carrier built from its contract (`event`, for the fold's test), and what to
 * import from schema/events for it. For a topic of Debezium changes also the record itself
 * (`record`), which the integration test writes as the owner's database would. Null when the
 * scaffold could not build one.
 */
function knownEventCode(carrier: Carrier): { imports: string[]; event: string; record: string | null } | null {
  const C = carrier.exportName;
  if (carrier.sample) {
    const payload = literal(carrier.sample, (k) => k === carrier.idField || k === carrier.contract.keyedBy);
    return { imports: ['createEvent', C], event: `createEvent(${C}, '${carrier.creates[0]}', ${payload})`, record: null };
  }
  if (carrier.debeziumRow) {
    const row = literal(carrier.debeziumRow, (k) => k === carrier.idField);
    const record = `debeziumRecord({ key: { ${carrier.idField}: id }, op: 'c', lsn: ++lsn, after: ${row} })`;
    return { imports: ['debeziumRecord', 'validateEvent', C], event: `validateEvent(${C}, ${C}.fromRecord!(rec.key, rec.value))`, record };
  }
  return null;
}

function projectionTest(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { E, projection, entity, itemId, summaryId, index, event, idField, known } = namesOf(i);
  const code = carrier ? knownEventCode(carrier) : null;
  const knownTest =
    carrier && code
      ? `
it('knows ${x.a} once ${ownerOf(carrier)} publishes it, and only once', () => {
  const id = 'known-1';
${code.record ? `  let lsn = 0;\n  const rec = ${code.record};\n` : ''}  const e = ${code.event};
  const at = { partition: 0, offset: 0, occurredAt: e.occurredAt };
  expect([...${known}.apply(new Map(), e, at)]).toEqual([[id, { id }]]);
  expect(${known}.apply(new Map([[id, { id }]]), e, at).size).toBe(0);
});
`
      : '';
  const eventImports = [...new Set(['createEvent', 'partitionForKey', ...(code ? code.imports : [])])].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
  return `// The ${n.name} fold with plain objects: no Kafka, no Redis.
import { ${eventImports.join(', ')} } from '${imports.events}';
import { ${n.constant}_TOPIC } from './contract';
import { ${[projection, itemId, summaryId, index, ...(code ? [known] : []), `type ${entity}`].join(', ')} } from './projection';

const recorded = (${idField}: string, ${x.idField}: string, score: number, title: string, occurredAt: string) =>
  createEvent(${n.constant}_TOPIC, '${event}', { ${idField}, ${x.idField}, authorId: 'author-1', score, title }, { occurredAt });

/** Folds events in log order from an empty view, as the runtime does for one partition. */
function fold(events: ReadonlyArray<ReturnType<typeof recorded>>): Map<string, ${entity} | undefined> {
  const view = new Map<string, ${entity} | undefined>();
  events.forEach((event, offset) => {
    const at = { partition: 0, offset, occurredAt: event.occurredAt };
    for (const [id, state] of ${projection}.apply(view, event, at)) view.set(id, state);
  });
  return view;
}

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:05.000Z';
const T2 = '2026-01-01T00:00:09.000Z';

it("keeps each ${x.words}'s count and score total, folding its ${plural(n)} in order", () => {
  const view = fold([recorded('r1', 'x1', 4, 'Good', T0), recorded('r2', 'x1', 2, 'Meh', T1), recorded('r3', 'x2', 5, 'Great', T2)]);
  expect(view.get(${summaryId}('x1'))).toEqual({ kind: 'summary', ${x.idField}: 'x1', count: 2, scoreTotal: 6, updatedAt: T1, version: 2 });
  expect(view.get(${summaryId}('x2'))).toMatchObject({ count: 1, scoreTotal: 5 });
  expect(view.get(${itemId}('r2'))).toEqual({
    kind: 'item',
    id: 'r2',
    ${x.idField}: 'x1',
    authorId: 'author-1',
    score: 2,
    title: 'Meh',
    createdAt: T1,
    updatedAt: T1,
    version: 1,
  });
});

it('replaces a changed ${n.entityWords}\\'s score in the aggregate; a duplicate changes nothing', () => {
  const view = fold([recorded('r1', 'x1', 4, 'Good', T0), recorded('r1', 'x1', 2, 'Less good', T1), recorded('r1', 'x1', 2, 'Less good', T2)]);
  expect(view.get(${summaryId}('x1'))).toMatchObject({ count: 1, scoreTotal: 2, version: 2 });
  expect(view.get(${itemId}('r1'))).toMatchObject({ score: 2, createdAt: T0, updatedAt: T1, version: 2 });
});

it('keys every event by the ${x.words}: one partition holds all of its ${plural(n)} and its aggregate', () => {
  const a = recorded('r1', 'x1', 4, 'Good', T0);
  const b = recorded('r2', 'x1', 1, 'Bad', T1);
  expect([a.key, b.key]).toEqual(['x1', 'x1']);
  const partitions = ${n.constant}_TOPIC.partitions;
  expect(partitionForKey(${projection}.recordKeyOf(${summaryId}('x1'))!, partitions)).toBe(partitionForKey(a.key, partitions));
  // A ${n.entityWords} read asks every partition; combine keeps the newest part.
  expect(${projection}.recordKeyOf(${itemId}('r1'))).toBeNull();
  const [older, newer] = [fold([a]).get(${itemId}('r1'))!, fold([a, recorded('r1', 'x1', 5, 'Better', T1)]).get(${itemId}('r1'))!];
  expect(${projection}.combine!([newer, older])).toBe(newer);
});

it("indexes each ${x.words}'s ${plural(n)}, newest first", () => {
  const state = fold([recorded('r1', 'x1', 3, 'Fine', T0)]).get(${itemId}('r1'))!;
  expect(${projection}.indexes!(${itemId}('r1'), state)).toEqual([{ index: ${index}('x1'), score: -Date.parse(T0) }]);
});

it('refuses an event that breaks the contract, naming the field', () => {
  expect(() => recorded('r1', 'x1', 6, 'Too good', T0)).toThrow(/event\\.payload\\.score: expected an integer from 1 to 5/);
  expect(() => recorded('r1', 'x1', 3, '', T0)).toThrow(/event\\.payload\\.title: expected a string of 1 to 200 characters/);
});
${knownTest}`;
}

function context({ n, imports }: TemplateInput): string {
  return `// What every ${n.name} resolver gets per request (the runtime builds it the same way for every
// subgraph): the verified caller, the runtime for writes, the declared views and this
// request's loaders over them (every id asked for in one tick is read in one Redis round trip).
import type { LoadersOf, SubgraphContext, ViewsOf } from '${imports.runtime}/startSubgraph';
import type { declaration } from './declaration';

type Declared = typeof declaration.views;
export type ${n.pascal}Context = SubgraphContext<Declared>;
export type ${n.pascal}Views = ViewsOf<Declared>;
export type ${n.pascal}Loaders = LoadersOf<Declared>;
`;
}

function commands(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { a, E, view, state, itemId, event, idField } = namesOf(i);
  const P = n.pascal;
  const check = carrier
    ? `  // The ${x.words} must exist as ${ownerOf(carrier)} last published it (this subgraph's own copy,
  // ${n.name}.${x.knownView}), checked before anything is written: an event is forever.
  const [known] = await ctx.views.${x.knownView}.reader.getMany([input.${x.idField}]);
  if (!known) throw notFound('${x.words}', input.${x.idField});
`
    : `  // No declared topic carries ${x.type} (new-subgraph found none), so there is no copy of which
  // ${x.words}s exist to check against: any ${x.idField} is accepted. Add a view of the topic that
  // publishes them and refuse unknown ones here (docs/adding-a-subgraph.md).
`;
  return `// The ${n.name} team's mutation: check the caller and the input, emit one event, and answer
// from the view once it has applied that event (read-your-writes).
import { randomUUID } from 'node:crypto';
import { badInput, forbidden, notFound, unauthenticated } from '${imports.runtime}/errors';
import { checkId, eventFromInput, TOKEN_SUB } from '${imports.runtime}/inputChecks';
import { hasRole } from '${imports.platform}/identity';
import type { ${P}Context } from './context';
import { ${n.constant}_TOPIC } from './contract';
import { isItem, ${itemId}, type ${state} } from './projection';

export interface Record${E}Input {
  readonly id?: string | null;
  readonly ${x.idField}: string;
  readonly score: number;
  readonly title: string;
}

/**
 * Records a new ${n.entityWords} (any signed-in caller, as its author) or changes one (its author or
 * an admin). A ${x.words} that does not exist is refused with NOT_FOUND before anything is written.
 */
export async function ${a.record}(ctx: ${P}Context, input: Record${E}Input): Promise<${state}> {
  const { identity } = ctx;
  // Refused before anything is read, so a refused caller learns nothing about the records.
  if (identity.sub === null) throw unauthenticated('sign in to record a ${n.entityWords}');
  const view = ctx.views.${view};
  let current: ${state} | undefined;
  if (input.id != null) {
    const [found] = await view.reader.getMany([${itemId}(checkId(input.id, 'input.id'))]);
    // New ${plural(n)} get their id here: a client's id for a new one could name one ${n.entityWords}
    // in two ${x.words}s' partitions at once.
    if (!isItem(found)) throw notFound('${n.entityWords}', input.id);
    if (found.authorId !== identity.sub && !hasRole(identity, 'admin')) throw forbidden('only its author or an admin changes a ${n.entityWords}');
    if (found.${x.idField} !== input.${x.idField})
      throw badInput(\`${n.entityWords} \${input.id} is about ${x.words} \${found.${x.idField}}; it never moves to another\`, 'input.${x.idField}');
    current = found;
  }
  const id = current?.id ?? randomUUID();
  // The contract holds the limits: a violation on a field the client sent is BAD_USER_INPUT naming it.
  const event = eventFromInput(
    ${n.constant}_TOPIC,
    '${event}',
    { ${idField}: id, ${x.idField}: input.${x.idField}, authorId: current?.authorId ?? identity.sub, score: input.score, title: input.title.trim() },
    { ${x.idField}: 'input.${x.idField}', authorId: TOKEN_SUB, score: 'input.score', title: 'input.title' },
  );
${check}  await ctx.runtime.emit(${n.constant}_TOPIC, event, view);
  // Read past the request's loader cache: the answer is the view as it is after this write.
  const [after] = await view.reader.getMany([${itemId}(id)]);
  if (!isItem(after)) throw new Error(\`${n.entityWords} \${id} is missing after its write was applied\`);
  return after;
}
`;
}

function resolvers(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { a, E, X, view, state, summary, entity, itemId, summaryId, index, emptySummary, ref } = namesOf(i);
  const P = n.pascal;
  const known = carrier
    ? `        const [known] = await ctx.views.${x.knownView}.reader.getMany([id]);
        if (!known) throw notFound('${x.words}', id);
`
    : '';
  return `// The ${n.name} subgraph's resolvers: thin, reading through the request's loaders and handing
// the mutation to its command; everything they use comes in the context.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput${carrier ? ', notFound' : ''} } from '${imports.runtime}/errors';
import { checkId } from '${imports.runtime}/inputChecks';
import { currentThenChanges } from '${imports.runtime}/noticeHub';
import { InvalidCursorError } from '${imports.runtime}/viewReader';
import { ${a.record}, type Record${E}Input } from './commands';
import type { ${P}Context } from './context';
import {
  ${emptySummary},
  isItem,
  isSummary,
  ${index},
  ${summaryId},
  ${itemId},
  type ${entity},
  type ${state},
  type ${summary},
} from './projection';

const MAX_PAGE = 100;

/** A ${x.words} as this subgraph gets it: the gateway's reference, or a subscription event carrying its aggregate. */
interface ${ref} {
  readonly ${x.keyField}: string;
  readonly summary?: ${summary};
}

const item = async (ctx: ${P}Context, id: string) => {
  const s = await ctx.loaders.${view}.load(${itemId}(id));
  return isItem(s) ? s : null;
};

const summaryOf = async (ctx: ${P}Context, ref: ${ref}) => {
  if (ref.summary) return ref.summary;
  const s = await ctx.loaders.${view}.load(${summaryId}(ref.${x.keyField}));
  return isSummary(s) ? s : ${emptySummary}(ref.${x.keyField});
};

export const resolvers: GraphQLResolverMap<${P}Context> = {
  Query: {
    // An id the contract could not hold (too long, a lone surrogate) is the caller's mistake, named.
    ${n.entityCamel}: (_: unknown, { id }: { id: string }, ctx: ${P}Context) => item(ctx, checkId(id, 'id')),
  },
  Mutation: {
    ${a.record}: (_: unknown, { input }: { input: Record${E}Input }, ctx: ${P}Context) => ${a.record}(ctx, input),
  },
  Subscription: {
    ${a.changed}: {
      // Fed by the view's change notices (one Redis subscription per process), never by polling.
      subscribe: async (_: unknown, args: { ${x.idField}: string }, ctx: ${P}Context) => {
        const id = checkId(args.${x.idField}, '${x.idField}');
${known}        const key = ${summaryId}(id);
        return currentThenChanges<${entity}>({
          hub: ctx.views.${view}.notices,
          filter: (c) => isSummary(c.state),
          ids: [key],
          current: async () => {
            const [now] = await ctx.views.${view}.reader.getMany([key]);
            return [[key, isSummary(now) ? now : ${emptySummary}(id)] as const];
          },
          versionOf: (s) => s.version,
        });
      },
      // graphql-ws builds one context per subscription, so its loaders would otherwise serve
      // the first event's ${plural(n)} to every later event.
      resolve: (s: ${entity}, _args: unknown, ctx: ${P}Context): ${ref} => {
        ctx.loaders.${view}.clearAll();
        if (!isSummary(s)) throw new Error('${a.changed} follows aggregates only');
        return { ${x.keyField}: s.${x.idField}, summary: s };
      },
    },
  },
  ${E}: {
    __resolveReference: (r: { id: string }, ctx: ${P}Context) => item(ctx, r.id),
    // ${owner(i).charAt(0).toUpperCase() + owner(i).slice(1)} own${i.owners.length > 1 ? '' : 's'} ${X}: this subgraph returns the reference and the gateway fetches the rest.
    ${x.camel}: (s: ${state}) => ({ __typename: '${X}', ${x.keyField}: s.${x.idField} }),
  },
  ${X}: {
    // The gateway only asks about ${x.words}s it got from their owner; nothing to look up here.
    __resolveReference: (r: ${ref}) => r,
    ${a.average}: async (r: ${ref}, _args: unknown, ctx: ${P}Context) => {
      const s = await summaryOf(ctx, r);
      return s.count > 0 ? s.scoreTotal / s.count : null;
    },
    ${a.count}: async (r: ${ref}, _args: unknown, ctx: ${P}Context) => (await summaryOf(ctx, r)).count,
    ${a.list}: async (r: ${ref}, args: { first: number; after?: string | null }, ctx: ${P}Context) => {
      if (!Number.isInteger(args.first) || args.first < 0 || args.first > MAX_PAGE)
        throw badInput(\`first must be 0 to \${MAX_PAGE}\`, 'first');
      // The index lives in the ${x.words}'s partition: one partition is read.
      const page = await ctx.views.${view}.reader
        .indexPage(${index}(r.${x.keyField}), { first: args.first, after: args.after, recordKey: r.${x.keyField} })
        .catch((e: unknown) => {
          throw e instanceof InvalidCursorError ? badInput(e.message, 'after') : e;
        });
      const nodes = await ctx.loaders.${view}.loadMany(page.ids);
      return {
        // Index and state are written in one step; a gap can only be a rebuild switching
        // generations between the two reads, and skipping it beats failing the page.
        edges: page.ids.flatMap((_, k) => {
          const node = nodes[k];
          return node && !(node instanceof Error) && isItem(node) ? [{ cursor: page.cursors[k], node }] : [];
        }),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      };
    },
  },
};
`;
}

function schema({ n, imports }: TemplateInput): string {
  return `// The ${n.name} subgraph schema: its SDL (schema.graphql, beside this file; the registry
// announces what it prints) wired to its resolvers.
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { createSubgraphSchema } from '${imports.runtime}/subgraphSchema';
import { resolvers } from './resolvers';

export const ${n.constant}_SDL_PATH = path.join(__dirname, 'schema.graphql');

export function create${n.pascal}Schema(): GraphQLSchema {
  return createSubgraphSchema(${n.constant}_SDL_PATH, resolvers);
}
`;
}

function index({ n, imports }: TemplateInput): string {
  const P = n.pascal;
  return `// The ${n.name} subgraph: startSubgraph builds its schema, starts the views its declaration
// names, serves HTTP and graphql-ws and announces it in the registry, so a running gateway
// composes it into the graph without a restart.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '${imports.runtime}/startSubgraph';
import { declaration } from './declaration';
import { create${P}Schema } from './schema';

export type ${P}SubgraphHandle = SubgraphHandle<typeof declaration.views>;

export function start${P}Subgraph(opts: SubgraphOptions): Promise<${P}SubgraphHandle> {
  return startSubgraph(declaration, opts, create${P}Schema);
}
`;
}

function main({ n, port, imports }: TemplateInput): string {
  return `// Entry point of the ${n.name} subgraph process: settings from the environment (${n.portVariable},
// default ${port}, and those every subgraph reads), start, stop cleanly on SIGINT/SIGTERM.
import { runSubgraphMain } from '${imports.runtime}/runSubgraphMain';
import { declaration } from './declaration';
import { start${n.pascal}Subgraph } from './index';

runSubgraphMain(declaration, start${n.pascal}Subgraph);
`;
}

function integrationTest(i: TemplateInput): string {
  const { n, x, imports, carrier } = i;
  const { a, E, X } = namesOf(i);
  const P = n.pascal;
  const code = carrier ? knownEventCode(carrier) : null;
  const waitKnown = `await subgraph.views.${x.knownView}.handle.waitFor`;
  const publish = !carrier
    ? `
/** No declared topic carries ${X}: every ${x.idField} is accepted, so there is nothing to publish. */
async function publish${X}(_id: string): Promise<void> {}
`
    : code?.record
      ? `
let lsn = Date.now() * 1000;

/** Writes ${x.a} as ${ownerOf(carrier)}'s database does (a Debezium change), and waits until this subgraph knows it. */
async function publish${X}(id: string): Promise<void> {
  const producer = subgraph.runtime.kafka.producer();
  await producer.connect();
  try {
    const [at] = await producer.send({ topic: subgraph.runtime.topic(${carrier.exportName}), acks: -1, messages: [${code.record}] });
    ${waitKnown}(at.partition, Number(at.baseOffset), 10_000);
  } finally {
    await producer.disconnect();
  }
}
`
      : code
        ? `
/** Publishes ${x.a} as ${ownerOf(carrier)} does, and waits until this subgraph knows it. */
async function publish${X}(id: string): Promise<void> {
  const at = await subgraph.runtime.producer.publish(subgraph.runtime.topic(${carrier.exportName}), ${code.event});
  ${waitKnown}(at.partition, at.offset, 10_000);
}
`
        : `
/** Publishes ${x.a} as ${ownerOf(carrier)} does, and waits until this subgraph knows it. */
async function publish${X}(id: string): Promise<void> {
  // new-subgraph could not build a ${carrier.creates[0]} from its contract: write one here.
  throw new Error(\`publish ${x.words} \${id}: write the event in ${n.name}.test.ts\`);
}
`;
  // Tests that need an existing ${X}: pending when the scaffold could not publish one.
  const canPublish = !carrier || code !== null;
  const itKnown = canPublish
    ? ''
    : `
// new-subgraph could not publish ${x.a} for the tests that need one (no payload or row image of
// ${carrier!.contract.name} could be built from its contract). Write publish${X}() as
// ${ownerOf(carrier!)} writes them, then make these \`it\` again.
const itWith${X} = (name: string, _test: () => Promise<void>) => it.todo(name);
`;
  const known = canPublish ? 'it' : `itWith${X}`;
  const notFoundTest = carrier
    ? `
it('refuses ${x.a} that does not exist with NOT_FOUND, and writes nothing', async () => {
  const admin = subgraph.runtime.kafka.admin();
  await admin.connect();
  const ends = async () => (await admin.fetchTopicOffsets(subgraph.runtime.topic(${n.constant}_TOPIC))).map((p) => p.high).join();
  try {
    const before = await ends();
    const res = await record({ ${x.idField}: 'no-such-${x.camel}', score: 3, title: 'x' });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', id: 'no-such-${x.camel}' });
    expect(res.data).toBeNull();
    expect(await ends()).toBe(before);
  } finally {
    await admin.disconnect();
  }
});
`
    : '';
  return `// The ${n.name} subgraph against the real broker and Redis: read-your-writes, who may write,
// ${carrier ? `NOT_FOUND for ${x.a} that does not exist, ` : ''}the ${X} fields the gateway fetches through _entities, and the subscription.
${code && canPublish ? `import { ${code.imports.filter((m) => code.record === null || m !== 'validateEvent').join(', ')} } from '${imports.events}';\n` : ''}import { anonymous, as, collect, gql, TEST_IDENTITY_SECRET, wsClient } from '${imports.testSupport}/graphqlClient';
import { createNamespace } from '${imports.testSupport}/namespace';
import { uniqueName, waitFor } from '${imports.testSupport}/waitFor';
${carrier ? `import { ${n.constant}_TOPIC } from './contract';\n` : ''}import { declaration } from './declaration';
import { start${P}Subgraph, type ${P}SubgraphHandle } from './index';

let subgraph: ${P}SubgraphHandle;

beforeAll(async () => {
  // Every declared topic under a fresh prefix; this subgraph's too, wherever its folder is.
  const namespace = await createNamespace('${n.name}', declaration.topics);
  // Not announced: this file talks to the subgraph directly, as the gateway would.
  subgraph = await start${P}Subgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, register: false });
});

afterAll(async () => {
  await subgraph?.close();
});
${publish}${itKnown}
const FIELDS = 'id score title version createdAt ${x.camel} { ${x.keyField} }';
const record = (input: Record<string, unknown>, who = as('author-1', 'customer')) =>
  gql(subgraph.url, \`mutation($input: Record${E}Input!) { ${a.record}(input: $input) { \${FIELDS} } }\`, { input }, who);
const aggregate = async (id: string) => {
  const res = await gql(
    subgraph.url,
    \`query($r: [_Any!]!) { _entities(representations: $r) { ... on ${X} { ${a.average} ${a.count} ${a.list}(first: 10) { edges { node { title score } } pageInfo { hasNextPage } } } } }\`,
    { r: [{ __typename: '${X}', ${x.keyField}: id }] },
    anonymous,
  );
  expect(res.errors).toBeUndefined();
  return res.data!._entities[0];
};

${known}("answers a write from the view and keeps the ${x.words}'s aggregate", async () => {
  const target = uniqueName('${x.camel}');
  await publish${X}(target);
  const first = await record({ ${x.idField}: target, score: 4, title: 'First' });
  expect(first.errors).toBeUndefined();
  const created = first.data!.${a.record};
  expect(created).toMatchObject({ score: 4, title: 'First', version: 1, ${x.camel}: { ${x.keyField}: target } });
  expect(await aggregate(target)).toEqual({ ${a.average}: 4, ${a.count}: 1, ${a.list}: { edges: [{ node: { title: 'First', score: 4 } }], pageInfo: { hasNextPage: false } } });
  // A change replaces its score in the aggregate; a second one adds to it.
  const changed = await record({ id: created.id, ${x.idField}: target, score: 2, title: 'Second' });
  expect(changed.data!.${a.record}).toMatchObject({ id: created.id, score: 2, version: 2, createdAt: created.createdAt });
  expect((await record({ ${x.idField}: target, score: 5, title: 'Third' }, as('author-2', 'customer'))).errors).toBeUndefined();
  expect(await aggregate(target)).toMatchObject({ ${a.average}: 3.5, ${a.count}: 2 });
  const read = await gql(subgraph.url, \`query($id: ID!) { ${n.entityCamel}(id: $id) { title version } }\`, { id: created.id }, anonymous);
  expect(read.data!.${n.entityCamel}).toEqual({ title: 'Second', version: 2 });
});

${known}('lets any signed-in caller write, only the author or an admin change it, and names a bad field', async () => {
  const target = uniqueName('${x.camel}');
  await publish${X}(target);
  expect((await record({ ${x.idField}: target, score: 3, title: 'x' }, anonymous)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  const mine = (await record({ ${x.idField}: target, score: 3, title: 'Mine' })).data!.${a.record};
  expect((await record({ id: mine.id, ${x.idField}: target, score: 1, title: 'x' }, as('someone-else', 'customer'))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect((await record({ id: mine.id, ${x.idField}: target, score: 1, title: 'By the admin' }, as('admin-1', 'admin'))).errors).toBeUndefined();
  expect((await record({ ${x.idField}: target, score: 6, title: 'x' })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.score' });
  expect((await record({ ${x.idField}: target, score: 3, title: '' })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.title' });
});
${notFoundTest}
${known}('${a.changed} sends the aggregate now, then again after every change', async () => {
  const target = uniqueName('${x.camel}');
  await publish${X}(target);
  const client = wsClient(subgraph.wsUrl, as('watcher-1', 'customer'));
  const sub = collect(client, \`subscription($id: ${x.keyType}!) { ${a.changed}(${x.idField}: $id) { ${x.keyField} ${a.count} ${a.average} } }\`, { id: target });
  try {
    await waitFor(() => sub.received.length >= 1 || sub.error(), { what: 'the current aggregate' });
    expect(sub.received[0]).toEqual({ data: { ${a.changed}: { ${x.keyField}: target, ${a.count}: 0, ${a.average}: null } } });
    expect((await record({ ${x.idField}: target, score: 3, title: 'Live' })).errors).toBeUndefined();
    await waitFor(() => sub.received.length >= 2, { what: 'the changed aggregate' });
    expect(sub.received[1]).toEqual({ data: { ${a.changed}: { ${x.keyField}: target, ${a.count}: 1, ${a.average}: 3 } } });
  } finally {
    sub.dispose();
    await client.dispose();
  }
});
`;
}
