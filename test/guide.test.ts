// docs/adding-a-subgraph.md, followed to the end: scaffold a ratings subgraph that extends the
// catalog's Product, create its topics with `npm run topics`, start it from its main.ts next to
// a registry-mode gateway that is already serving, then through that gateway: the new fields on
// a product, a rating with read-your-writes, a rating of a product that does not exist
// (NOT_FOUND, nothing written), its own subscription seeing an update; the operations CLIs
// (`lag`, `dlq list`, `rebuild`) knowing its topic and views from its declaration; then section
// 10: a rolling restart (SIGTERM) and a crash (SIGKILL) while a client keeps querying
// `product { name ratingCount }` (the catalog's name and SUBGRAPH_UNAVAILABLE with a path for
// ratingCount, never a validation failure; full data once it is back), `npm run subgraph --
// list`, a `remove` refused because of that client's operation, `remove --force`, and the
// clean-up the guide asks for (instance stopped, README row and folder gone, topics kept).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { readRecentOperations } from '../platform/operationLog';
import { readSchemaRecords } from '../platform/registry';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { removeRunCatalogSources } from './support/catalogDatabase';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { testGatewayConfig } from './support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { uniqueName, waitFor } from './support/waitFor';

const ROOT = path.join(__dirname, '..');
const NAME = 'ratings';
const tmp = path.join(ROOT, '.tmp', uniqueName('guide'));
const dir = path.join(tmp, NAME);
const JWT_SECRET = 'guide-test-jwt-secret-0123456789abcdef';
const admin = signDevToken({ sub: 'admin-1', roles: ['admin'], secret: JWT_SECRET });
const customer = signDevToken({ sub: 'customer-1', roles: ['customer'], secret: JWT_SECRET });

interface Answer {
  data?: any;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}

let namespace: string;
let redis: Redis;
let catalog: SubgraphHandle;
let gateway: GatewayHandle;
let ratings: ChildProcess | undefined;
let productId: string;
/** The README the scaffold started from (the copy's content before the scaffold added its row). */
let readmeBefore: string;
const clients: Client[] = [];

