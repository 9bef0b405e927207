// `npm run new-subgraph -- <name> [--extends <Type>] [--dir <folder>] [--port <n>] [--entity <Type>] [--readme <file>]`:
// writes a working domain subgraph (SDL with its own entity and nullable fields on an entity
// of another team's, its own topic keyed by that entity, a pure fold of a per-entity
// aggregate and its test, a copy of which of those entities exist, a mutation that refuses
// unknown ones and reads its own write, a subscription fed by change notices, resolvers over
// DataLoaders, main.ts, an integration test) after checking that it composes with the graph,
// documents its port setting in the README, then prints what to do next.
// docs/adding-a-subgraph.md walks through the result.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kind, parse, type DocumentNode } from 'graphql';
import { composeSupergraph } from '../platform/composeSupergraph';
import { ConfigError } from '../platform/configError';
import { dlqTopicName } from '../schema/events';
import { hasSubgraphSdl, SUPERGRAPH_PATH } from '../schema/subgraphs';
import type { SubgraphDeclaration } from '../subgraphs/runtime/declaration';
import { checkedInSubgraphs } from './compose';
import { declarationFolders, declaredTopics, SUBGRAPHS_DIR, subgraphDeclarations } from './declarations';
import { findCarrier, type Carrier } from './scaffold/carrier';
import { extendableEntity, type SubgraphSdl } from './scaffold/graph';
import { addedNames, entityProblem, extendedNames, nameProblem, subgraphNames, type ExtendedNames, type SubgraphNames } from './scaffold/names';
import { portRow, withPortRow } from './scaffold/readme';
import { subgraphFiles, type ImportPaths } from './scaffold/templates';

const ROOT = path.resolve(__dirname, '..');
/** The gateway's port; subgraphs declare theirs. */
const GATEWAY_PORT = 4000;
/** After the gateway's and the three subgraphs' (API.md), a new subgraph's default comes. */
const FIRST_FREE_PORT = 4004;
/** What a subgraph extends when no --extends is given (the scaffold's first use: notes about stores). */
export const DEFAULT_EXTENDS = 'Store';
/** Folders whose settings test/settings.test.ts requires in the README's configuration table. */
const SETTINGS_SCANNED = ['gateway', 'platform', 'subgraphs', 'infra', 'scripts'];

export const USAGE = `usage: npm run new-subgraph -- <name> [--extends <Type>] [--dir <folder>] [--port <n>] [--entity <Type>] [--readme <file>]
  <name>      lowercase letters, digits and dashes (e.g. ratings): the registry name and the topic
  --extends   the entity of another subgraph it adds fields to (default ${DEFAULT_EXTENDS}); any type with a
              @key of one ID or String field in the graph, e.g. Product. Its topic is keyed by that key
  --dir       where to write it (default subgraphs/<name>); any new or empty folder inside the repo
  --port      the default port it listens on (default: the first from 4004 no declared subgraph uses)
  --entity    the subgraph's own entity type (default: the name made singular, e.g. Rating)
  --readme    the README whose configuration table gets the port setting's row (default README.md,
              when the folder is one test/settings.test.ts scans)
  --help      this text`;

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
  /** @default Store */
  readonly extends?: string;
  /** @default subgraphs/<name> (relative paths resolve from the working directory) */
  readonly dir?: string;
  /** @default the first port from 4004 that no subgraph declares */
  readonly port?: number;
  /** @default the name made singular, in PascalCase */
  readonly entity?: string;
  /** @default README.md when the folder is one whose settings the README must document, else none */
  readonly readme?: string;
}

export interface ScaffoldResult {
  readonly names: SubgraphNames;
  readonly extended: ExtendedNames;
  /** The topic its existence check folds; null when no declared topic carries the extended type. */
  readonly carrier: Carrier | null;
  readonly dir: string;
  readonly port: number;
  /** The files written, absolute. */
  readonly files: string[];
  /** The README whose configuration table now documents the port setting, or null. */
  readonly readme: string | null;
  /** Things the team should know (no existence check, README not updated). */
  readonly notes: string[];
  /** Whether the graph has `Query.<extended camel>` to show in the next steps. */
  readonly queryable: boolean;
}

