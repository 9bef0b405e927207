// Everything on the cluster: two instances of every subgraph and two gateways on a three-broker
// Kafka and a six-node Redis Cluster, fed by the simulator. Every view is built with no CROSSSLOT
// error and no write whose keys span slots (every master's MONITOR is checked), `npm run lag`
// works against it, and a mutation with read-your-writes and a subscription work across gateways.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signDevToken } from '../../gateway/token';
import { productSubgraphs } from '../../scripts/declarations';
import { GATEWAY_TEST_JWT_SECRET } from '../support/gatewayProcess';
import { waitFor } from '../support/waitFor';
import { watchSlots, type SlotWatch } from './support/slotWatch';
import { startTestCluster, type NodeProcess, type TestCluster } from './support/testCluster';

const ROOT = path.resolve(__dirname, '..', '..');
let cluster: TestCluster;
let watch: SlotWatch;
const subgraphs: NodeProcess[] = [];
const gateways: NodeProcess[] = [];

beforeAll(async () => {
  cluster = await startTestCluster('views');
  watch = await watchSlots((await cluster.infra.redis.masters()).map((m) => m.port));
  for (const s of productSubgraphs()) subgraphs.push(...(await Promise.all([0, 1].map((i) => cluster.startSubgraph(s.name, i)))));
  gateways.push(...(await Promise.all(['gateway-1', 'gateway-2'].map((n) => cluster.startGateway(n)))));
  const sim = await cluster.simulate(6);
  if (sim.code !== 0) throw new Error(`the simulator exited ${sim.code}:\n${sim.output.slice(-2000)}`);
}, 300_000);

afterAll(async () => {
  await watch?.stop();
  await cluster?.stop();
}, 120_000);

/** `npm run lag` against the cluster (the settings start:cluster prints). */
function lag(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/lag.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...cluster.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

test('every view catches up on the cluster with no CROSSSLOT error and no write across slots; npm run lag reads it', async () => {
  const last = await waitFor(async () => {
    const r = await lag(['--max-lag', '0']);
    return r.code === 0 ? r : null;
  }, { what: 'every view to have caught up (npm run lag -- --max-lag 0)', timeoutMs: 120_000, intervalMs: 1_000 });
  // Two instances per subgraph share each view's consumer group: both hold partitions.
  expect(last.output).toMatch(/2 consumers/);
  expect(last.output).not.toMatch(/CROSSSLOT|MOVED|CLUSTERDOWN/);
  for (const p of [...subgraphs, ...gateways]) expect({ process: p.name, crossSlot: p.crossSlotLines() }).toEqual({ process: p.name, crossSlot: [] });
  expect(watch.splits()).toEqual([]);
  // The projections' guarded writes (a script with entities and checkpoint) were seen and checked.
  const counts = watch.counts();
  expect((counts.evalsha ?? 0) + (counts.eval ?? 0)).toBeGreaterThan(0);
  console.log(`multi-key commands checked on the masters: ${JSON.stringify(counts)}`);
});

test('a mutation through one gateway is read (read-your-writes) and followed (subscription) through the other', async () => {
  const [g1, g2] = gateways as [NodeProcess, NodeProcess];
  const token = signDevToken({ sub: 'customer-7', roles: ['customer'], secret: GATEWAY_TEST_JWT_SECRET });
  const call = async (gw: NodeProcess, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: any; errors?: Array<{ message: string }>; extensions?: any };
  };
  // The orders subgraph learns the simulator's products through CDC (PostgreSQL, Connect, the cluster).
  const placed = await waitFor(async () => {
    const r = await call(g1, 'mutation { placeOrder(input: { storeId: "store-1", items: [{ productId: "product-1", quantity: 2 }] }) { id status version } }');
    return r.errors ? null : r;
  }, { what: 'placeOrder to succeed', timeoutMs: 60_000, intervalMs: 500 });
  const id: string = placed.data.placeOrder.id;
  const read = await call(g2, 'query($id: ID!) { order(id: $id) { id status customer { orderCount } } }', { id }, { 'x-consistency-token': placed.extensions.consistencyToken });
  expect(read.errors).toBeUndefined();
  expect(read.data.order.id).toBe(id);
  expect(read.data.order.customer.orderCount).toBeGreaterThanOrEqual(1);

  const received: Array<{ status: string; version: number }> = [];
  let error: unknown;
  const ws = createClient({ url: g2.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  try {
    ws.subscribe<{ orderUpdated: { status: string; version: number } }>(
      { query: 'subscription($id: ID!) { orderUpdated(id: $id) { status version } }', variables: { id } },
      { next: (v) => void (v.data && received.push(v.data.orderUpdated)), error: (e) => void (error = e), complete: () => undefined },
    );
    await waitFor(() => received.length >= 1 || error, { what: 'the current state first', timeoutMs: 30_000 });
    expect(error).toBeUndefined();
    const canceled = await call(g1, 'mutation($id: ID!) { cancelOrder(id: $id) { status version } }', { id });
    expect(canceled.errors).toBeUndefined();
    await waitFor(() => received.some((r) => r.status === 'CANCELED') || error, { what: 'CANCELED through the other gateway', timeoutMs: 30_000 });
    expect(error).toBeUndefined();
    const versions = received.map((r) => r.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(received.at(-1)).toEqual({ status: 'CANCELED', version: canceled.data.cancelOrder.version });
  } finally {
    await ws.dispose();
  }
});