const call = async (query: string, variables: Record<string, unknown> = {}, bearer?: string): Promise<Answer> => {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Answer;
};
const served = () => {
  const s = gateway.supergraphState();
  return s.phase === 'composed' ? s.subgraphs : [];
};
/** An npm script as an operator runs it, in the test's namespace, finding the subgraph through SUBGRAPH_DIRS. */
const npmRun = async (...args: string[]) => {
  const r = await npmRunExit(...args);
  if (r.code !== 0) throw new Error(`npm run ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
};
/** The same, for a command expected to fail: its exit code and both outputs. */
const npmRunExit = (...args: string[]) =>
  promisify(execFile)('npm', ['run', '-s', ...args], {
    cwd: ROOT,
    env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace, SUBGRAPH_DIRS: dir, LOG_LEVEL: 'warn' },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise<number | null>((r) => p.once('exit', r));

/** `npx tsx <dir>/main.ts`, as the guide starts it (RATINGS_PORT=0: any free port); resolves at its ready line (registered, and published on a first start). */
async function startRatings(): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'main.ts')], {
    cwd: ROOT,
    // KAFKA_SESSION_TIMEOUT_MS at the broker's minimum: the restart after the crash waits for the
    // dead instance's session to expire (30 s by default), which is the guide's point, not this test's.
    env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace, RATINGS_PORT: '0', GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET, LOG_LEVEL: 'warn', KAFKA_SESSION_TIMEOUT_MS: '6000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ratings = proc;
  let output = '';
  for (const stream of [proc.stdout!, proc.stderr!]) stream.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`main.ts exited ${proc.exitCode}: ${output}`);
      return /ratings subgraph ready at http:\/\/127\.0\.0\.1:\d+\/graphql/.test(output);
    },
    // After a crash its views get their partitions only once the broker has expired the dead
    // instance's group session (KAFKA_SESSION_TIMEOUT_MS: 6 s here, 30 s by default), and it serves after that.
    { what: 'the ready line', timeoutMs: 90_000 },
  );
}

/** Stops the running instance with `signal`; resolves with how it ended. */
async function stopRatings(signal: 'SIGTERM' | 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const proc = ratings!;
  const done = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
  proc.kill(signal);
  await done;
  return { code: proc.exitCode, signal: proc.signalCode };
}

/** Its schema is in the graph and the gateway has a live instance to route to. */
const liveRatings = () => {
  const s = gateway.supergraphState();
  return s.phase === 'composed' && s.subgraphs.includes(NAME) && !s.unavailable.includes(NAME);
};

/** What a client of the product page sends throughout section 10: the catalog's name and a ratings field. */
const PRODUCT_CARD = `query ProductCard($id: ID!) { product(id: $id) { name ratingCount } }`;
/** Full data: both subgraphs answered (two ratings were recorded in steps 4 and 5). */
const isFull = (r: Answer) => r.errors === undefined && r.data?.product?.name === 'Oat milk' && r.data.product.ratingCount === 2;
/** The guide's partial answer while no ratings instance runs: the catalog's name, and ratingCount null with an error at its path. */
const isPartial = (r: Answer) =>
  r.data?.product?.name === 'Oat milk' &&
  r.data.product.ratingCount === null &&
  r.errors?.length === 1 &&
  r.errors[0].extensions?.code === 'SUBGRAPH_UNAVAILABLE' &&
  r.errors[0].extensions?.serviceName === NAME &&
  JSON.stringify(r.errors[0].path) === JSON.stringify(['product', 'ratingCount']);
/** The end offsets of a topic's partitions, joined: equal before and after means nothing was written. */
async function topicEnds(topic: string): Promise<string> {
  const kafkaAdmin = createKafka(kafkaConfigFromEnv()).admin();
  await kafkaAdmin.connect();
  try {
    return (await kafkaAdmin.fetchTopicOffsets(topic)).map((p) => `${p.partition}:${p.high}`).join(',');
  } finally {
    await kafkaAdmin.disconnect();
  }
}

beforeAll(async () => {
  // 1. Scaffold (the README row goes into a copy: the repository's README stays as it is).
  fs.mkdirSync(tmp, { recursive: true });
  readmeBefore = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  fs.writeFileSync(path.join(tmp, 'README.md'), readmeBefore);
  const scaffold = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/new-subgraph.ts', NAME, '--extends', 'Product', '--dir', dir, '--port', '4996', '--readme', path.join(tmp, 'README.md')],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (scaffold.status !== 0) throw new Error(`new-subgraph exited ${scaffold.status}:\n${scaffold.stdout}${scaffold.stderr}`);
  // The running system: the catalog (which owns Product) behind a registry-mode gateway.
  namespace = await createNamespace('guide');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  catalog = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 });
  // The served operations are recorded every 500 ms instead of every 10 s, so the removal check sees them sooner.
  gateway = await startGateway(
    testGatewayConfig(
      { namespace, redis, jwtSecret: JWT_SECRET, label: 'guide-gateway' },
      { supergraph: { kind: 'registry', namespace, pollMs: 500, operationFlushMs: 500 } },
    ),
  );
  await waitFor(() => served().includes('catalog'), { what: 'the catalog in the graph' });
  const product = await call(`mutation { upsertProduct(input: { name: "Oat milk", category: "dairy", priceCents: 199 }) { id } }`, {}, admin);
  expect(product.errors).toBeUndefined();
  productId = product.data.upsertProduct.id;
});

afterAll(async () => {
  for (const c of clients) await c.dispose();
  if (ratings && ratings.exitCode === null && ratings.signalCode === null) {
    ratings.kill('SIGTERM');
    await exited(ratings);
  }
  await gateway?.close();
  await catalog?.close();
  // The catalog's connector and replication slot for this namespace: none may keep holding WAL.
  if (namespace) await removeRunCatalogSources(namespace);
  redis?.disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (fs.existsSync(path.dirname(tmp)) && fs.readdirSync(path.dirname(tmp)).length === 0) fs.rmdirSync(path.dirname(tmp));
});

it('2-3. npm run topics creates its topic, and its main.ts joins the running graph', async () => {
  const topics = await npmRun('topics');
  expect(topics).toContain(`created  ${namespace}${NAME} (6 partitions, delete)`);
  expect(topics).toContain(`created  ${namespace}${NAME}.dlq (1 partitions, delete)`);
  await startRatings();
  await waitFor(() => served().includes(NAME), { what: `the gateway to compose ${NAME} in` });
});

it("4. the product gains the new fields through the gateway, and a rating is answered from the ratings view and the catalog at once", async () => {
  const before = await call(`query($id: ID!) { product(id: $id) { name averageRating ratingCount ratings(first: 5) { edges { node { score } } } } }`, { id: productId });
  expect(before.errors).toBeUndefined();
  expect(before.data).toEqual({ product: { name: 'Oat milk', averageRating: null, ratingCount: 0, ratings: { edges: [] } } });
  const rated = await call(
    `mutation($id: ID!) { recordRating(input: { productId: $id, score: 4, title: "Creamy" }) { score version product { name averageRating ratingCount } } }`,
    { id: productId },
    customer,
  );
  expect(rated.errors).toBeUndefined();
  expect(rated.data.recordRating).toEqual({ score: 4, version: 1, product: { name: 'Oat milk', averageRating: 4, ratingCount: 1 } });
  const read = await call(`query($id: ID!) { product(id: $id) { ratings(first: 5) { edges { node { title score } } } } }`, { id: productId });
  expect(read.data.product.ratings.edges).toEqual([{ node: { title: 'Creamy', score: 4 } }]);
});

it('4. a rating of a product that does not exist is NOT_FOUND, and nothing is written to the topic', async () => {
  const before = await topicEnds(`${namespace}${NAME}`);
  const res = await call(`mutation { recordRating(input: { productId: "no-such-product", score: 5, title: "Ghost" }) { id } }`, {}, customer);
  expect(res.data).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0]).toMatchObject({ path: ['recordRating'], extensions: { code: 'NOT_FOUND', id: 'no-such-product' } });
  expect(await topicEnds(`${namespace}${NAME}`)).toBe(before);
});

it('5. ratingsChanged through the gateway: the aggregate now, with the catalog\'s fields, then after a new rating', async () => {
  const client = createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${customer}` },
  });
  clients.push(client);
  const received: Answer[] = [];
  let failure: unknown;
  client.subscribe(
    { query: `subscription($id: ID!) { ratingsChanged(productId: $id) { id name ratingCount averageRating } }`, variables: { id: productId } },
    { next: (v) => void received.push(v as Answer), error: (e) => void (failure = e), complete: () => undefined },
  );
  await waitFor(() => received.length >= 1 || failure, { what: 'the current aggregate' });
  expect(failure).toBeUndefined();
  expect(received[0]).toEqual({ data: { ratingsChanged: { id: productId, name: 'Oat milk', ratingCount: 1, averageRating: 4 } } });
  const second = await call(`mutation($id: ID!) { recordRating(input: { productId: $id, score: 2, title: "Thin" }) { id } }`, { id: productId }, signDevToken({ sub: 'customer-2', roles: ['customer'], secret: JWT_SECRET }));
  expect(second.errors).toBeUndefined();
  await waitFor(() => received.some((r) => r.data?.ratingsChanged.ratingCount === 2), { what: 'the update' });
  expect(received[received.length - 1]).toEqual({ data: { ratingsChanged: { id: productId, name: 'Oat milk', ratingCount: 2, averageRating: 3 } } });
});

