// The catalog of data products through the gateway, against the real broker and Redis: every
// built-in topic and view with its owner, contract and lineage; fieldLineage for every field a
// view backs; events flowing (events per second, the newest applied event) and a poison event
// raising dead letters and lowering the valid share; a stopped projection breaching its lag level
// (lag age, the stopped consumer group's lag) and recovering after a restart; who may look,
// with the analyst token `npm run token` prints. Events refused at the gateway's edge are
// test/dataProductsRefused.test.ts.
//
// The three domain subgraphs run for real (the catalog with its database and Debezium
// connector) and announce their products when they start.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import type { Role } from '../platform/identity';
import { createEvent, CUSTOMERS_TOPIC } from '../schema/events';
import { declarationOf, subgraphDeclarations } from '../scripts/declarations';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { startCustomersSubgraph } from '../subgraphs/customers';
import { startMeshSubgraph, type MeshHandle } from '../subgraphs/mesh';
import { startOrdersSubgraph } from '../subgraphs/orders';
import { createEventProducer, type EventProducer } from '../subgraphs/runtime/producer';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { dataProductsKey } from '../platform/registry';
import { testGatewayConfig } from './support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'data-products-test-jwt-secret-0123456789';
const token = (role: Role) => signDevToken({ sub: `${role}-1`, roles: [role], secret: JWT_SECRET });

let namespace: string;
let redis: Redis;
let customers: SubgraphHandle;
let orders: SubgraphHandle;
let catalog: SubgraphHandle;
let mesh: MeshHandle;
let gateway: GatewayHandle;
let producer: EventProducer;
const opts = () => ({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 });

type Result = { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
/** `role`: a token of that role, or a token as it is (`{ bearer }`), or none. */
async function call(query: string, variables: Record<string, unknown> = {}, role: Role | { bearer: string } | null = 'analyst'): Promise<Result> {
  const bearer = role === null ? null : typeof role === 'string' ? token(role) : role.bearer;
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Result;
}

/** `npm run token -- <args>` with this gateway's secret (JWT settings of the shell left out): the token it prints. */
async function cliToken(args: string[]): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JWT_') && k !== 'JWKS_FILE'));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...env, NODE_ENV: 'development', JWT_SECRET },
  });
  return stdout.trim();
}
async function mustCall(query: string, variables: Record<string, unknown> = {}, role: Role | null = 'analyst') {
  const r = await call(query, variables, role);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data;
}

const PRODUCT = `name subgraph team contact description
  topics { name owner keyedBy partitions source readBy { name subgraph product } }
  views { name subgraph product topic topicOwner consumerGroup fields }
  contract { topic version status events { type version } jsonSchema }
  serviceLevels { level objective measured state since }
  live { measuredAt eventsPerSecond lastAppliedEventAt validShare problems
    partitions { view topic partition lag lagAgeSeconds lastEventAt }
    deadLetters { total lastHour lastDay perHourLastHour perHourLastDay byReason { reason lastHour lastDay } }
    consumerGroups { groupId state members topics lag } }
  lineage { upstream { topic topicOwner topicProduct view viewProduct viewSubgraph fields } downstream { topic topicOwner topicProduct view viewProduct viewSubgraph fields } }`;

const productQuery = `query($name: String!) { dataProduct(name: $name) { ${PRODUCT} } }`;
const product = async (name: string) => (await mustCall(productQuery, { name })).dataProduct;
const level = (p: any, name: string) => p.serviceLevels.find((l: any) => l.level === name);

beforeAll(async () => {
  namespace = await createNamespace('products');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  [customers, catalog, orders] = await Promise.all([startCustomersSubgraph(opts()), startCatalogSubgraph(opts()), startOrdersSubgraph(opts())]);
  mesh = await startMeshSubgraph({ ...opts(), sampleMs: 300 });
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'data-products-test' }));
  producer = await createEventProducer(createKafka(kafkaConfigFromEnv()));
  await waitFor(async () => (await call('{ dataProducts { name } }')).data?.dataProducts?.length === 3, { what: 'the gateway to serve the three products' });
});

