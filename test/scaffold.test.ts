// `npm run new-subgraph` as a command: scaffolds `ratings --extends Product` into a temporary
// folder inside the repo (its port row into a copy of the README), checks what it wrote and
// printed, that the README row satisfies the settings table's rules, the refusals, --help,
// the default (extends Store), type-checks the generated files, and runs the unit and
// integration tests it generated. test/guide.test.ts follows docs/adding-a-subgraph.md with a
// scaffolded subgraph behind a running gateway.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseNewSubgraphArgs, ScaffoldError, scaffoldSubgraph } from '../scripts/new-subgraph';
import { withPortRow } from '../scripts/scaffold/readme';
import { uniqueName } from './support/waitFor';

const ROOT = path.join(__dirname, '..');
const NAME = 'ratings';
// Inside the repo: the generated code resolves its packages from the repo's node_modules.
const tmp = path.join(ROOT, '.tmp', uniqueName('scaffold'));
const dir = path.join(tmp, NAME);
// The scaffold writes the port row into this copy, never into the repository's README.
const readmeCopy = path.join(tmp, 'README.md');
fs.mkdirSync(tmp, { recursive: true });
fs.copyFileSync(path.join(ROOT, 'README.md'), readmeCopy);

const newSubgraph = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/new-subgraph.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });

// Scaffolded while the file is collected, through the CLI as a team runs it, so that the tests
// it generates can be loaded into this file below (jest collects tests synchronously).
const cli = newSubgraph([NAME, '--extends', 'Product', '--dir', dir, '--port', '4999', '--readme', readmeCopy]);
if (cli.status !== 0) throw new Error(`new-subgraph exited ${cli.status}:\n${cli.stdout}${cli.stderr}`);
// A second subgraph, extending the first one's entity (which no shared topic carries).
const notesDir = path.join(tmp, 'rating-notes');
const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  // .tmp/ itself only when no other run still has a folder in it.
  if (fs.readdirSync(path.dirname(tmp)).length === 0) fs.rmdirSync(path.dirname(tmp));
});

/** The README's configuration rows' first-cell settings, read the way test/settings.test.ts reads them. */
function documentedSettings(readme: string): string[] {
  const start = readme.indexOf('## Configuration');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...l.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
}

