// The small files that wire a scaffolded subgraph like every other: its topic contract,
// declaration, context type, schema, index and main.
import { namesOf, type TemplateInput } from './templateInput';

export function contract(i: TemplateInput): string {
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

export function declaration(i: TemplateInput): string {
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

export function context({ n, imports }: TemplateInput): string {
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

export function schema({ n, imports }: TemplateInput): string {
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

export function index({ n, imports }: TemplateInput): string {
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

export function main({ n, port, imports }: TemplateInput): string {
  return `// Entry point of the ${n.name} subgraph process: settings from the environment (${n.portVariable},
// default ${port}, and those every subgraph reads), start, stop cleanly on SIGINT/SIGTERM.
import { runSubgraphMain } from '${imports.runtime}/runSubgraphMain';
import { declaration } from './declaration';
import { start${n.pascal}Subgraph } from './index';

runSubgraphMain(declaration, start${n.pascal}Subgraph);
`;
}
