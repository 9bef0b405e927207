// `npm run new-subgraph -- <name> [--dir <folder>] [--port <n>] [--entity <Type>]`: writes a
// working domain subgraph (SDL, its own topic contract, a pure fold and its test, a mutation
// that reads its own write, resolvers over a DataLoader, main.ts, an integration test) after
// checking that it composes with the graph, then prints what to do next.
// docs/adding-a-subgraph.md walks through the result.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kind, parse, type DocumentNode } from 'graphql';
import { composeSupergraph } from '../gateway/supergraph/compose';
import { dlqTopicName } from '../schema/events';
import { hasSubgraphSdl, SUPERGRAPH_PATH } from '../schema/subgraphs';
import type { SubgraphDeclaration } from '../subgraphs/runtime/declaration';
import { checkedInSubgraphs } from './compose';
import { declaredTopics, SUBGRAPHS_DIR, subgraphDeclarations } from './declarations';
import { entityProblem, nameProblem, subgraphNames, type SubgraphNames } from './scaffold/names';
import { subgraphFiles, type ImportPaths } from './scaffold/templates';

const ROOT = path.resolve(__dirname, '..');
/** The gateway's port; subgraphs declare theirs. */
const GATEWAY_PORT = 4000;
/** After the gateway's and the three subgraphs' (API.md), a new subgraph's default comes. */
const FIRST_FREE_PORT = 4004;

const USAGE = `usage: npm run new-subgraph -- <name> [--dir <folder>] [--port <n>] [--entity <Type>]
  <name>     lowercase letters, digits and dashes (e.g. tasting-notes): the registry name and the topic
  --dir      where to write it (default subgraphs/<name>); any new or empty folder inside the repo
  --port     the default port it listens on (default: the first from 4004 no declared subgraph uses)
  --entity   the subgraph's own entity type (default: the name made singular, e.g. TastingNote)`;

/** A mistake the caller can fix; the message says how. */
export class ScaffoldError extends Error {
  constructor(
    message: string,
    /** Whether the usage text helps (a malformed command line, not a clash). */
    readonly showUsage = false,
  ) {
    super(message);
    this.name = 'ScaffoldError';
  }
}

export interface ScaffoldOptions {
  readonly name: string;
  /** @default subgraphs/<name> (relative paths resolve from the working directory) */
  readonly dir?: string;
  /** @default the first port from 4004 that no subgraph declares */
  readonly port?: number;
  /** @default the name made singular, in PascalCase */
  readonly entity?: string;
}

export interface ScaffoldResult {
  readonly names: SubgraphNames;
  readonly dir: string;
  readonly port: number;
  /** The files written, absolute. */
  readonly files: string[];
}

/** Parses the command line (without `node` and the script). */
export function parseNewSubgraphArgs(argv: readonly string[]): ScaffoldOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { dir: { type: 'string' }, port: { type: 'string' }, entity: { type: 'string' } },
    });
  } catch (e) {
    throw new ScaffoldError((e as Error).message, true);
  }
  const [name, ...extra] = parsed.positionals;
  if (!name) throw new ScaffoldError('the subgraph name is missing', true);
  if (extra.length) throw new ScaffoldError(`one name only; also got ${extra.join(' ')}`, true);
  const { dir, port, entity } = parsed.values;
  if (port !== undefined && !/^\d+$/.test(port)) throw new ScaffoldError(`--port "${port}" is not a port number`, true);
  return { name, dir, port: port === undefined ? undefined : Number(port), entity };
}

/** Checks everything first, then writes the subgraph; nothing is written when a check fails. */
export function scaffoldSubgraph(opts: ScaffoldOptions): ScaffoldResult {
  const problem = nameProblem(opts.name) ?? (opts.entity === undefined ? null : entityProblem(opts.entity));
  if (problem) throw new ScaffoldError(problem);
  const names = subgraphNames(opts.name, opts.entity);
  const declarations = subgraphDeclarations();
  const existing = existingSubgraphs(declarations);
  if (existing.has(names.name))
    throw new ScaffoldError(`a subgraph named ${names.name} already exists (${[...existing].sort().join(', ')}); pick another name`);
  const dir = path.resolve(opts.dir ?? path.join(SUBGRAPHS_DIR, names.name));
  checkDir(dir);
  const used = new Set([GATEWAY_PORT, ...declarations.map((d) => d.port)]);
  const port = opts.port ?? firstFreePort(used);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ScaffoldError(`--port ${port} is not 0 to 65535`);
  if (used.has(port)) throw new ScaffoldError(`port ${port} is already the default of another subgraph or the gateway; pick another with --port`);
  checkTopic(names, declarations);

  const files = subgraphFiles({ n: names, port, imports: importPaths(dir) });
  checkComposes(names, files['schema.graphql'], declarations);

  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const target = path.join(dir, file);
    // 'wx': never overwrite, even if the folder filled up since the check.
    fs.writeFileSync(target, text, { flag: 'wx' });
    written.push(target);
  }
  return { names, dir, port, files: written };
}