it('9. lag, dlq list and rebuild know its topic and views from its declaration', async () => {
  const { declaration } = require(path.join(dir, 'declaration.ts')) as { declaration: { views: Record<string, { topic: { name: string } }> } };
  const carrier = declaration.views.knownProducts.topic.name;
  const lag = await npmRun('lag');
  expect(lag).toContain(`${namespace}${NAME}.ratings (topic ${namespace}${NAME}, generation g0, 1 consumer): lag 0, last event `);
  expect(lag).toContain(`${namespace}${NAME}.knownProducts (topic ${namespace}${carrier}, generation g0, 1 consumer)`);
  const dlq = await npmRun('dlq', '--', 'list');
  expect(dlq).toContain(`${namespace}${NAME}.dlq: empty`);
  expect(dlq).toContain(`${namespace}${carrier}.dlq: empty`);
  const rebuild = await npmRun('rebuild', '--', `${NAME}.ratings`);
  expect(rebuild).toMatch(new RegExp(`${namespace.replace(/\./g, '\\.')}${NAME}\\.ratings: switched g0 -> g\\w+ after 2 events`));
  // The running subgraph follows the new generation: the same aggregate, and new writes land in it.
  const after = await call(`query($id: ID!) { product(id: $id) { ratingCount averageRating } }`, { id: productId });
  expect(after.data).toEqual({ product: { ratingCount: 2, averageRating: 3 } });
  const views = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/rebuild.ts'], { cwd: ROOT, env: { ...process.env, SUBGRAPH_DIRS: dir } }).catch(
    (e: { stderr: string; code: number }) => e,
  );
  expect((views as { code: number }).code).toBe(2);
  expect((views as { stderr: string }).stderr).toMatch(new RegExp(`views: .*${NAME}\\.ratings, ${NAME}\\.knownProducts`));
});

