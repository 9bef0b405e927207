// `npm run new-subgraph` end to end: scaffolds a subgraph into a temporary folder inside the
// repo, type-checks it, creates its topic with `npm run topics` (which finds its declaration),
// starts it as its own process (its main.ts) next to a registry-mode gateway that is already
// serving, queries its field through that gateway without a restart, sees its view in
// `npm run lag` and its dead-letter topic in `npm run dlq -- list`, and runs the unit and
// integration tests it generated.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { parseNewSubgraphArgs, ScaffoldError, scaffoldSubgraph } from '../scripts/new-subgraph';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { uniqueName, waitFor } from './support/waitFor';
import { testGatewayConfig } from './support/gatewayConfig';

const ROOT = path.join(__dirname, '..');
const NAME = 'tasting-notes';
// Inside the repo: the generated code resolves its packages from the repo's node_modules.
const tmp = path.join(ROOT, '.tmp', uniqueName('scaffold'));
const dir = path.join(tmp, NAME);

// Scaffolded while the file is collected, through the CLI as a team runs it, so that the tests
// it generates can be loaded into this file below (jest collects tests synchronously).
const cli = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/new-subgraph.ts', NAME, '--dir', dir, '--port', '4999'], {
  cwd: ROOT,
  encoding: 'utf8',
});
if (cli.status !== 0) throw new Error(`new-subgraph exited ${cli.status}:\n${cli.stdout}${cli.stderr}`);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  // .tmp/ itself only when no other run still has a folder in it.
  if (fs.readdirSync(path.dirname(tmp)).length === 0) fs.rmdirSync(path.dirname(tmp));
});

describe('npm run new-subgraph', () => {
  it('writes a subgraph whose imports resolve from its folder and prints the next steps', () => {
    expect(fs.readdirSync(dir).sort()).toEqual(
      ['commands.ts', 'context.ts', 'contract.ts', 'declaration.ts', 'index.ts', 'main.ts', 'projection.test.ts', 'projection.ts', 'resolvers.ts', 'schema.graphql', 'schema.ts', `${NAME}.test.ts`].sort(),
    );
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const [, spec] of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(dir, spec);
        expect([file, spec, fs.existsSync(`${target}.ts`) || fs.existsSync(path.join(target, 'index.ts'))]).toEqual([file, spec, true]);
      }
    }
    const declaration = fs.readFileSync(path.join(dir, 'declaration.ts'), 'utf8');
    expect(declaration).toContain("port: 4999,\n  portVariable: 'TASTING_NOTES_PORT',");
    // Its own topic, declared in its own folder: no runtime patching of shared tables.
    expect(fs.readFileSync(path.join(dir, 'contract.ts'), 'utf8')).toContain("export const TASTING_NOTES_TOPIC = defineTopic({");
    expect(cli.stdout).toContain(`Store.tastingNotes, topic ${NAME}`);
    expect(cli.stdout).toMatch(/npx tsx .*tasting-notes\/main\.ts/);
    expect(cli.stdout).toContain('http://127.0.0.1:4000/graphql');
  });

  it('refuses bad names, taken names and folders, and writes nothing', () => {
    const refused = (opts: Parameters<typeof scaffoldSubgraph>[0]) => {
      try {
        scaffoldSubgraph(opts);
      } catch (e) {
        if (e instanceof ScaffoldError) return e.message;
        throw e;
      }
      throw new Error(`scaffolded ${JSON.stringify(opts)}`);
    };
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
    expect(() => parseNewSubgraphArgs(['shelf-notes', '--port', 'x'])).toThrow(/--port "x" is not a port number/);
    expect(() => parseNewSubgraphArgs([])).toThrow(/name is missing/);
    expect(fs.readdirSync(tmp)).toEqual([NAME]);
  });

  it('type-checks the generated files (strict, with the repo settings)', async () => {
    const tsconfig = path.join(tmp, 'tsconfig.json');
    fs.writeFileSync(tsconfig, JSON.stringify({ extends: path.join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true }, include: [dir] }));
    const tsc = spawn(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: ROOT });
    let output = '';
    tsc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => tsc.on('exit', resolve));
    fs.rmSync(tsconfig);
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});