afterAll(async () => {
  await producer?.close();
  await gateway?.close();
  await mesh?.close();
  await Promise.all([customers?.close(), catalog?.close(), orders?.close()]);
  redis?.disconnect();
});

it('lists every built-in topic and view with its owner, contract and lineage', async () => {
  // One product at a time: the whole of every product in one operation is over the gateway's cost limit.
  const names: string[] = (await mustCall('{ dataProducts { name } }')).dataProducts.map((p: any) => p.name);
  const dataProducts = await Promise.all(names.map((name) => product(name)));
  const byName = new Map<string, any>(dataProducts.map((p: any) => [p.name, p]));
  const builtIn = subgraphDeclarations().filter((d) => d.dataProducts?.length);
  expect(builtIn.map((d) => d.name).sort()).toEqual(['catalog', 'customers', 'orders']);
  for (const d of builtIn) {
    const products = dataProducts.filter((p: any) => p.subgraph === d.name);
    expect([d.name, products.length]).toEqual([d.name, d.dataProducts!.length]);
    for (const p of products) {
      expect(p.team).toBeTruthy();
      expect(p.contact).toBeTruthy();
      expect(p.serviceLevels.map((l: any) => l.level)).toEqual(expect.arrayContaining(['MAX_LAG', 'MIN_VALID_SHARE']));
    }
    for (const topic of d.topics) {
      const p = products.find((x: any) => x.topics.some((t: any) => t.name === topic.name));
      expect([topic.name, p?.name !== undefined]).toEqual([topic.name, true]);
      const t = p.topics.find((x: any) => x.name === topic.name);
      expect(t).toMatchObject({ owner: topic.owner, keyedBy: topic.keyedBy, partitions: topic.partitions, source: topic.fromRecord ? 'CDC' : 'EVENTS' });
      const contract = p.contract.find((c: any) => c.topic === topic.name);
      expect(contract.version).toBeGreaterThanOrEqual(1);
      expect(contract.events.map((e: any) => e.type).sort()).toEqual(Object.keys(topic.events).sort());
      const schema = JSON.parse(contract.jsonSchema);
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.oneOf.map((e: any) => e.title).sort()).toEqual(Object.keys(topic.events).sort());
      // Downstream lineage: every view of any subgraph that folds the topic.
      const readers = subgraphDeclarations().flatMap((x) => Object.values(x.views).filter((v) => v.topic.name === topic.name).map((v) => v.name));
      expect(p.lineage.downstream.filter((e: any) => e.topic === topic.name).map((e: any) => e.view).sort()).toEqual(readers.sort());
    }
    for (const view of Object.values(d.views)) {
      const p = products.find((x: any) => x.views.some((v: any) => v.name === view.name));
      expect([view.name, p?.name !== undefined]).toEqual([view.name, true]);
      const v = p.views.find((x: any) => x.name === view.name);
      expect(v).toMatchObject({ subgraph: d.name, topic: view.topic.name, topicOwner: view.topic.owner, consumerGroup: `${d.name}.${view.name}` });
      // Upstream lineage: the view, its topic and the topic's owner and product.
      const up = p.lineage.upstream.find((e: any) => e.view === view.name);
      expect(up).toMatchObject({ topic: view.topic.name, topicOwner: view.topic.owner, viewSubgraph: d.name });
      expect(up.topicProduct).toBe(dataProducts.find((x: any) => x.topics.some((t: any) => t.name === view.topic.name))?.name ?? null);
    }
  }
  // Cross-team lineage: the orders team's copy of prices is built from the catalog's change stream.
  expect(byName.get('catalog').lineage.downstream).toEqual(
    expect.arrayContaining([expect.objectContaining({ topic: 'catalog.products.cdc', topicProduct: 'catalog', view: 'orders.productPrices', viewProduct: 'orders' })]),
  );
});