/** Parses the command line (without `node` and the script); `{ help: true }` for --help. */
export function parseNewSubgraphArgs(argv: readonly string[]): ScaffoldOptions | { readonly help: true } {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        extends: { type: 'string' },
        dir: { type: 'string' },
        port: { type: 'string' },
        entity: { type: 'string' },
        readme: { type: 'string' },
      },
    });
  } catch (e) {
    // node's messages add advice about positionals that start with '-'; the first sentence says it.
    const message = (e as Error).message.split(/\.\s/)[0].replace(/^Unknown option '([^']+)'$/, 'unknown option $1');
    throw new ScaffoldError(message, true);
  }
  const [name, ...extra] = parsed.positionals;
  if (!name) throw new ScaffoldError('the subgraph name is missing', true);
  if (extra.length) throw new ScaffoldError(`one name only; also got ${extra.join(' ')}`, true);
  const { dir, port, entity, readme } = parsed.values;
  if (port !== undefined && !/^\d+$/.test(port)) throw new ScaffoldError(`--port "${port}" is not a port number`, true);
  return { name, extends: parsed.values.extends, dir, port: port === undefined ? undefined : Number(port), entity, readme };
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

  const others = scaffoldedSdls();
  const sdls: SubgraphSdl[] = [...checkedInSubgraphs(declarations), ...others];
  const entity = extendableEntity(opts.extends ?? DEFAULT_EXTENDS, sdls);
  if (typeof entity === 'string') throw new ScaffoldError(entity);
  const x = extendedNames(entity.type, entity.keyField, entity.keyType);
  const notes: string[] = [];
  const found = findCarrier(x, entity.resolvedBy, declarations);
  const carrier = typeof found === 'string' ? null : found;
  if (typeof found === 'string')
    notes.push(`${found}: generated WITHOUT the existence check, so ${names.entityWords}s of any ${x.idField} are accepted (docs/adding-a-subgraph.md, "No topic carries the type")`);
  else if (!found.sample && !found.debeziumRow)
    notes.push(`could not build a ${found.creates[0]} from its contract for the generated tests: write publish${x.type}() in ${names.name}.test.ts (the tests that need one are it.todo until then)`);

  const readmeTarget = opts.readme !== undefined ? path.resolve(opts.readme) : documentsSettingsOf(dir) ? path.join(ROOT, 'README.md') : null;
  const readmeText = readmeTarget === null ? null : readReadme(readmeTarget);

  const files = subgraphFiles({ n: names, x, owners: entity.resolvedBy, carrier, port, imports: importPaths(dir) });
  const queryable = checkComposes(names, x, files['schema.graphql'], declarations, others);

  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const target = path.join(dir, file);
    // 'wx': never overwrite, even if the folder filled up since the check.
    fs.writeFileSync(target, text, { flag: 'wx' });
    written.push(target);
  }
  let readme: string | null = null;
  if (readmeTarget !== null && readmeText !== null) {
    const declarationPath = path.relative(ROOT, path.join(dir, 'declaration.ts')).split(path.sep).join('/');
    const updated = withPortRow(readmeText, names.portVariable, portRow(names, port, declarationPath));
    if (updated === null) notes.push(`${readmeTarget} has no configuration table: add a \`${names.portVariable}\` row to the README's yourself`);
    else {
      // Read again just before writing: others may edit the README while the scaffold runs.
      const now = readReadme(readmeTarget) ?? readmeText;
      fs.writeFileSync(readmeTarget, withPortRow(now, names.portVariable, portRow(names, port, declarationPath)) ?? updated);
      readme = readmeTarget;
    }
  }
  return { names, extended: x, carrier, dir, port, files: written, readme, notes, queryable };
}

function readReadme(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScaffoldError(`--readme ${file} cannot be read: ${(e as Error).message}`);
  }
}