/** Subgraphs that exist: every declared one, and every folder under subgraphs/ (runtime included). */
function existingSubgraphs(declarations: readonly SubgraphDeclaration[]): Set<string> {
  const folders = fs
    .readdirSync(SUBGRAPHS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  return new Set([...declarations.map((d) => d.name), ...folders]);
}

function checkDir(dir: string): void {
  const rel = path.relative(ROOT, dir);
  const parts = rel.split(path.sep);
  // Imports and jest resolve packages from the repo's node_modules, so the code must live here.
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
    throw new ScaffoldError(`--dir ${dir} is not inside the repository (${ROOT}); the subgraph imports its shared runtime and packages from there`);
  if (parts.includes('node_modules')) throw new ScaffoldError(`--dir ${dir} is inside node_modules`);
  // The import check (scripts/check-imports.mjs) treats subgraphs/<x>/ as one subgraph's area.
  if (parts[0] === 'subgraphs' && parts.length !== 2)
    throw new ScaffoldError(`--dir ${rel}: inside subgraphs/ a subgraph is a folder of its own, subgraphs/<name>`);
  if (fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0))
    throw new ScaffoldError(`${rel} already exists and is not an empty folder; choose another --dir`);
}

function firstFreePort(used: ReadonlySet<number>): number {
  let port = FIRST_FREE_PORT;
  while (used.has(port)) port++;
  return port;
}

/** The new topic and its dead-letter topic must not be named like a declared topic or its dead-letter topic. */
function checkTopic(n: SubgraphNames, declarations: readonly SubgraphDeclaration[]): void {
  const taken = declaredTopics(declarations).flatMap((t) => [t.name, dlqTopicName(t.name)]);
  const clash = [n.name, dlqTopicName(n.name)].find((name) => taken.includes(name));
  if (clash) throw new ScaffoldError(`a subgraph already declares a topic named ${clash}; pick another name`);
}

/** SDL of subgraphs scaffolded earlier that are not in schema/ yet (their schema.graphql). */
function scaffoldedSdls(): Array<{ name: string; sdl: string }> {
  return fs
    .readdirSync(SUBGRAPHS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !hasSubgraphSdl(e.name) && fs.existsSync(path.join(SUBGRAPHS_DIR, e.name, 'schema.graphql')))
    .map((e) => ({ name: e.name, sdl: fs.readFileSync(path.join(SUBGRAPHS_DIR, e.name, 'schema.graphql'), 'utf8') }));
}

/**
 * The new SDL must add its own types and fields, not take over others' (a same-named type
 * would silently merge into theirs), and the whole graph must still compose.
 */
function checkComposes(n: SubgraphNames, sdl: string, declarations: readonly SubgraphDeclaration[]): void {
  const others = scaffoldedSdls();
  const graphs: DocumentNode[] = [parse(fs.readFileSync(SUPERGRAPH_PATH, 'utf8')), ...others.map((o) => parse(o.sdl))];
  const types = new Map<string, Set<string>>();
  for (const doc of graphs)
    for (const def of doc.definitions) {
      if (!('name' in def) || !def.name || def.kind === Kind.DIRECTIVE_DEFINITION) continue;
      const fields = types.get(def.name.value) ?? new Set<string>();
      if ('fields' in def) for (const f of def.fields ?? []) fields.add(f.name.value);
      types.set(def.name.value, fields);
    }
  const ownTypes = [n.entity, `${n.entity}Edge`, `${n.entity}Connection`, `Record${n.entity}Input`];
  const taken = ownTypes.filter((t) => types.has(t));
  if (taken.length)
    throw new ScaffoldError(`the graph already has a type ${taken.join(', ')}; name this subgraph's entity with --entity <Type>`);
  const fields: Array<[string, string]> = [
    ['Store', n.camel],
    ['Query', n.entityCamel],
    ['Mutation', `record${n.entity}`],
  ];
  const clash = fields.filter(([type, field]) => types.get(type)?.has(field));
  if (clash.length)
    throw new ScaffoldError(`the graph already has ${clash.map(([t, f]) => `${t}.${f}`).join(', ')}; pick another name or --entity`);
  const result = composeSupergraph([
    ...checkedInSubgraphs(declarations),
    ...others.map((o) => ({ ...o, url: 'http://127.0.0.1:1/graphql' })),
    { name: n.name, url: 'http://127.0.0.1:1/graphql', sdl },
  ]);
  if (!result.ok) throw new ScaffoldError(`the new subgraph would not compose with the graph:\n- ${result.errors.join('\n- ')}`);
}