it('answers fieldLineage for every field a view backs, field -> view -> topic -> owner', async () => {
  const { dataProducts } = await mustCall('{ dataProducts { name views { name topic topicOwner fields } } }');
  const coordinates = new Set<string>(dataProducts.flatMap((p: any) => p.views.flatMap((v: any) => v.fields)));
  expect(coordinates.size).toBeGreaterThan(20);
  for (const coordinate of coordinates) {
    const { fieldLineage } = await mustCall(`query($c: String!) { fieldLineage(coordinate: $c) { coordinate sources { topic topicOwner topicProduct view viewProduct viewSubgraph fields } } }`, { c: coordinate });
    const expected = dataProducts.flatMap((p: any) => p.views.filter((v: any) => v.fields.includes(coordinate)).map((v: any) => ({ view: v.name, topic: v.topic, topicOwner: v.topicOwner })));
    expect([coordinate, fieldLineage?.sources.map((s: any) => ({ view: s.view, topic: s.topic, topicOwner: s.topicOwner }))]).toEqual([coordinate, expected]);
  }
  const spend = (await mustCall('{ fieldLineage(coordinate: "Customer.lifetimeSpendCents") { sources { view topic topicOwner viewProduct } } }')).fieldLineage;
  expect(spend.sources).toEqual([{ view: 'customers.orders360', topic: 'orders', topicOwner: 'orders', viewProduct: 'customers' }]);
  expect((await mustCall('{ fieldLineage(coordinate: "Customer.id") { coordinate } }')).fieldLineage).toBeNull();
  expect((await call('{ fieldLineage(coordinate: "not a coordinate") { coordinate } }')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect((await call('{ dataProducts(first: 201) { name } }')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
});

it('counts a poison event as a dead letter by reason and lowers the valid share', async () => {
  const topic = `${namespace}${CUSTOMERS_TOPIC.name}`;
  const before = await product('customers');
  const valid = [1, 2, 3].map((i) => createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId: `poison-ok-${i}`, name: 'Ok', email: `ok${i}@example.com`, tier: 'STANDARD' }));
  await producer.publishMany(topic, valid);
  // A payload the contract refuses: the views dead-letter it and go on.
  const poison = { ...createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId: 'poison-1', name: 'P', email: 'p@example.com', tier: 'STANDARD' }) };
  (poison.payload as Record<string, unknown>).tier = 'PLATINUM-NOT-A-TIER';
  await producer.publishMany(topic, [poison as typeof valid[number]]);
  // Events flowing: a rate above zero (over the last 30 s of log ends), and the views' newest
  // applied event is at least the newest valid one just sent (occurredAt), and not in the future.
  const flowing = await waitFor(
    async () => {
      const p = await product('customers');
      const applied = p.live.lastAppliedEventAt === null ? NaN : Date.parse(p.live.lastAppliedEventAt);
      return p.live.eventsPerSecond > 0 && applied >= Date.parse(valid[2].occurredAt) ? p : null;
    },
    { what: 'a rate above zero and the valid events applied', timeoutMs: 30_000 },
  );
  expect(typeof flowing.live.eventsPerSecond).toBe('number');
  expect(Date.parse(flowing.live.lastAppliedEventAt)).toBeLessThanOrEqual(Date.now());
  expect(Date.now() - Date.parse(flowing.live.lastAppliedEventAt)).toBeLessThan(60_000);
  // Every partition of the views is measured, with a lag (a number) and a lag age only while behind.
  expect(flowing.live.partitions.length).toBeGreaterThan(0);
  for (const part of flowing.live.partitions) {
    expect(Number.isInteger(part.lag) && part.lag >= 0).toBe(true);
    expect(part.lag > 0 ? typeof part.lagAgeSeconds === 'number' && part.lagAgeSeconds >= 0 : part.lagAgeSeconds === null).toBe(true);
  }
  const after = await waitFor(
    async () => {
      const p = await product('customers');
      return p.live.deadLetters.lastHour >= before.live.deadLetters.lastHour + 1 && p.live.validShare !== null && p.live.validShare < 1 ? p : null;
    },
    { what: 'the poison event to show as a dead letter and a lower valid share', timeoutMs: 60_000 },
  );
  expect(after.live.deadLetters.total).toBeGreaterThan(before.live.deadLetters.total);
  expect(after.live.deadLetters.byReason[0].reason).toMatch(/tier/);
  expect(after.live.deadLetters.perHourLastHour).toBeGreaterThanOrEqual(1);
  expect(after.live.validShare).toBeLessThanOrEqual(0.75);
  expect(level(after, 'MIN_VALID_SHARE').state).toBe('BREACHED');
  // The consumer groups reading the topic come from Kafka's admin API (read every few seconds).
  const profilesGroup = await waitFor(
    async () =>
      (await product('customers')).live.consumerGroups.find((g: any) => g.groupId === `${namespace}customers.customers.profiles` && g.topics.includes('customers') && g.state === 'Stable'),
    { what: "the customers views' consumer group among those reading the topic" },
  );
  // With its members (the running subgraph) and its lag, a number of records.
  expect(profilesGroup.members).toBeGreaterThanOrEqual(1);
  expect(Number.isInteger(profilesGroup.lag) && profilesGroup.lag >= 0).toBe(true);
  // And /metrics on the mesh says the same.
  const metrics = await (await fetch(mesh.url.replace('/graphql', '/metrics'))).text();
  expect(metrics).toMatch(/streamgraph_data_product_service_level\{product="customers",level="MIN_VALID_SHARE",state="BREACHED"[^}]*\} 1/);
  expect(metrics).toMatch(/streamgraph_data_product_valid_share\{product="customers"[^}]*\} 0\.\d+/);
});