describe('npm run new-subgraph -- ratings --extends Product', () => {
  it('writes a subgraph whose imports resolve from its folder and prints the next steps', () => {
    expect(fs.readdirSync(dir).sort()).toEqual(
      ['commands.ts', 'context.ts', 'contract.ts', 'declaration.ts', 'index.ts', 'main.ts', 'projection.test.ts', 'projection.ts', 'resolvers.ts', 'schema.graphql', 'schema.ts', `${NAME}.test.ts`].sort(),
    );
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      for (const [, spec] of read(file).matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(dir, spec);
        expect([file, spec, fs.existsSync(`${target}.ts`) || fs.existsSync(path.join(target, 'index.ts'))]).toEqual([file, spec, true]);
      }
    }
    // Imports flow one way (scripts/check-imports.mjs): its own folder, subgraphs/runtime, platform, schema; tests may use test/support.
    const allowed = ['subgraphs/runtime', 'platform', 'schema'].map((d) => path.join(ROOT, d));
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')))
      for (const [, spec] of read(file).matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(dir, spec);
        expect([file, spec, target.startsWith(dir) || allowed.some((a) => target === a || target.startsWith(`${a}${path.sep}`))]).toEqual([file, spec, true]);
      }
    expect(read('declaration.ts')).toContain("port: 4999,\n  portVariable: 'RATINGS_PORT',");
    expect(read('declaration.ts')).toContain('views: { ratings: ratingsProjection, knownProducts: knownProductsProjection }');
    expect(cli.stdout).toContain('Product.averageRating Product.ratingCount Product.ratings, Subscription.ratingsChanged, topic ratings keyed by productId');
    expect(cli.stdout).toMatch(/recordRating refuses a product that does not exist \(NOT_FOUND\) from its view of catalog\.products/);
    expect(cli.stdout).toMatch(/npx tsx .*ratings\/main\.ts/);
    expect(cli.stdout).toContain('http://127.0.0.1:4000/graphql');
  });

  it('extends Product by its key with nullable fields, and a subscription of its own', () => {
    const sdl = read('schema.graphql');
    expect(sdl).toContain('type Product @key(fields: "id") {\n  id: ID!\n');
    // Nullable: an outage of this subgraph must not turn the whole product into null.
    for (const field of ['averageRating: Float\n', 'ratingCount: Int\n', 'ratings(first: Int = 20, after: String): RatingConnection\n', 'product: Product\n'])
      expect(sdl).toContain(`  ${field}`);
    expect(sdl).toContain('ratingsChanged(productId: ID!): Product!');
    expect(sdl).toContain('recordRating(input: RecordRatingInput!): Rating!');
  });

  it('keys its topic by the product and checks products against the topic that carries them, found from the contracts', () => {
    const contract = read('contract.ts');
    expect(contract).toContain("export const RATINGS_TOPIC = defineTopic({");
    expect(contract).toContain("keyedBy: 'productId',");
    const projection = read('projection.ts');
    expect(projection).toContain("recordKeyOf: (id) => (id.startsWith(SUMMARY) ? decodeURIComponent(id.slice(SUMMARY.length)) : null),");
    expect(projection).toContain('combine: (parts) =>');
    // Which topic carries Product is the catalog's current contract (the one its products view folds), not a name written here.
    const { declaration } = require('../subgraphs/catalog/declaration') as typeof import('../subgraphs/catalog/declaration');
    const carrier = declaration.views.products.topic.name;
    expect(projection).toMatch(new RegExp(`export const knownProductsProjection: Projection<typeof [A-Z_]+, KnownProduct> = \\{\\n  name: 'ratings\\.knownProducts'`));
    const generated = require(path.join(dir, 'declaration.ts')) as { declaration: { views: Record<string, { topic: { name: string } }> } };
    expect(generated.declaration.views.knownProducts.topic.name).toBe(carrier);
    expect(read('commands.ts')).toContain("if (!known) throw notFound('product', input.productId);");
    // Its tests make a product known the way the catalog's topic carries one: a Debezium change
    // for a CDC topic (read through the contract's fromRecord), an event otherwise.
    const cdc = typeof (declaration.views.products.topic as { fromRecord?: unknown }).fromRecord === 'function';
    expect(read(`${NAME}.test.ts`)).toContain(cdc ? 'messages: [debeziumRecord({ key: { id: id }, op: \'c\'' : 'subgraph.runtime.producer.publish(subgraph.runtime.topic(');
    expect(read(`${NAME}.test.ts`)).not.toContain('it.todo');
  });

  it("documents RATINGS_PORT in the README's configuration table (the copy it was given), once, beside the other ports", () => {
    const copy = fs.readFileSync(readmeCopy, 'utf8');
    expect(documentedSettings(copy)).toContain('RATINGS_PORT');
    const lines = copy.split('\n');
    const row = lines.findIndex((l) => l.startsWith('| `RATINGS_PORT` | `4999` |'));
    expect(lines[row - 1]).toMatch(/^\| `[A-Z_]*_PORT`/);
    // Writing it again changes nothing; the repository's own README was not touched.
    expect(withPortRow(copy, 'RATINGS_PORT', lines[row])).toBe(copy);
    expect(documentedSettings(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'))).not.toContain('RATINGS_PORT');
    expect(cli.stdout).toContain("documented RATINGS_PORT in");
  });

  it('prints its usage for --help and exits 0; a bad flag prints what is wrong and the usage, exit 2', () => {
    const help = newSubgraph(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run new-subgraph -- <name> \[--extends <Type>\]/);
    expect(help.stdout).toContain('--readme');
    const bad = newSubgraph(['shelf-notes', '--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^new-subgraph: unknown option --bogus\nusage: npm run new-subgraph/);
    const missing = newSubgraph(['shelf-notes', '--extends']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--extends <value>' argument missing/);
    expect(parseNewSubgraphArgs(['x', '--help'])).toEqual({ help: true });
  });

  it('refuses bad names, taken names and folders, and entities it cannot extend, and writes nothing', () => {
    const refused = (opts: Parameters<typeof scaffoldSubgraph>[0]) => {
      try {
        scaffoldSubgraph({ readme: readmeCopy, ...opts });
      } catch (e) {
        if (e instanceof ScaffoldError) return e.message;
        throw e;
      }
      throw new Error(`scaffolded ${JSON.stringify(opts)}`);
    };
    const before = fs.readFileSync(readmeCopy, 'utf8');
    expect(refused({ name: 'Tasting_Notes' })).toMatch(/not a subgraph name: use lowercase letters, digits and single dashes/);
    expect(refused({ name: 'orders' })).toMatch(/a subgraph named orders already exists/);
    expect(refused({ name: 'runtime' })).toMatch(/a subgraph named runtime already exists/);
    // The default entity of "products" is Product, which the catalog owns.
    expect(refused({ name: 'products', dir: path.join(tmp, 'products') })).toMatch(/already has a type Product.*--entity/);
    expect(refused({ name: 'shelf-notes', dir: path.join(tmp, 'shelf'), entity: 'Order' })).toMatch(/already has a type Order/);
    expect(refused({ name: 'shelf-notes', dir: dir })).toMatch(/already exists and is not an empty folder/);
    expect(refused({ name: 'shelf-notes', dir: path.join(os.tmpdir(), 'shelf-notes') })).toMatch(/not inside the repository/);
    expect(refused({ name: 'shelf-notes', dir: path.join(ROOT, 'subgraphs/orders/shelf-notes') })).toMatch(/subgraphs\/<name>/);
    expect(refused({ name: 'shelf-notes', dir: path.join(tmp, 'shelf'), port: 4003 })).toMatch(/port 4003 is already the default/);
    expect(refused({ name: 'shelf-notes', dir: path.join(tmp, 'shelf'), extends: 'Nope' })).toMatch(/the graph has no type Nope; entities \(types with a @key\): .*\bCustomer\b.*\bProduct\b.*\bStore\b/);
    expect(refused({ name: 'shelf-notes', dir: path.join(tmp, 'shelf'), extends: 'Query' })).toMatch(/Query has no @key/);
    expect(refused({ name: 'shelf-notes', dir: path.join(tmp, 'shelf'), extends: 'InventoryLevel' })).toMatch(/no subgraph resolves InventoryLevel by its key/);
    // A field the extended type already has (the catalog's Product.availability) is not taken over.
    expect(refused({ name: 'availability', dir: path.join(tmp, 'shelf'), extends: 'Product', entity: 'AvailabilityNote' })).toMatch(/the graph already has Product\.availability;/);
    expect(() => parseNewSubgraphArgs(['shelf-notes', '--port', 'x'])).toThrow(/--port "x" is not a port number/);
    expect(() => parseNewSubgraphArgs([])).toThrow(/name is missing/);
    expect(fs.readdirSync(tmp).sort()).toEqual(['README.md', NAME].sort());
    expect(fs.readFileSync(readmeCopy, 'utf8')).toBe(before);
  });

  it('extends Store when no --extends is given', () => {
    const notes = path.join(tmp, 'default', 'tasting-notes');
    const out = newSubgraph(['tasting-notes', '--dir', notes, '--port', '4998', '--readme', readmeCopy]);
    expect(out.status).toBe(0);
    const sdl = fs.readFileSync(path.join(notes, 'schema.graphql'), 'utf8');
    expect(sdl).toContain('type Store @key(fields: "id") {\n  id: ID!\n  "The mean score of its tasting notes; null when it has none."\n  averageTastingNote: Float\n');
    expect(sdl).toContain('tastingNotesChanged(storeId: ID!): Store!');
    expect(fs.readFileSync(path.join(notes, 'contract.ts'), 'utf8')).toContain("keyedBy: 'storeId',");
    expect(out.stdout).toMatch(/recordTastingNote refuses a store that does not exist \(NOT_FOUND\) from its view of catalog\.inventory \(StoreUpserted\)/);
    fs.rmSync(path.join(tmp, 'default'), { recursive: true, force: true });
  });

  it('generates without the existence check, saying so, when no topic it can read carries the type', () => {
    // Rating (the subgraph just scaffolded, named to the tools by SUBGRAPH_DIRS) is carried by
    // its own topic, whose contract is in its folder, not schema/events: nothing to import.
    const out = newSubgraph(['rating-notes', '--extends', 'Rating', '--dir', notesDir, '--port', '4997', '--readme', readmeCopy], { SUBGRAPH_DIRS: dir });
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('no existence check: no declared topic carries Rating');
    expect(out.stdout).toMatch(/note: ratings carries Rating, but its contract is not exported from schema\/events .*generated WITHOUT the existence check/);
    expect(fs.readFileSync(path.join(notesDir, 'declaration.ts'), 'utf8')).toContain('views: { ratingNotes: ratingNotesProjection }');
    expect(fs.readFileSync(path.join(notesDir, 'commands.ts'), 'utf8')).toContain('No declared topic carries Rating');
    expect(fs.readFileSync(path.join(notesDir, 'contract.ts'), 'utf8')).toContain("keyedBy: 'ratingId',");
  });

  it('type-checks the generated files (strict, with the repo settings)', async () => {
    const tsconfig = path.join(tmp, 'tsconfig.json');
    fs.writeFileSync(tsconfig, JSON.stringify({ extends: path.join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true }, include: [dir, notesDir] }));
    const tsc = spawn(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: ROOT });
    let output = '';
    tsc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => tsc.on('exit', resolve));
    fs.rmSync(tsconfig);
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});

// The tests the scaffold generated, run as part of this file (they are outside jest's testMatch).
describe('the generated fold test', () => {
  require(path.join(dir, 'projection.test.ts'));
});

describe('the generated integration test', () => {
  require(path.join(dir, `${NAME}.test.ts`));
});
