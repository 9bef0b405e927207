// The files of a scaffolded subgraph, as text. Each function returns one file; imports of the
// repo's shared code come in through ImportPaths, computed from wherever the subgraph is written.
import type { SubgraphNames } from './names';

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

function sdl({ n }: TemplateInput): string {
  const E = n.entity;
  return `# The ${n.name} subgraph: ${plural(n)} of stores, built from its own ${n.name} topic (contract.ts).
# This SDL is the team's contract with the graph: the gateway composes it with every other
# subgraph's, so a name another subgraph already uses for something else fails composition.
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

"A ${n.entityWords}, owned by the ${n.name} subgraph. Every change increases \`version\` by one."
type ${E} @key(fields: "id") {
  id: ID!
  "The store it belongs to; the catalog subgraph resolves the store's other fields."
  store: Store!
  title: String!
  "When it was first recorded (ISO-8601)."
  createdAt: String!
  "When it last changed (ISO-8601)."
  updatedAt: String!
  version: Int!
}

"The catalog subgraph owns stores; this subgraph adds one field to them."
type Store @key(fields: "id") {
  id: ID!
  "The store's ${plural(n)}, newest first; first is 0 to 100."
  ${n.camel}(first: Int = 20, after: String): ${E}Connection!
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
  "The ${n.entityWords} to change; a new id is generated when absent."
  id: ID
  storeId: ID!
  "1 to 200 characters."
  title: String!
}

type Query {
  ${n.entityCamel}(id: ID!): ${E}
}

type Mutation {
  "Records a new ${n.entityWords} or changes one: the store itself (role store, sub = storeId) or an admin."
  record${E}(input: Record${E}Input!): ${E}!
}
`;
}

function contract({ n, imports }: TemplateInput): string {
  const C = n.constant;
  return `// The ${n.name} topic's contract, as a value: its Kafka topic, what its records are keyed by,
// each event type with its version and payload check (the validators schema/events uses) and
// the team that owns it. This team owns it here; the runtime, \`npm run topics\` and the other
// CLIs take it from declaration.ts. When other teams consume the topic, move it into
// schema/events (docs/adding-a-subgraph.md, "Promoting the contract").
import { defineTopic, type EventOf } from '${imports.events}';
import { obj, str } from '${imports.validate}';

const id = str({ min: 1, max: 128 });

/**
 * Records keyed by the ${n.entityWords}'s id, kept forever: the view is rebuilt by replaying them.
 * Never change the partition count in place; readers find a key's partition with it.
 * A new event type goes into \`events\`, then into the fold's switch (projection.ts).
 */
export const ${C}_TOPIC = defineTopic({
  name: '${n.name}',
  partitions: 6,
  cleanupPolicy: 'delete',
  retentionMs: -1,
  keyedBy: '${n.entityCamel}Id',
  owner: '${n.name}',
  events: {
    ${n.entity}Recorded: {
      version: 1,
      payload: obj({ ${n.entityCamel}Id: id, storeId: id, title: str({ max: 200 }) }),
    },
  },
});

/** Any event of the ${n.name} topic, discriminated by \`type\`. */
export type ${n.pascal}Event = EventOf<typeof ${C}_TOPIC>;
`;
}

function declaration({ n, port, imports }: TemplateInput): string {
  return `// The ${n.name} subgraph as the runtime and the operations tools see it: where it listens
// (${n.portVariable} overrides the port), the topic it writes and the views it builds.
// \`npm run topics\`, \`lag\`, \`dlq\` and \`rebuild\` find it here.
import { declareSubgraph } from '${imports.runtime}/declaration';
import { ${n.constant}_TOPIC } from './contract';
import { ${n.entityCamel}Projection } from './projection';

export const declaration = declareSubgraph({
  name: '${n.name}',
  port: ${port},
  portVariable: '${n.portVariable}',
  topics: [${n.constant}_TOPIC],
  views: { ${n.camel}: ${n.entityCamel}Projection },
});
`;
}