describe('the scaffolded subgraph behind a running gateway', () => {
  const JWT_SECRET = 'scaffold-test-jwt-secret-0123456789abcdef';
  let namespace: string;
  let redis: Redis;
  let catalog: SubgraphHandle;
  let gateway: GatewayHandle;
  let child: ChildProcess | undefined;
  let childOutput = '';

  const call = async (query: string, bearer?: string) => {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  };
  const subgraphsServed = () => {
    const s = gateway.supergraphState();
    return s.phase === 'composed' ? s.subgraphs : [];
  };
  /** An npm script as an operator runs it, in the test's namespace, finding the subgraph through SUBGRAPH_DIRS. */
  const npmRun = async (...args: string[]) =>
    (
      await promisify(execFile)('npm', ['run', '-s', ...args], {
        cwd: ROOT,
        env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace, SUBGRAPH_DIRS: dir, LOG_LEVEL: 'warn' },
      })
    ).stdout;
  const exited = (p: ChildProcess) =>
    p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise<number | null>((r) => p.once('exit', r));

  beforeAll(async () => {
    namespace = await createNamespace('scaffold');
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    // The catalog owns Store, which the new subgraph extends.
    catalog = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 });
    gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'scaffold-gateway' }));
    const store = await call(`mutation { upsertStore(input: { id: "store-1", name: "Corner" }) { id } }`, signDevToken({ sub: 'admin-1', roles: ['admin'], secret: JWT_SECRET }));
    expect(store.errors).toBeUndefined();
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
    await gateway?.close();
    await catalog?.close();
    redis?.disconnect();
  });

  it('joins the graph when its main.ts starts, and its field is served through the same gateway', async () => {
    expect(subgraphsServed()).toEqual(['catalog']);
    // The one topic creator learns the new topic from the subgraph's declaration.
    const topics = await npmRun('topics');
    expect(topics).toContain(`created  ${namespace}${NAME} (6 partitions, delete)`);
    expect(topics).toContain(`created  ${namespace}${NAME}.dlq (1 partitions, delete)`);
    expect(topics).toContain(`exists   ${namespace}orders (6 partitions, delete)`);
    child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'main.ts')], {
      cwd: ROOT,
      env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace, TASTING_NOTES_PORT: '0', GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (d: Buffer) => (childOutput += d.toString()));
    await waitFor(
      () => {
        if (child!.exitCode !== null) throw new Error(`main.ts exited ${child!.exitCode}: ${childOutput}`);
        return subgraphsServed().includes(NAME);
      },
      { what: `the gateway to compose ${NAME} in` },
    );
    // It announces itself before it prints its address, so the line may come a moment later.
    await waitFor(() => /tasting-notes subgraph ready at http:\/\/127\.0\.0\.1:\d+\/graphql/.test(childOutput), { what: 'the ready line', timeoutMs: 10_000 });

    const storeToken = signDevToken({ sub: 'store-1', roles: ['store'], secret: JWT_SECRET });
    const recorded = await call(
      `mutation { recordTastingNote(input: { storeId: "store-1", title: "Bright and nutty" }) { id title version store { id name } } }`,
      storeToken,
    );
    expect(recorded.errors).toBeUndefined();
    // store.name comes from the catalog: one mutation answered by two subgraphs.
    expect(recorded.data.recordTastingNote).toMatchObject({ title: 'Bright and nutty', version: 1, store: { id: 'store-1', name: 'Corner' } });

    const read = await call(`{ store(id: "store-1") { name tastingNotes(first: 5) { edges { node { id title } } pageInfo { hasNextPage } } } }`);
    expect(read.errors).toBeUndefined();
    expect(read.data.store).toEqual({
      name: 'Corner',
      tastingNotes: { edges: [{ node: { id: recorded.data.recordTastingNote.id, title: 'Bright and nutty' } }], pageInfo: { hasNextPage: false } },
    });
    const denied = await call(`mutation { recordTastingNote(input: { storeId: "store-1", title: "x" }) { id } }`, signDevToken({ sub: 'store-2', roles: ['store'], secret: JWT_SECRET }));
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // A contract violation on client input names the GraphQL field.
    const tooLong = await call(`mutation { recordTastingNote(input: { storeId: "store-1", title: "${'x'.repeat(201)}" }) { id } }`, storeToken);
    expect(tooLong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.title' });

    // The operations CLIs know its view and its dead-letter topic from the same declaration.
    const lag = await npmRun('lag');
    expect(lag).toContain(`${namespace}${NAME}.tastingNote (topic ${namespace}${NAME}, generation g0, 1 consumer): lag 0, last event `);
    expect(lag).toContain(`${namespace}orders.orders (topic ${namespace}orders`);
    const dlq = await npmRun('dlq', '--', 'list');
    expect(dlq).toContain(`${namespace}${NAME}.dlq: empty`);
    expect(dlq).toContain(`${namespace}orders.dlq: empty`);
  });

  it('leaves the graph when it stops (it deregisters), and the rest keeps serving', async () => {
    child!.kill('SIGTERM');
    expect(await exited(child!)).toBe(0);
    await waitFor(() => !subgraphsServed().includes(NAME), { what: `${NAME} to leave the graph` });
    const res = await call(`{ store(id: "store-1") { name } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ store: { name: 'Corner' } });
  });
});

// The tests the scaffold generated, run as part of this file (they are outside jest's testMatch).
describe('the generated fold test', () => {
  require(path.join(dir, 'projection.test.ts'));
});

describe('the generated integration test', () => {
  require(path.join(dir, `${NAME}.test.ts`));
});