function importPaths(dir: string): ImportPaths {
  const from = (target: string) => {
    const rel = path.relative(dir, path.join(ROOT, target)).split(path.sep).join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  return { events: from('schema/events'), validate: from('schema/events/validate'), runtime: from('subgraphs/runtime'), platform: from('platform'), testSupport: from('test/support') };
}

/** What to do after scaffolding, with the commands spelled out for this subgraph. */
export function nextSteps(result: ScaffoldResult, cwd = process.cwd()): string {
  const { names: n, port } = result;
  const rel = path.relative(cwd, result.dir) || '.';
  const top = path.relative(ROOT, result.dir).split(path.sep)[0];
  // jest.config.js looks for tests in these folders; test/settings.test.ts scans these for settings.
  const jestFinds = ['test', 'subgraphs', 'gateway', 'schema', 'scripts'].includes(top);
  // The CLIs find declarations under subgraphs/; a folder elsewhere is named to them.
  const dirs = top === 'subgraphs' ? '' : `SUBGRAPH_DIRS=${rel} `;
  const settingsScanned = ['gateway', 'subgraphs', 'infra', 'scripts'].includes(top);
  const jest = jestFinds ? `npx jest ${rel}` : `npx jest --testMatch '<rootDir>/${path.relative(ROOT, result.dir).split(path.sep).join('/')}/**/*.test.ts'`;
  const mutation = `mutation { record${n.entity}(input: { storeId: \\"store-1\\", title: \\"First\\" }) { id version store { name } } }`;
  const query = `{ store(id: \\"store-1\\") { name ${n.camel}(first: 5) { edges { node { title version } } } } }`;
  const steps = [
    'npm start    # in another terminal: Kafka, Redis, topics, the three subgraphs, the simulator, the gateway on :4000',
    `${dirs}npm run topics    # creates the topics the subgraphs declare, ${n.name} and ${n.name}.dlq among them (npm start does it too)`,
    `npx tsx ${rel}/main.ts    # listens on :${port} (${n.portVariable}), folds its topic, announces itself; the running gateway composes it in`,
    [
      `TOKEN=$(npm run -s token -- --sub store-1 --role store)`,
      `curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
      `  -d '{"query":"${mutation}"}'`,
      `curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' \\`,
      `  -d '{"query":"${query}"}'`,
    ].join('\n     '),
    `${jest}    # the fold's unit test and the integration test (real Kafka and Redis)`,
    `${dirs}npm run lag    # its view ${n.name}.${n.entityCamel} with the others; npm run dlq and npm run rebuild know it too`,
    ...(settingsScanned ? [`add a \`${n.portVariable}\` row to README.md's configuration table (test/settings.test.ts checks that every setting read is documented)`] : []),
    'docs/adding-a-subgraph.md: what each file is for, adding events, ownership, promoting the contract into schema/events',
  ];
  return [
    `wrote ${rel}/: ${result.files.map((f) => path.basename(f)).join(' ')}`,
    `  entity ${n.entity} (Query.${n.entityCamel}, Mutation.record${n.entity}), Store.${n.camel}, topic ${n.name} (+ ${n.name}.dlq)`,
    '',
    'next:',
    ...steps.map((step, i) => `  ${i + 1}. ${step}`),
  ].join('\n');
}

if (require.main === module) {
  try {
    const result = scaffoldSubgraph(parseNewSubgraphArgs(process.argv.slice(2)));
    console.log(nextSteps(result));
  } catch (e) {
    if (!(e instanceof ScaffoldError)) throw e;
    console.error(`new-subgraph: ${e.message}${e.showUsage ? `\n${USAGE}` : ''}`);
    process.exit(e.showUsage ? 2 : 1);
  }
}