function projection({ n, imports }: TemplateInput): string {
  const E = n.entity;
  return `// The ${n.name} view as a pure fold: ${plural(n)} by id, and each store's ${plural(n)} in an index,
// newest first. No I/O: the runtime reads the states the fold names, and writes what it
// returns together with the partition checkpoint in one atomic step.
import type { Projection } from '${imports.runtime}/projection';
import { ${n.constant}_TOPIC } from './contract';

export interface ${E}State {
  readonly id: string;
  readonly storeId: string;
  readonly title: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** 1 when first recorded, then one more with every event that changes it. */
  readonly version: number;
}

/** The index of one store's ${plural(n)}. */
export const storeIndex = (storeId: string) => \`store:\${storeId}\`;

export const ${n.entityCamel}Projection: Projection<typeof ${n.constant}_TOPIC, ${E}State> = {
  name: '${n.name}.${n.entityCamel}',
  topic: ${n.constant}_TOPIC,
  reads: (e) => [e.payload.${n.entityCamel}Id],
  // Keyed by its own id, like its records: reading one touches one partition.
  recordKeyOf: (id) => id,
  apply(view, e) {
    const id = e.payload.${n.entityCamel}Id;
    const cur = view.get(id);
    switch (e.type) {
      case '${E}Recorded': {
        const p = e.payload;
        // A ${n.entityWords} stays with its store. The command checks first, so an event that
        // would move it lost a race with a concurrent write from another store: no change.
        if (cur && cur.storeId !== p.storeId) return new Map();
        // A replayed or duplicated event changes nothing, so version counts real changes.
        if (cur && cur.title === p.title) return new Map();
        return new Map([
          [
            id,
            {
              id,
              storeId: p.storeId,
              title: p.title,
              createdAt: cur?.createdAt ?? e.occurredAt,
              updatedAt: e.occurredAt,
              version: (cur?.version ?? 0) + 1,
            },
          ],
        ]);
      }
    }
  },
  // Newest first: the runtime keeps the index in step with each state it writes.
  indexes: (_id, s) => [{ index: storeIndex(s.storeId), score: -Date.parse(s.createdAt) }],
};
`;
}

