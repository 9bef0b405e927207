// A subgraph made with `npm run new-subgraph` declares its data product, announces it when it
// starts, and the catalog shows it through the running gateway: no gateway or mesh restart.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import type { TopicContract } from '../schema/events';
import { startMeshSubgraph, type MeshHandle } from '../subgraphs/mesh';
import type { SubgraphDeclaration } from '../subgraphs/runtime/declaration';
import type { SubgraphHandle, SubgraphOptions } from '../subgraphs/runtime/startSubgraph';
import { testGatewayConfig } from './support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { uniqueName, waitFor } from './support/waitFor';

const ROOT = path.join(__dirname, '..');
const NAME = 'wishes';
// Inside the repo: the generated code resolves its packages from the repo's node_modules.
const tmp = path.join(ROOT, '.tmp', uniqueName('products-scaffold'));
const dir = path.join(tmp, NAME);
const JWT_SECRET = 'products-scaffold-test-jwt-secret-0123456789';
const analyst = signDevToken({ sub: 'analyst-1', roles: ['analyst'], secret: JWT_SECRET });

let redis: Redis;
let mesh: MeshHandle;
let gateway: GatewayHandle;
let scaffolded: SubgraphHandle | undefined;

async function call(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${analyst}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

beforeAll(async () => {
  fs.mkdirSync(tmp, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'README.md'), path.join(tmp, 'README.md'));
  const cli = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/new-subgraph.ts', NAME, '--extends', 'Product', '--dir', dir, '--port', '4998', '--readme', path.join(tmp, 'README.md')], { cwd: ROOT, encoding: 'utf8' });
  if (cli.status !== 0) throw new Error(`new-subgraph exited ${cli.status}:\n${cli.stdout}${cli.stderr}`);
  const { declaration } = require(path.join(dir, 'declaration.ts')) as { declaration: SubgraphDeclaration };
  const namespace = await createNamespace('products-scaffold', declaration.topics as TopicContract[]);
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  mesh = await startMeshSubgraph({ ...opts, sampleMs: 300 });
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'products-scaffold-test' }));
  await waitFor(async () => Array.isArray((await call('{ dataProducts { name } }')).data?.dataProducts), { what: 'the gateway to serve the catalog' });
  // Started only now, behind the running gateway and mesh.
  const index = require(path.join(dir, 'index.ts')) as Record<string, unknown>;
  const start = Object.entries(index).find(([k, v]) => /^start\w+Subgraph$/.test(k) && typeof v === 'function')?.[1] as (o: SubgraphOptions) => Promise<SubgraphHandle>;
  expect((await call('{ dataProducts { name } }')).data.dataProducts).toEqual([]);
  scaffolded = await start(opts);
});

afterAll(async () => {
  await scaffolded?.close();
  await gateway?.close();
  await mesh?.close();
  redis?.disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (fs.existsSync(path.dirname(tmp)) && fs.readdirSync(path.dirname(tmp)).length === 0) fs.rmdirSync(path.dirname(tmp));
});

it("shows the scaffolded subgraph's product, views, contract and lineage without restarting the gateway", async () => {
  const product = await waitFor(
    async () => (await call('{ dataProduct(name: "wishes") { name team subgraph topics { name owner } views { name topic fields } contract { topic version status } lineage { upstream { view topic topicOwner } } } }')).data?.dataProduct,
    { what: 'the scaffolded product in the catalog' },
  );
  expect(product).toMatchObject({ name: NAME, team: NAME, subgraph: NAME, topics: [{ name: 'wishes', owner: NAME }], contract: [{ topic: 'wishes', version: 1, status: 'NEW' }] });
  // Its own view backs the fields it adds; its copy of which products exist reads the catalog's change stream.
  expect(product.views.map((v: any) => v.topic).sort()).toEqual(['catalog.products.cdc', 'wishes']);
  expect(product.lineage.upstream).toEqual(expect.arrayContaining([expect.objectContaining({ topic: 'catalog.products.cdc', topicOwner: 'catalog' })]));
  const fields: string[] = product.views.flatMap((v: any) => v.fields);
  expect(fields).toEqual(expect.arrayContaining(['Product.averageWish', 'Product.wishCount']));
  const lineage = (await call('{ fieldLineage(coordinate: "Product.averageWish") { sources { view topic topicOwner viewProduct } } }')).data.fieldLineage;
  expect(lineage.sources).toEqual([expect.objectContaining({ topic: 'wishes', topicOwner: NAME, viewProduct: NAME })]);
});
