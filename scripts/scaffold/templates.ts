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
    'ownTopic.ts': ownTopic(input),
    'projection.ts': projection(input),
    'projection.test.ts': projectionTest(input),
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
  const P = n.pascal;
  return `// The ${n.name} topic's contract: its Kafka topic and each event type's payload, checked with
// the validators schema/events uses. This team owns it here; ownTopic.ts plugs it into the
// shared runtime. When other teams consume the topic, move it into schema/events
// (docs/adding-a-subgraph.md, "Promoting the contract").
import type { Envelope, TopicSpec } from '${imports.events}';
import { obj, str, type Checked } from '${imports.validate}';

/** The topic's key in the runtime's topic table (TOPICS in schema/events). */
export const ${C}_TOPIC_KEY = '${n.camel}';

/**
 * Records keyed by the ${n.entityWords}'s id, kept forever: the view is rebuilt by replaying them.
 * Never change the partition count in place; readers find a key's partition with it.
 */
export const ${C}_TOPIC = {
  name: '${n.name}',
  partitions: 6,
  cleanupPolicy: 'delete',
  retentionMs: -1,
  keyedBy: '${n.entityCamel}Id',
} as const satisfies TopicSpec;

const id = str({ min: 1, max: 128 });

/** Payload checks per event type. A new type goes here, then into the fold's switch (projection.ts). */
export const ${C}_EVENTS = {
  ${n.entity}Recorded: obj({
    ${n.entityCamel}Id: id,
    storeId: id,
    title: str({ max: 200 }),
  }),
} as const;

export type ${P}EventType = keyof typeof ${C}_EVENTS;
export type ${P}Payload<T extends ${P}EventType> = Checked<(typeof ${C}_EVENTS)[T]>;
/** Any event of the ${n.name} topic, discriminated by \`type\`. */
export type ${P}Event = { [T in ${P}EventType]: Envelope<T, ${P}Payload<T>> }[${P}EventType];
`;
}