function projectionTest({ n, imports }: TemplateInput): string {
  const E = n.entity;
  return `// The ${n.name} fold with plain objects: no Kafka, no Redis.
import { createEvent } from '${imports.events}';
import { ${n.constant}_TOPIC } from './contract';
import { ${n.entityCamel}Projection, storeIndex, type ${E}State } from './projection';

const recorded = (title: string, occurredAt: string, storeId = 'store-1') =>
  createEvent(${n.constant}_TOPIC, '${E}Recorded', { ${n.entityCamel}Id: 'r1', storeId, title }, { occurredAt });

/** Folds events in log order from an empty view, as the runtime does for one partition. */
function fold(events: ReadonlyArray<ReturnType<typeof recorded>>): Map<string, ${E}State | undefined> {
  const view = new Map<string, ${E}State | undefined>();
  events.forEach((event, offset) => {
    const at = { partition: 0, offset, occurredAt: event.occurredAt };
    for (const [id, state] of ${n.entityCamel}Projection.apply(view, event, at)) view.set(id, state);
  });
  return view;
}

it('records at version 1 and counts each change, keeping when it was first recorded', () => {
  const view = fold([recorded('First', '2026-01-01T00:00:00.000Z'), recorded('Second', '2026-01-01T00:00:05.000Z')]);
  expect(view.get('r1')).toEqual({
    id: 'r1',
    storeId: 'store-1',
    title: 'Second',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:05.000Z',
    version: 2,
  });
});

it('ignores a duplicate and a write that would move it to another store', () => {
  const view = fold([
    recorded('First', '2026-01-01T00:00:00.000Z'),
    recorded('First', '2026-01-01T00:00:01.000Z'),
    recorded('Moved', '2026-01-01T00:00:02.000Z', 'store-2'),
  ]);
  expect(view.get('r1')).toMatchObject({ storeId: 'store-1', title: 'First', version: 1 });
});

it("indexes each store's ${plural(n)}, newest first", () => {
  const state = fold([recorded('First', '2026-01-01T00:00:00.000Z')]).get('r1')!;
  expect(${n.entityCamel}Projection.indexes!('r1', state)).toEqual([
    { index: storeIndex('store-1'), score: -Date.parse('2026-01-01T00:00:00.000Z') },
  ]);
});

it('refuses an event that breaks the contract, naming the field', () => {
  expect(() => recorded('', '2026-01-01T00:00:00.000Z')).toThrow(/event\\.payload\\.title: expected a string of 1 to 200 characters/);
});
`;
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

function commands({ n, imports }: TemplateInput): string {
  const E = n.entity;
  const P = n.pascal;
  return `// The ${n.name} team's mutation: check the caller and the input, emit one event, and answer
// from the view once it has applied that event (read-your-writes).
import { randomUUID } from 'node:crypto';
import { forbidden, unauthenticated } from '${imports.runtime}/errors';
import { eventFromInput } from '${imports.runtime}/inputChecks';
import { hasRole } from '${imports.platform}/identity';
import type { ${P}Context } from './context';
import { ${n.constant}_TOPIC } from './contract';
import type { ${E}State } from './projection';

export interface Record${E}Input {
  readonly id?: string | null;
  readonly storeId: string;
  readonly title: string;
}

/** Records a new ${n.entityWords} or changes one: the store itself (role store, sub = storeId) or an admin. */
export async function record${E}(ctx: ${P}Context, input: Record${E}Input): Promise<${E}State> {
  const { identity } = ctx;
  // Refused before anything is read, so a refused caller learns nothing about the record.
  const ownStore = hasRole(identity, 'store') && identity.sub === input.storeId;
  if (!ownStore && !hasRole(identity, 'admin')) {
    if (identity.sub === null && identity.roles.length === 0) throw unauthenticated('sign in to record a ${n.entityWords}');
    throw forbidden('only the store itself or an admin records its ${plural(n)}');
  }
  const id = input.id ?? randomUUID();
  const view = ctx.views.${n.camel};
  const [current] = await view.reader.getMany([id]);
  if (current && current.storeId !== input.storeId) throw forbidden('that ${n.entityWords} belongs to another store');
  // The contract holds the limits: a violation on a field the client sent is BAD_USER_INPUT naming it.
  const event = eventFromInput(
    ${n.constant}_TOPIC,
    '${E}Recorded',
    { ${n.entityCamel}Id: id, storeId: input.storeId, title: input.title.trim() },
    { ${n.entityCamel}Id: 'input.id', storeId: 'input.storeId', title: 'input.title' },
  );
  await ctx.runtime.emit(${n.constant}_TOPIC, event, view);
  // Read past the request's loader cache: the answer is the view as it is after this write.
  const [after] = await view.reader.getMany([id]);
  // The fold never moves a record between stores: a concurrent write from another store won.
  if (!after || after.storeId !== input.storeId) throw forbidden('that ${n.entityWords} belongs to another store');
  return after;
}
`;
}

function resolvers({ n, imports }: TemplateInput): string {
  const E = n.entity;
  const P = n.pascal;
  return `// The ${n.name} subgraph's resolvers: thin, reading through the request's loaders and handing
// the mutation to its command; everything they use comes in the context.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput } from '${imports.runtime}/errors';
import { InvalidCursorError } from '${imports.runtime}/viewReader';
import { record${E}, type Record${E}Input } from './commands';
import type { ${P}Context } from './context';
import { storeIndex, type ${E}State } from './projection';

const MAX_PAGE = 100;

const byId = async (ctx: ${P}Context, id: string) => (await ctx.loaders.${n.camel}.load(id)) ?? null;

export const resolvers: GraphQLResolverMap<${P}Context> = {
  Query: {
    ${n.entityCamel}: (_: unknown, { id }: { id: string }, ctx: ${P}Context) => byId(ctx, id),
  },
  Mutation: {
    record${E}: (_: unknown, { input }: { input: Record${E}Input }, ctx: ${P}Context) => record${E}(ctx, input),
  },
  ${E}: {
    __resolveReference: (ref: { id: string }, ctx: ${P}Context) => byId(ctx, ref.id),
    // The catalog owns stores: this subgraph returns the reference and the gateway fetches the rest.
    store: (s: ${E}State) => ({ __typename: 'Store', id: s.storeId }),
  },
  Store: {
    ${n.camel}: async ({ id }: { id: string }, args: { first: number; after?: string | null }, ctx: ${P}Context) => {
      if (!Number.isInteger(args.first) || args.first < 0 || args.first > MAX_PAGE)
        throw badInput(\`first must be 0 to \${MAX_PAGE}\`, 'first');
      const page = await ctx.views.${n.camel}.reader
        .indexPage(storeIndex(id), { first: args.first, after: args.after })
        .catch((e: unknown) => {
          throw e instanceof InvalidCursorError ? badInput(e.message, 'after') : e;
        });
      const nodes = await ctx.loaders.${n.camel}.loadMany(page.ids);
      return {
        // Index and state are written in one step; a gap can only be a rebuild switching
        // generations between the two reads, and skipping it beats failing the page.
        edges: page.ids.flatMap((_, i) => {
          const node = nodes[i];
          return node && !(node instanceof Error) ? [{ cursor: page.cursors[i], node }] : [];
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

function integrationTest({ n, imports }: TemplateInput): string {
  const E = n.entity;
  return `// The ${n.name} subgraph against the real broker and Redis: read-your-writes, who may write,
// and the Store field the gateway fetches through _entities.
import type { SubgraphHandle } from '${imports.runtime}/startSubgraph';
import { anonymous, as, gql, TEST_IDENTITY_SECRET } from '${imports.testSupport}/graphqlClient';
import { createNamespace } from '${imports.testSupport}/namespace';
import { declaration } from './declaration';
import { start${n.pascal}Subgraph } from './index';

let subgraph: SubgraphHandle;

beforeAll(async () => {
  // Every declared topic under a fresh prefix; this subgraph's too, wherever its folder is.
  const namespace = await createNamespace('${n.name}', declaration.topics);
  // Not announced: this file talks to the subgraph directly, as the gateway would.
  subgraph = await start${n.pascal}Subgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, register: false });
});