it('10. rolling restart and crash: while no instance runs the product keeps the catalog\'s name and ratingCount answers SUBGRAPH_UNAVAILABLE at its path; full data once it is back', async () => {
  expect(liveRatings()).toBe(true);
  const first = await call(PRODUCT_CARD, { id: productId });
  expect(first.errors).toBeUndefined();
  expect(first.data).toEqual({ product: { name: 'Oat milk', ratingCount: 2 } });

  // A client keeps sending ProductCard throughout; every answer must be full or the guide's partial one.
  let running = true;
  const unexpected: Answer[] = [];
  let full = 0;
  let partial = 0;
  const load = (async () => {
    while (running) {
      const r = await call(PRODUCT_CARD, { id: productId });
      if (isFull(r)) full++;
      else if (isPartial(r)) partial++;
      else unexpected.push(r);
      // The client's pace (about 20 requests a second), not a wait for anything: unpaced it takes a core.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();

  // Rolling restart, one instance: stop it cleanly (the guide's SIGTERM or Ctrl-C), then start the new build.
  expect(await stopRatings('SIGTERM')).toEqual({ code: 0, signal: null });
  await waitFor(() => !liveRatings(), { what: 'the gateway to see no ratings instance' });
  expect(served()).toContain(NAME); // the published schema stays
  const stopped = await call(PRODUCT_CARD, { id: productId });
  expect(stopped).toMatchObject({ data: { product: { name: 'Oat milk', ratingCount: null } } });
  expect(stopped.errors).toEqual([expect.objectContaining({ path: ['product', 'ratingCount'], extensions: expect.objectContaining({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: NAME }) })]);
  await startRatings();
  await waitFor(liveRatings, { what: 'the restarted instance to be routed to' });
  await waitFor(async () => isFull(await call(PRODUCT_CARD, { id: productId })), { what: 'full data after the restart' });

  // A crash: no goodbye. The first request finds the connection refused and answers partial data.
  expect(await stopRatings('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  expect(isPartial(await call(PRODUCT_CARD, { id: productId }))).toBe(true);
  expect(served()).toContain(NAME);
  // The restart serves once its views have their partitions back (up to KAFKA_SESSION_TIMEOUT_MS after the crash).
  await startRatings();
  await waitFor(async () => isFull(await call(PRODUCT_CARD, { id: productId })), { what: 'full data after the crash' });

  running = false;
  await load;
  expect(unexpected).toEqual([]);
  expect(partial).toBeGreaterThan(0);
  expect(full).toBeGreaterThan(0);
}, 180_000);

it('10. npm run subgraph -- list shows its published schema and its live instance', async () => {
  const list = await npmRun('subgraph', '--', 'list');
  const [schemas, instances] = list.split('instances:');
  expect(schemas).toMatch(new RegExp(`\\n {2}${NAME} {2}published \\S+ by \\S+ {2}http://127\\.0\\.0\\.1:\\d+/graphql`));
  expect(schemas).toMatch(/\n {2}catalog {2}published /);
  // One live instance: the one started last (the crashed one's entry expires after REGISTRY_ABSENCE_MS).
  expect(instances).toMatch(new RegExp(`\\n {2}${NAME} {2}\\S+ {2}http://127\\.0\\.0\\.1:\\d+/graphql {2}last heartbeat`));
});

it('10. removal: refused while ProductCard uses its fields, naming it; --force takes its fields out of the graph', async () => {
  await waitFor(async () => (await readRecentOperations(redis, namespace)).some((o) => o.name === 'ProductCard'), { what: 'ProductCard recorded as served' });
  const refused = await npmRunExit('subgraph', '--', 'remove', NAME);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`${NAME}: remove refused (breaking):`);
  expect(refused.stderr).toMatch(/operation ProductCard \(last served [^)]+\) would fail: .*ratingCount/);
  expect(refused.stderr).toContain('pass --force');
  // Refused: nothing changed.
  expect((await readSchemaRecords(redis, namespace)).get(NAME)?.kind).toBe('published');
  expect(isFull(await call(PRODUCT_CARD, { id: productId }))).toBe(true);

  const removed = await npmRunExit('subgraph', '--', 'remove', NAME, '--force');
  expect(removed.code).toBe(0);
  expect(removed.stdout).toContain(`${NAME}: removed`);
  expect(removed.stderr).toMatch(/forced past: operation ProductCard will fail: .*ratingCount/);
  await waitFor(() => gateway.supergraphState().phase === 'composed' && !served().includes(NAME) && served().includes('catalog'), { what: `${NAME} to leave the graph` });
  // Its fields fail validation now; the catalog's are untouched.
  const after = await call(PRODUCT_CARD, { id: productId });
  expect(after.data).toBeUndefined();
  expect(after.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  expect(after.errors?.[0].message).toMatch(/ratingCount/);
  expect(await call(`query($id: ID!) { product(id: $id) { name } }`, { id: productId })).toMatchObject({ data: { product: { name: 'Oat milk' } } });
  expect(await npmRun('subgraph', '--', 'list')).toMatch(new RegExp(`\\n {2}${NAME} {2}removed `));
});

it('10. then its instance stops cleanly, its README row and folder go, and its topic stays', async () => {
  expect(await stopRatings('SIGTERM')).toEqual({ code: 0, signal: null });
  // The README row the scaffold added (section 1) is the only change it made to the README.
  const readme = path.join(tmp, 'README.md');
  const withRow = fs.readFileSync(readme, 'utf8');
  const rows = withRow.split('\n').filter((l) => l.startsWith('| `RATINGS_PORT`'));
  expect(rows).toHaveLength(1);
  fs.writeFileSync(readme, withRow.split('\n').filter((l) => l !== rows[0]).join('\n'));
  expect(fs.readFileSync(readme, 'utf8')).toBe(readmeBefore);
  fs.rmSync(dir, { recursive: true });
  // The topic is the record of what was rated: still there, with both ratings.
  expect(
    (await topicEnds(`${namespace}${NAME}`))
      .split(',')
      .map((p) => Number(p.split(':')[1]))
      .reduce((a, b) => a + b, 0),
  ).toBe(2);
});
