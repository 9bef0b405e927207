// docs/adding-a-subgraph.md, followed: scaffold a ratings subgraph that extends the catalog's
// Product, create its topics with `npm run topics`, start it from its main.ts next to a
// registry-mode gateway that is already serving, then through that gateway: the new fields on
// a product, a rating with read-your-writes, a rating of a product that does not exist
// (NOT_FOUND, nothing written), its own subscription seeing an update; and the operations
// CLIs (`lag`, `dlq list`, `rebuild`) knowing its topic and views from its declaration.
// Restarts, removal and publishing are the schema registry's tests (test/schemaMembership*).
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
let ratingsOutput = '';
let productId: string;
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
const npmRun = async (...args: string[]) =>
  (
    await promisify(execFile)('npm', ['run', '-s', ...args], {
      cwd: ROOT,
      env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace, SUBGRAPH_DIRS: dir, LOG_LEVEL: 'warn' },
    })
  ).stdout;
const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise<number | null>((r) => p.once('exit', r));
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
  fs.copyFileSync(path.join(ROOT, 'README.md'), path.join(tmp, 'README.md'));
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
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'guide-gateway' }));
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
  ratings = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace, RATINGS_PORT: '0', GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [ratings.stdout!, ratings.stderr!]) stream.on('data', (d: Buffer) => (ratingsOutput += d.toString()));
  await waitFor(
    () => {
      if (ratings!.exitCode !== null) throw new Error(`main.ts exited ${ratings!.exitCode}: ${ratingsOutput}`);
      return served().includes(NAME);
    },
    { what: `the gateway to compose ${NAME} in` },
  );
  await waitFor(() => /ratings subgraph ready at http:\/\/127\.0\.0\.1:\d+\/graphql/.test(ratingsOutput), { what: 'the ready line', timeoutMs: 10_000 });
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