afterAll(async () => {
  await subgraph?.close();
});

const FIELDS = 'id title version createdAt store { id }';
const record = (input: Record<string, unknown>, who = as('admin-1', 'admin')) =>
  gql(subgraph.url, \`mutation($input: Record${E}Input!) { record${E}(input: $input) { \${FIELDS} } }\`, { input }, who);

it('answers a write from the view and counts changes in version', async () => {
  const first = await record({ storeId: 'store-1', title: 'First' }, as('store-1', 'store'));
  expect(first.errors).toBeUndefined();
  const created = first.data!.record${E};
  expect(created).toMatchObject({ title: 'First', version: 1, store: { id: 'store-1' } });
  const changed = await record({ id: created.id, storeId: 'store-1', title: 'Second' });
  expect(changed.data!.record${E}).toMatchObject({ id: created.id, title: 'Second', version: 2, createdAt: created.createdAt });
  const read = await gql(subgraph.url, \`query($id: ID!) { ${n.entityCamel}(id: $id) { title version } }\`, { id: created.id }, anonymous);
  expect(read.data!.${n.entityCamel}).toEqual({ title: 'Second', version: 2 });
});

it('lets only the store itself or an admin write, and names a bad field', async () => {
  expect((await record({ storeId: 'store-1', title: 'x' }, anonymous)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect((await record({ storeId: 'store-1', title: 'x' }, as('store-2', 'store'))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  const bad = await record({ storeId: 'store-1', title: '' }, as('store-1', 'store'));
  expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.title' });
});

it("lists a store's ${plural(n)} newest first for the gateway's _entities call", async () => {
  const storeId = \`store-\${Date.now().toString(36)}\`;
  for (const title of ['older', 'newer']) expect((await record({ storeId, title }, as(storeId, 'store'))).errors).toBeUndefined();
  const res = await gql(
    subgraph.url,
    \`query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { ${n.camel}(first: 10) { edges { node { title } } pageInfo { hasNextPage } } } } }\`,
    { r: [{ __typename: 'Store', id: storeId }] },
    anonymous,
  );
  expect(res.errors).toBeUndefined();
  const list = res.data!._entities[0].${n.camel};
  expect(list.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual(['newer', 'older']);
  expect(list.pageInfo.hasNextPage).toBe(false);
});
`;
}