function ownTopic({ n, imports }: TemplateInput): string {
  const C = n.constant;
  const P = n.pascal;
  return `// Plugs this subgraph's own topic (contract.ts) into the shared runtime, which knows topics by
// their key in schema/events' tables: registers the contract there (in this process only),
// creates the topic when it is missing, and types views and writes by this contract's events.
// Plumbing, not domain code: it goes away when the contract moves into schema/events.
import { createEvent, dlqSpec, PAYLOADS, TOPICS, type EventTopicKey, type TopicSpec } from '${imports.events}';
import type { Check } from '${imports.validate}';
import { ConfigError } from '${imports.platform}/configError';
import { replicationFactorFromEnv } from '${imports.platform}/kafkaConfig';
import type { WrittenAt } from '${imports.runtime}/producer';
import type { EventPosition, Projection, ViewSnapshot } from '${imports.runtime}/projection';
import type { SubgraphRuntime, View } from '${imports.runtime}/subgraphRuntime';
import { ${C}_EVENTS, ${C}_TOPIC, ${C}_TOPIC_KEY, type ${P}Event, type ${P}EventType, type ${P}Payload } from './contract';

/** A fold of the ${n.name} topic: the runtime's Projection, typed by this contract's events. */
export interface ${P}Projection<S> extends Omit<Projection<EventTopicKey, S>, 'topic' | 'reads' | 'apply'> {
  readonly topic: typeof ${C}_TOPIC_KEY;
  reads(event: ${P}Event): readonly string[];
  apply(view: ViewSnapshot<S>, event: ${P}Event, at: EventPosition): ReadonlyMap<string, S | undefined>;
}

// The runtime's tables are typed by the topics schema/events declares; this contract joins
// them at run time, so the casts to their types live here and nowhere else.
const topics = TOPICS as unknown as Record<string, TopicSpec>;
const payloads = PAYLOADS as unknown as Record<string, Record<string, Check<unknown>>>;
const KEY = ${C}_TOPIC_KEY as unknown as EventTopicKey;

/**
 * Adds the contract to the runtime's tables, so the projection runner parses this topic's
 * events (and dead-letters bad ones) like any other. Idempotent; refuses a key or topic name
 * that schema/events already uses.
 */
export function register${P}Contract(): void {
  if (topics[${C}_TOPIC_KEY] === ${C}_TOPIC && payloads[${C}_TOPIC_KEY] === ${C}_EVENTS) return;
  const clash = Object.entries(topics).find(([key, spec]) => key === ${C}_TOPIC_KEY || spec.name === ${C}_TOPIC.name);
  if (clash)
    throw new ConfigError(
      \`topic \${${C}_TOPIC.name} (key \${${C}_TOPIC_KEY}) clashes with topic \${clash[1].name} (key \${clash[0]}) in schema/events; rename it in contract.ts\`,
    );
  topics[${C}_TOPIC_KEY] = ${C}_TOPIC;
  payloads[${C}_TOPIC_KEY] = ${C}_EVENTS;
}

/** A new event of this topic, checked against the contract before it can reach the log. */
export function create${P}Event<T extends ${P}EventType>(
  type: T,
  payload: ${P}Payload<T>,
  opts: { eventId?: string; occurredAt?: string } = {},
): Extract<${P}Event, { type: T }> {
  register${P}Contract();
  return createEvent(KEY, type as never, payload as never, opts) as unknown as Extract<${P}Event, { type: T }>;
}

/**
 * Creates the topic and its dead-letter topic when missing (\`npm run topics\` only knows the
 * topics of schema/events). Existing topics are never altered. Where this subgraph may not
 * create topics, create both beforehand with the settings of contract.ts.
 */
export async function ensure${P}Topics(runtime: SubgraphRuntime): Promise<void> {
  const specs = [${C}_TOPIC, dlqSpec(${C}_TOPIC)].map((s) => ({ ...s, name: \`\${runtime.namespace}\${s.name}\` }));
  const admin = runtime.kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return;
    // Another instance starting at the same moment may create them first; kafkajs then
    // resolves false, which is as good.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: replicationFactorFromEnv(),
        configEntries: [
          { name: 'cleanup.policy', value: s.cleanupPolicy },
          { name: 'retention.ms', value: String(s.retentionMs) },
        ],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Starts a view of this topic (its consumer group, reader and change notices). */
export async function start${P}View<S>(runtime: SubgraphRuntime, projection: ${P}Projection<S>): Promise<View<S>> {
  register${P}Contract();
  await ensure${P}Topics(runtime);
  return runtime.view(projection as unknown as Projection<EventTopicKey, S>);
}

/** Writes an event and waits until \`view\` has applied it (read-your-writes), as runtime.emit does. */
export function emit${P}Event(runtime: SubgraphRuntime, event: ${P}Event, view: View<unknown>): Promise<WrittenAt> {
  register${P}Contract();
  return runtime.emit(KEY, event as never, view);
}
`;
}