/** Whether test/settings.test.ts reads this folder's settings, so the README must document them. */
function documentsSettingsOf(dir: string): boolean {
  return SETTINGS_SCANNED.includes(path.relative(ROOT, dir).split(path.sep)[0]);
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

/**
 * SDL of subgraphs scaffolded earlier that are not in schema/ yet: the schema.graphql of every
 * declared subgraph's folder (subgraphs/<name>, and those SUBGRAPH_DIRS names).
 */
function scaffoldedSdls(): SubgraphSdl[] {
  return declarationFolders()
    .filter((dir) => !hasSubgraphSdl(path.basename(dir)) && fs.existsSync(path.join(dir, 'schema.graphql')))
    .map((dir) => ({ name: path.basename(dir), sdl: fs.readFileSync(path.join(dir, 'schema.graphql'), 'utf8') }));
}

/**
 * The new SDL must add its own types and fields, not take over others' (a same-named type
 * would silently merge into theirs), and the whole graph must still compose. Returns whether
 * the graph has `Query.<extended>` (for the next steps' example).
 */
function checkComposes(n: SubgraphNames, x: ExtendedNames, sdl: string, declarations: readonly SubgraphDeclaration[], others: readonly SubgraphSdl[]): boolean {
  const graphs: DocumentNode[] = [parse(fs.readFileSync(SUPERGRAPH_PATH, 'utf8')), ...others.map((o) => parse(o.sdl))];
  const types = new Map<string, Set<string>>();
  for (const doc of graphs)
    for (const def of doc.definitions) {
      if (!('name' in def) || !def.name || def.kind === Kind.DIRECTIVE_DEFINITION) continue;
      const fields = types.get(def.name.value) ?? new Set<string>();
      if ('fields' in def) for (const f of def.fields ?? []) fields.add(f.name.value);
      types.set(def.name.value, fields);
    }
  const a = addedNames(n);
  const taken = a.types.filter((t) => types.has(t));
  if (taken.length)
    throw new ScaffoldError(`the graph already has a type ${taken.join(', ')}; name this subgraph's entity with --entity <Type>`);
  const fields: Array<[string, string]> = [
    [x.type, a.average],
    [x.type, a.count],
    [x.type, a.list],
    ['Query', n.entityCamel],
    ['Mutation', a.record],
    ['Subscription', a.changed],
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
  return types.get('Query')?.has(x.camel) ?? false;
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
  const { names: n, extended: x, port } = result;
  const a = addedNames(n);
  const rel = path.relative(cwd, result.dir) || '.';
  const top = path.relative(ROOT, result.dir).split(path.sep)[0];
  // jest.config.js looks for tests in these folders.
  const jestFinds = ['test', 'subgraphs', 'gateway', 'schema', 'scripts'].includes(top);
  // The CLIs find declarations under subgraphs/; a folder elsewhere is named to them.
  const dirs = top === 'subgraphs' ? '' : `SUBGRAPH_DIRS=${rel} `;
  const jest = jestFinds ? `npx jest ${rel}` : `npx jest --testMatch '<rootDir>/${path.relative(ROOT, result.dir).split(path.sep).join('/')}/**/*.test.ts'`;
  const example = `${x.camel}-1`;
  const mutation = `mutation { ${a.record}(input: { ${x.idField}: \\"${example}\\", score: 4, title: \\"First\\" }) { id version ${x.camel} { ${x.keyField} ${a.count} ${a.average} } } }`;
  const query = result.queryable
    ? `{ ${x.camel}(${x.keyField}: \\"${example}\\") { ${a.count} ${a.average} ${a.list}(first: 5) { edges { node { title score } } } } }`
    : null;
  const steps = [
    "npm start    # in another terminal: Kafka, Redis, topics, the product's subgraphs, the simulator, the gateway on :4000",
    `${dirs}npm run topics    # creates the topics the subgraphs declare, ${n.name} and ${n.name}.dlq among them (npm start does it too)`,
    `npx tsx ${rel}/main.ts    # listens on :${port} (${n.portVariable}), folds its topics, publishes its schema; the running gateway composes it in`,
    'npm run subgraph -- list    # its published schema and its running instance',
    [
      `TOKEN=$(npm run -s token -- --sub customer-1 --role customer)`,
      `curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
      `  -d '{"query":"${mutation}"}'`,
      ...(query ? [`curl -s http://127.0.0.1:4000/graphql -H 'content-type: application/json' \\`, `  -d '{"query":"${query}"}'`] : []),
      `# live: subscription { ${a.changed}(${x.idField}: "${example}") { ${x.keyField} ${a.count} ${a.average} } } over graphql-ws at ws://127.0.0.1:4000/graphql`,
    ].join('\n     '),
    `${jest}    # the fold's unit test and the integration test (real Kafka and Redis)`,
    `${dirs}npm run lag    # its views ${n.name}.${n.camel}${result.carrier ? ` and ${n.name}.${x.knownView}` : ''} with the others; npm run dlq and npm run rebuild know them too`,
    'docs/adding-a-subgraph.md: what each file is for, keying, subscriptions, restarts and removal, promoting the contract',
  ];
  return [
    `wrote ${rel}/: ${result.files.map((f) => path.basename(f)).join(' ')}`,
    `  entity ${n.entity} (Query.${n.entityCamel}, Mutation.${a.record}), ${x.type}.${a.average} ${x.type}.${a.count} ${x.type}.${a.list}, Subscription.${a.changed}, topic ${n.name} keyed by ${x.idField} (+ ${n.name}.dlq)`,
    result.carrier
      ? `  ${a.record} refuses ${x.a} that does not exist (NOT_FOUND) from its view of ${result.carrier.contract.name} (${[...result.carrier.creates, ...result.carrier.deletes].join(', ')})`
      : `  no existence check: no declared topic carries ${x.type}`,
    ...(result.readme ? [`  documented ${n.portVariable} in ${path.relative(cwd, result.readme) || result.readme}'s configuration table`] : []),
    ...result.notes.map((note) => `  note: ${note}`),
    '',
    'next:',
    ...steps.map((step, i) => `  ${i + 1}. ${step}`),
  ].join('\n');
}

if (require.main === module) {
  try {
    const args = parseNewSubgraphArgs(process.argv.slice(2));
    if ('help' in args) {
      console.log(USAGE);
    } else {
      console.log(nextSteps(scaffoldSubgraph(args)));
    }
  } catch (e) {
    // A broken declaration or SUBGRAPH_DIRS entry is one line too, not a stack trace.
    if (e instanceof ConfigError) {
      console.error(`new-subgraph: ${e.message}`);
      process.exit(1);
    }
    if (!(e instanceof ScaffoldError)) throw e;
    console.error(`new-subgraph: ${e.message}${e.showUsage ? `\n${USAGE}` : ''}`);
    process.exit(e.showUsage ? 2 : 1);
  }
}