it('breaches the lag level while a projection is stopped and recovers after its restart', async () => {
  const { records } = declarationOf('customers').dataProducts![0].serviceLevels.maxLag;
  await waitFor(async () => level(await product('customers'), 'MAX_LAG').state === 'MET', { what: 'the lag level to be met first' });
  // One customer's updates: they all land on one partition, whose lag is what the level bounds.
  // Registered while the views run, so the group has committed an offset on that partition
  // (a stopped view commits what it applied) and its lag counts the updates.
  const events = [
    createEvent(CUSTOMERS_TOPIC, 'CustomerRegistered', { customerId: 'lagging-1', name: 'Lag', email: 'lag@example.com', tier: 'PLUS' }),
    ...Array.from({ length: records + 50 }, (_, i) => createEvent(CUSTOMERS_TOPIC, 'CustomerUpdated', { customerId: 'lagging-1', name: `Lag ${i}` })),
  ];
  await producer.publishMany(`${namespace}${CUSTOMERS_TOPIC.name}`, events.slice(0, 1));
  await waitFor(
    async () =>
      (await product('customers')).live.partitions.some(
        (x: any) => x.view === 'customers.profiles' && x.lag === 0 && x.lastEventAt !== null && Date.parse(x.lastEventAt) >= Date.parse(events[0].occurredAt),
      ),
    { what: 'the registration applied' },
  );
  await customers.close();
  for (let i = 1; i < events.length; i += 500) await producer.publishMany(`${namespace}${CUSTOMERS_TOPIC.name}`, events.slice(i, i + 500));
  const breached = await waitFor(
    async () => {
      const p = await product('customers');
      return level(p, 'MAX_LAG').state === 'BREACHED' ? p : null;
    },
    { what: 'the lag level to be breached', timeoutMs: 30_000 },
  );
  expect(Math.max(...breached.live.partitions.map((x: any) => x.lag))).toBeGreaterThan(0);
  expect(Date.parse(level(breached, 'MAX_LAG').since)).toBeLessThanOrEqual(Date.now());
  // The lagging partition says for how long it has been behind, a number that grows while it
  // stays behind; the stopped views' consumer group is still listed (no members), with the lag
  // of its committed offsets (consumer groups are read every 5 s).
  const behind = (p: any) => p.live.partitions.filter((x: any) => x.view === 'customers.profiles' && x.lag > 0);
  expect(behind(breached).length).toBeGreaterThan(0);
  for (const part of behind(breached)) expect(typeof part.lagAgeSeconds).toBe('number');
  const firstAge = Math.max(...behind(breached).map((x: any) => x.lagAgeSeconds));
  const stillBehind = await waitFor(
    async () => {
      const p = await product('customers');
      const group = p.live.consumerGroups.find((g: any) => g.groupId === `${namespace}customers.customers.profiles`);
      return behind(p).length > 0 && Math.max(...behind(p).map((x: any) => x.lagAgeSeconds)) > firstAge && group?.members === 0 && group.lag >= records + 50 ? { p, group } : null;
    },
    { what: 'the lag age to grow and the stopped group to show its lag', timeoutMs: 30_000 },
  );
  expect(stillBehind.group.state).toBe('Empty');
  // The group's lag is the view's: the updates it has not applied, all on the customer's partition.
  expect(behind(stillBehind.p)).toHaveLength(1);
  expect(stillBehind.group.lag).toBe(records + 50);
  expect(behind(stillBehind.p)[0].lag).toBe(records + 50);
  customers = await startCustomersSubgraph(opts());
  const recovered = await waitFor(
    async () => {
      const p = await product('customers');
      return level(p, 'MAX_LAG').state === 'MET' ? p : null;
    },
    { what: 'the lag level to be met again after the restart', timeoutMs: 60_000 },
  );
  expect(Date.parse(level(recovered, 'MAX_LAG').since)).toBeGreaterThan(Date.parse(level(breached, 'MAX_LAG').since));
  // Caught up: no lag age on any partition of the view, and the newest applied event is the last one sent.
  await waitFor(
    async () => {
      const p = await product('customers');
      const parts = p.live.partitions.filter((x: any) => x.view === 'customers.profiles');
      return parts.length > 0 && parts.every((x: any) => x.lag === 0 && x.lagAgeSeconds === null) && Date.parse(p.live.lastAppliedEventAt) >= Date.parse(events[events.length - 1].occurredAt);
    },
    { what: 'the view caught up, without lag age, its newest event applied', timeoutMs: 60_000 },
  );
});