function projection({ n }: TemplateInput): string {
  const E = n.entity;
  const P = n.pascal;
  return `// The ${n.name} view as a pure fold: ${plural(n)} by id, and each store's ${plural(n)} in an index,
// newest first. No I/O: the runtime reads the states the fold names, and writes what it
// returns together with the partition checkpoint in one atomic step.
import { ${n.constant}_TOPIC_KEY } from './contract';
import type { ${P}Projection } from './ownTopic';

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

export const ${n.entityCamel}Projection: ${P}Projection<${E}State> = {
  name: '${n.name}.${n.entityCamel}',
  topic: ${n.constant}_TOPIC_KEY,
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

function projectionTest({ n }: TemplateInput): string {
  const E = n.entity;
  const P = n.pascal;
  return `// The ${n.name} fold with plain objects: no Kafka, no Redis.
import { create${P}Event } from './ownTopic';
import { ${n.entityCamel}Projection, storeIndex, type ${E}State } from './projection';

const recorded = (title: string, occurredAt: string, storeId = 'store-1') =>
  create${P}Event('${E}Recorded', { ${n.entityCamel}Id: 'r1', storeId, title }, { occurredAt });

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

function commands({ n, imports }: TemplateInput): string {
  const E = n.entity;
  const P = n.pascal;
  return `// The ${n.name} team's mutation: check the caller and the input, emit one event, and answer
// from the view once it has applied that event (read-your-writes).
import { randomUUID } from 'node:crypto';
import { ContractViolation } from '${imports.events}';
import { badInput, forbidden, unauthenticated } from '${imports.runtime}/errors';
import { hasRole, type Identity } from '${imports.platform}/identity';
import type { SubgraphRuntime, View } from '${imports.runtime}/subgraphRuntime';
import { create${P}Event, emit${P}Event } from './ownTopic';
import type { ${E}State } from './projection';

export interface ${P}Deps {
  readonly runtime: SubgraphRuntime;
  readonly ${n.entityCamel}View: View<${E}State>;
}

export interface Record${E}Input {
  readonly id?: string | null;
  readonly storeId: string;
  readonly title: string;
}

/** Records a new ${n.entityWords} or changes one: the store itself (role store, sub = storeId) or an admin. */
export async function record${E}(deps: ${P}Deps, identity: Identity, input: Record${E}Input): Promise<${E}State> {
  // Refused before anything is read, so a refused caller learns nothing about the record.
  const ownStore = hasRole(identity, 'store') && identity.sub === input.storeId;
  if (!ownStore && !hasRole(identity, 'admin')) {
    if (identity.sub === null && identity.roles.length === 0) throw unauthenticated('sign in to record a ${n.entityWords}');
    throw forbidden('only the store itself or an admin records its ${plural(n)}');
  }
  const id = input.id ?? randomUUID();
  const [current] = await deps.${n.entityCamel}View.reader.getMany([id]);
  if (current && current.storeId !== input.storeId) throw forbidden('that ${n.entityWords} belongs to another store');
  let event;
  try {
    event = create${P}Event('${E}Recorded', { ${n.entityCamel}Id: id, storeId: input.storeId, title: input.title.trim() });
  } catch (e) {
    // The contract holds the limits; its message names the field, mapped back to the input's.
    if (!(e instanceof ContractViolation)) throw e;
    const field = e.path.replace(/^event\\.payload\\.?/, '');
    throw badInput(e.message, field === '${n.entityCamel}Id' ? 'id' : field);
  }
  await emit${P}Event(deps.runtime, event, deps.${n.entityCamel}View);
  // Read past the request's loader cache: the answer is the view as it is after this write.
  const [after] = await deps.${n.entityCamel}View.reader.getMany([id]);
  // The fold never moves a record between stores: a concurrent write from another store won.
  if (!after || after.storeId !== input.storeId) throw forbidden('that ${n.entityWords} belongs to another store');
  return after;
}
`;
}

function resolvers({ n, imports }: TemplateInput): string {
  const E = n.entity;
  const P = n.pascal;
  return `// The ${n.name} subgraph's resolvers: thin, reading through the request's DataLoader and
// handing the mutation to its command.
import type DataLoader from 'dataloader';
import { badInput } from '${imports.runtime}/errors';
import type { Identity } from '${imports.platform}/identity';
import { InvalidCursorError } from '${imports.runtime}/viewReader';
import { record${E}, type ${P}Deps, type Record${E}Input } from './commands';
import { storeIndex, type ${E}State } from './projection';

export interface ${P}Context {
  readonly identity: Identity;
  /** Per request: every id asked for in one tick is read in one Redis round trip. */
  readonly ${n.entityCamel}ById: DataLoader<string, ${E}State | undefined>;
}

const MAX_PAGE = 100;

export function ${n.camel}Resolvers(deps: ${P}Deps) {
  const byId = async (ctx: ${P}Context, id: string) => (await ctx.${n.entityCamel}ById.load(id)) ?? null;
  return {
    Query: {
      ${n.entityCamel}: (_: unknown, { id }: { id: string }, ctx: ${P}Context) => byId(ctx, id),
    },
    Mutation: {
      record${E}: (_: unknown, { input }: { input: Record${E}Input }, ctx: ${P}Context) => record${E}(deps, ctx.identity, input),
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
        const page = await deps.${n.entityCamel}View.reader
          .indexPage(storeIndex(id), { first: args.first, after: args.after })
          .catch((e: unknown) => {
            throw e instanceof InvalidCursorError ? badInput(e.message, 'after') : e;
          });
        const nodes = await ctx.${n.entityCamel}ById.loadMany(page.ids);
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
}
`;
}

function schema({ n }: TemplateInput): string {
  const P = n.pascal;
  return `// The ${n.name} subgraph's schema: its SDL (schema.graphql, beside this file) wired to the
// resolvers with buildSubgraphSchema (adds _service, _entities and the federation directives).
import fs from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import type { ${P}Deps } from './commands';
import { ${n.camel}Resolvers } from './resolvers';

/** The one source of the SDL: the registry announces what this schema prints. */
export const ${n.constant}_SDL = fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8');

export function ${n.camel}Schema(deps: ${P}Deps): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: parse(${n.constant}_SDL),
    resolvers: ${n.camel}Resolvers(deps) as unknown as GraphQLResolverMap<unknown>,
  });
}
`;
}

function index({ n, imports }: TemplateInput): string {
  const P = n.pascal;
  return `// Starts the ${n.name} subgraph: its view, schema and server. startSubgraph also announces it
// in the registry, so a running gateway composes it into the graph without a restart.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '${imports.runtime}/startSubgraph';
import { start${P}View } from './ownTopic';
import { ${n.entityCamel}Projection } from './projection';
import type { ${P}Context } from './resolvers';
import { ${n.camel}Schema } from './schema';

export async function start${P}Subgraph(opts: SubgraphOptions): Promise<SubgraphHandle> {
  return startSubgraph<${P}Context>('${n.name}', opts, async (runtime) => {
    const ${n.entityCamel}View = await start${P}View(runtime, ${n.entityCamel}Projection);
    return {
      schema: ${n.camel}Schema({ runtime, ${n.entityCamel}View }),
      context: (identity) => ({ identity, ${n.entityCamel}ById: ${n.entityCamel}View.loader() }),
    };
  });
}
`;
}

function main({ n, port, imports }: TemplateInput): string {
  return `// Entry point of the ${n.name} subgraph process: settings from the environment (${n.portVariable},
// default ${port}, and those every subgraph reads), start, stop cleanly on SIGINT/SIGTERM.
import { runSubgraphMain } from '${imports.runtime}/runSubgraphMain';
import { start${n.pascal}Subgraph } from './index';

/** Where it listens; the setting is named like schema/subgraphs.ts names the others'. */
const LISTEN = { portVariable: '${n.portVariable}', port: ${port} } as const;

runSubgraphMain('${n.name}', LISTEN.portVariable, LISTEN.port, start${n.pascal}Subgraph);
`;
}

function integrationTest({ n, imports }: TemplateInput): string {
  const E = n.entity;
  return `// The ${n.name} subgraph against the real broker and Redis: read-your-writes, who may write,
// and the Store field the gateway fetches through _entities.
import type { SubgraphHandle } from '${imports.runtime}/startSubgraph';
import { anonymous, as, gql, TEST_IDENTITY_SECRET } from '${imports.testSupport}/graphqlClient';
import { createNamespace } from '${imports.testSupport}/namespace';
import { start${n.pascal}Subgraph } from './index';

let subgraph: SubgraphHandle;

beforeAll(async () => {
  const namespace = await createNamespace('${n.name}');
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
  expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
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