it("puts a subgraph's products back when Redis lost them (at its next heartbeat)", async () => {
  await redis.hdel(dataProductsKey(namespace), 'orders');
  await waitFor(async () => (await redis.hexists(dataProductsKey(namespace), 'orders')) === 1, { what: 'the orders subgraph to announce its products again', timeoutMs: 20_000 });
  await waitFor(async () => (await product('orders')) !== null, { what: 'the orders product back in the catalog' });
});

it('lets admins and analysts look (also with the analyst token npm run token prints), and refuses customers, other roles and anonymous callers with FORBIDDEN', async () => {
  for (const role of ['admin', 'analyst'] as const) expect((await call('{ dataProducts { name } }', {}, role)).data?.dataProducts).toHaveLength(3);
  // What an analyst is handed: the token `npm run token -- --sub <id> --role analyst` prints. A
  // customer's from the same command is refused.
  const analystToken = await cliToken(['--sub', 'analyst-cli', '--role', 'analyst']);
  expect((await call('{ dataProducts { name } }', {}, { bearer: analystToken })).data?.dataProducts).toHaveLength(3);
  const customerToken = await cliToken(['--sub', 'customer-cli', '--role', 'customer']);
  expect((await call('{ dataProducts { name } }', {}, { bearer: customerToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  for (const role of ['customer', 'shopper', 'store', null] as const) {
    for (const q of ['{ dataProducts { name } }', '{ dataProduct(name: "customers") { name } }', '{ fieldLineage(coordinate: "Customer.name") { coordinate } }']) {
      const r = await call(q, {}, role);
      expect([role, q, r.errors?.[0]?.extensions?.code]).toEqual([role, q, 'FORBIDDEN']);
    }
  }
});
