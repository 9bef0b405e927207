// Faults injected while clients watch: two of every process on the three-broker Kafka and the
// Redis Cluster, the simulator's load, 1,000 graphql-ws clients through both gateways following
// the test's orders, and a shopper updating those orders' delivery estimates all along. In turn:
// SIGKILL of the broker leading the orders partitions, of a Redis master, of one instance of each
// subgraph, and of one gateway. After each the test waits for recovery (conditions with
// deadlines), then checks the orders view against an independent fold of its topic, every
// client's last state against the view, and every mutation's outcome against the topic.
import { ORDERS_TOPIC } from '../../schema/events';
import { Cluster } from 'ioredis';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signDevToken } from '../../gateway/token';
import { declarationOf, productSubgraphs } from '../../scripts/declarations';
import { createKafka } from '../../platform/kafkaConfig';
import type { Projection } from '../../subgraphs/runtime/projection';
import { GATEWAY_TEST_JWT_SECRET } from '../support/gatewayProcess';
import { readView, truthOf } from '../support/views';
import { waitFor } from '../support/waitFor';
import { startTestCluster, type NodeProcess, type Simulator, type TestCluster } from './support/testCluster';
import { readTopic } from './support/topicLog';
import { gatewayCall as call } from './support/gatewayCall';

const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 1000);
const ORDERS = 20;
type OrderState = { id: string; version: number; status: string; estimatedDeliveryAt?: string | null };

let cluster: TestCluster;
const subgraphs = new Map<string, NodeProcess[]>();
const gateways: NodeProcess[] = [];
let simulator: Simulator | undefined;
const clients: Array<{
  client: Client;
  order: string;
  home: number;
  last?: { version: number; status: string };
  backwards: string[];
  errors: unknown[];
  /** Connections acknowledged so far (a reconnect adds one). */
  connects: number;
  /** The version of the first state received on the current connection. */
  firstOnConnection?: number;
}> = [];
const orderIds: string[] = [];
const mutations: Array<{ order: string; phase: string; ok: boolean; version?: number; error?: string; code?: string; at: string; ms: number; gateway: string }> = [];
/** /ready answers that were not 200, by phase and process. */
const notReady = new Map<string, Set<string>>();
let phase = 'setup';
let writing = true;
let polling = true;

const shopper = signDevToken({ sub: 'shopper-chaos', roles: ['shopper'], secret: GATEWAY_TEST_JWT_SECRET, expiresInSec: 3600 });
const admin = signDevToken({ sub: 'admin-chaos', roles: ['admin'], secret: GATEWAY_TEST_JWT_SECRET, expiresInSec: 3600 });
const customer = signDevToken({ sub: 'customer-3', roles: ['customer'], secret: GATEWAY_TEST_JWT_SECRET, expiresInSec: 3600 });

const liveGateways = () => gateways.filter((g) => g.running());

/**
 * Across every run of the writer (each check stops and restarts it): an estimate that repeats an
 * order's current one is no change to the fold, so its answer rightly repeats the version, which
 * the check below would take for a lost write.
 */
let writes = 0;

/** The shopper's writes: one delivery estimate at a time, alternating gateways, each outcome recorded. */
async function writer(): Promise<void> {
  while (writing) {
    const n = writes;
    const order = orderIds[n % orderIds.length]!;
    const gw = liveGateways()[n % Math.max(1, liveGateways().length)];
    writes++;
    if (!gw) continue;
    const at = new Date(Date.UTC(2030, 0, 1) + writes * 60_000).toISOString();
    const started = Date.now();
    // When and where each one ran: a failure names the mutations around it.
    const when = () => ({ at: new Date(started).toISOString(), ms: Date.now() - started, gateway: gw.name });
    try {
      const r = await call(gw, shopper, 'mutation($id: ID!, $at: String!) { updateDeliveryEstimate(id: $id, estimatedDeliveryAt: $at) { version } }', { id: order, at });
      if (r.errors) mutations.push({ order, phase, ok: false, error: r.errors[0]!.message, code: r.errors[0]!.extensions?.code, ...when() });
      else mutations.push({ order, phase, ok: true, version: r.data.updateDeliveryEstimate.version, ...when() });
    } catch (e) {
      // The gateway itself went away mid-request: the client sees a transport error, not an answer.
      mutations.push({ order, phase, ok: false, error: (e as Error).message, code: 'TRANSPORT', ...when() });
    }
  }
}

async function pollReady(): Promise<void> {
  while (polling) {
    const all = [...gateways, ...[...subgraphs.values()].flat()];
    await Promise.all(
      all.map(async (p) => {
        const ok = await fetch(`http://127.0.0.1:${p.port}/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
        if (!ok) {
          const set = notReady.get(phase) ?? new Set<string>();
          set.add(p.name);
          notReady.set(phase, set);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 250));
  }
}

function subscribe(i: number): void {
  const order = orderIds[i % orderIds.length]!;
  const home = i % 2;
  const entry: (typeof clients)[number] = { client: undefined as unknown as Client, order, home, backwards: [], errors: [], connects: 0 };
  // A client whose gateway is gone reconnects to the other one (what a load balancer does).
  entry.client = createClient({
    url: () => (gateways[home]!.running() ? gateways[home]! : liveGateways()[0] ?? gateways[home]!).url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: Infinity,
    retryWait: async () => new Promise((r) => setTimeout(r, 200 + Math.random() * 800)),
    shouldRetry: () => true,
    connectionParams: { authorization: `Bearer ${admin}` },
    on: {
      connected: () => {
        entry.connects++;
        entry.firstOnConnection = undefined;
      },
    },
  });
  entry.client.subscribe<{ orderUpdated: { version: number; status: string } }>(
    { query: 'subscription($id: ID!) { orderUpdated(id: $id) { version status } }', variables: { id: order } },
    {
      next: (v) => {
        const s = v.data?.orderUpdated;
        if (!s) return void entry.errors.push(v.errors);
        if (entry.last && s.version < entry.last.version) entry.backwards.push(`${entry.last.version} -> ${s.version}`);
        entry.firstOnConnection ??= s.version;
        entry.last = s;
      },
      error: (e) => void entry.errors.push(e),
      complete: () => undefined,
    },
  );
  clients.push(entry);
}

/** Quiesces the writer, waits for recovery, then holds the view, the clients and the mutations to the topic. */
async function checkAfter(label: string): Promise<void> {
  writing = false;
  await writerDone;
  // The topic holds still while it is compared: no writes of ours, the simulator frozen.
  simulator?.pause();
  try {
    await compare(label);
  } finally {
    simulator?.resume();
    writing = true;
    writerDone = writer();
  }
}

async function compare(label: string): Promise<void> {
  const topic = `${cluster.namespace}${ORDERS_TOPIC.name}`;
  const base = declarationOf('orders').views.orders as unknown as Projection<typeof ORDERS_TOPIC, OrderState>;
  // As the runtime names it in a namespace (its Redis keys carry the name).
  const projection = { ...base, name: `${cluster.namespace}${base.name}` };
  const redis = new Cluster(cluster.infra.redis.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
  try {
    // The view equals an independent fold of the topic, for every order in it.
    const { view, truth } = await waitFor(
      async () => {
        const log = await readTopic(cluster.env.KAFKA_BROKERS!.split(','), topic);
        const truth = truthOf(projection, log);
        const ids = [...truth.keys()];
        const view = await readView(redis as never, projection as never, topic, ORDERS_TOPIC.partitions, ids);
        const differ = ids.filter((id) => JSON.stringify(view.get(id)) !== JSON.stringify(truth.get(id)));
        if (differ.length === 0) return { view, truth };
        const id = differ[0]!;
        // waitFor reports the last error: which entities differ, and how the first one does.
        throw new Error(`${differ.length} of ${ids.length} orders differ; ${id}: view ${JSON.stringify(view.get(id))} fold ${JSON.stringify(truth.get(id))}`);
      },
      { what: `the orders view to equal the fold of its topic after ${label}`, timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(view.size).toBe(truth.size);
    // Every client's last state is the view's (the current state after a reconnect included).
    await waitFor(() => {
      const behind = clients.filter((c) => c.last?.version !== (view.get(c.order) as OrderState | undefined)?.version);
      if (behind.length === 0) return true;
      const c = behind[0]!;
      const orders = new Set(behind.map((b) => b.order)).size;
      throw new Error(`${behind.length} clients (${orders} orders, home gateways ${[...new Set(behind.map((b) => b.home))].join(',')}) behind; e.g. client at ${JSON.stringify(c.last)}, view at ${(view.get(c.order) as OrderState | undefined)?.version}, errors ${c.errors.length}`);
    }, {
      what: `every client to hold the view's version of its order after ${label}`,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(clients.flatMap((c) => c.backwards)).toEqual([]);
    // Every mutation either succeeded and is in the view, or failed with a clear error.
    for (const m of mutations) {
      if (m.ok) expect((view.get(m.order) as OrderState).version).toBeGreaterThanOrEqual(m.version!);
      else expect({ error: m.error, code: m.code }).toEqual({ error: expect.stringMatching(/\S/), code: expect.stringMatching(/\S/) });
    }
    const versions = new Map<string, number[]>();
    for (const m of mutations.filter((x) => x.ok)) versions.set(m.order, [...(versions.get(m.order) ?? []), m.version!]);
    // Acknowledged writes are distinct versions: none was applied twice or lost to another.
    for (const [order, vs] of versions) {
      const dupes = vs.length - new Set(vs).size;
      // On failure: every mutation of that order, in the order they ran.
      const history = dupes === 0 ? [] : mutations.filter((m) => m.order === order).map((m) => `${m.at} ${m.phase} ${m.gateway} ${m.ms} ms ${m.ok ? `v${m.version}` : m.code}`);
      expect({ order, dupes, history }).toEqual({ order, dupes: 0, history: [] });
    }
  } finally {
    redis.disconnect();
  }
}

/** With the orders holding still: waits for every client to hold the view's version, and returns those versions. */
async function holdingClients(label: string): Promise<Map<string, number>> {
  const topic = `${cluster.namespace}${ORDERS_TOPIC.name}`;
  const base = declarationOf('orders').views.orders as unknown as Projection<typeof ORDERS_TOPIC, OrderState>;
  const projection = { ...base, name: `${cluster.namespace}${base.name}` };
  const redis = new Cluster(cluster.infra.redis.nodes.filter((n) => n.running()).map((n) => ({ host: '127.0.0.1', port: n.port })));
  try {
    return await waitFor(
      async () => {
        const view = await readView(redis as never, projection as never, topic, ORDERS_TOPIC.partitions, orderIds);
        const behind = clients.filter((c) => c.last?.version !== (view.get(c.order) as OrderState | undefined)?.version);
        if (behind.length > 0) throw new Error(`${behind.length} clients behind the view`);
        return new Map([...view].map(([id, s]) => [id, (s as OrderState).version]));
      },
      { what: `every client to hold the view's version ${label}`, timeoutMs: 60_000, intervalMs: 250 },
    );
  } finally {
    redis.disconnect();
  }
}

let writerDone: Promise<void> = Promise.resolve();
let readyDone: Promise<void> = Promise.resolve();

beforeAll(async () => {
  cluster = await startTestCluster('chaos');
  for (const s of productSubgraphs()) subgraphs.set(s.name, await Promise.all([0, 1].map((i) => cluster.startSubgraph(s.name, i))));
  gateways.push(...(await Promise.all(['gateway-1', 'gateway-2'].map((n) => cluster.startGateway(n)))));
  // The simulator's load for the whole test (its own orders, inventory and products).
  simulator = cluster.startSimulator(600);
  const gw = gateways[0]!;
  for (let i = 0; i < ORDERS; i++) {
    const placed = await waitFor(async () => {
      const r = await call(gw, customer, 'mutation { placeOrder(input: { storeId: "store-2", items: [{ productId: "product-3", quantity: 1 }] }) { id } }');
      return r.errors ? null : r;
    }, { what: 'placeOrder to succeed', timeoutMs: 90_000, intervalMs: 500 });
    orderIds.push(placed.data.placeOrder.id);
  }
  for (let i = 0; i < CLIENTS; i++) subscribe(i);
  await waitFor(() => clients.every((c) => c.last !== undefined), { what: `all ${CLIENTS} clients to get their order's current state`, timeoutMs: 120_000, intervalMs: 250 });
  readyDone = pollReady();
  writerDone = writer();
}, 300_000);

afterAll(async () => {
  writing = false;
  polling = false;
  await writerDone;
  await readyDone;
  await Promise.all(clients.map((c) => c.client.dispose()));
  await cluster?.stop();
  const summary = Object.fromEntries([...notReady].map(([p, s]) => [p, [...s].sort()]));
  console.log(`mutations: ${mutations.filter((m) => m.ok).length} succeeded, ${mutations.filter((m) => !m.ok).length} failed (${[...new Set(mutations.filter((m) => !m.ok).map((m) => m.code))].join(', ')}); /ready not 200 by phase: ${JSON.stringify(summary)}`);
}, 180_000);

test('SIGKILL of the broker leading the orders partitions', async () => {
  phase = 'broker';
  const topic = `${cluster.namespace}${ORDERS_TOPIC.name}`;
  const admin = createKafka({ brokers: cluster.env.KAFKA_BROKERS!.split(','), clientId: 'chaos' }).admin();
  await admin.connect();
  const leaders = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.map((p) => p.leader);
  const counts = new Map<number, number>();
  for (const l of leaders) counts.set(l, (counts.get(l) ?? 0) + 1);
  const victim = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  const node = cluster.infra.kafka.nodes.find((n) => n.nodeId === victim)!;
  const before = mutations.length;
  await node.kill();
  // Recovery: every orders partition has a live leader and writes succeed again.
  await waitFor(async () => {
    const parts = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
    return parts.every((p) => p.leader !== victim && p.leader >= 0);
  }, { what: 'new leaders for the orders partitions', timeoutMs: 60_000, intervalMs: 500 });
  await admin.disconnect();
  await waitFor(() => mutations.slice(before).filter((m) => m.ok).length >= 3, { what: 'mutations to succeed again', timeoutMs: 60_000 });
  await checkAfter('the broker kill');
  await node.restart();
});

test('SIGKILL of a Redis master: its replica takes over', async () => {
  phase = 'redis';
  const master = (await cluster.infra.redis.masters())[0]!;
  const before = mutations.length;
  await master.kill();
  await cluster.infra.redis.waitHealthy(60_000);
  await waitFor(() => mutations.slice(before).filter((m) => m.ok).length >= 3, { what: 'mutations to succeed again', timeoutMs: 60_000 });
  await checkAfter('the Redis master kill');
  await master.restart();
});

test('SIGKILL of one instance of each subgraph', async () => {
  phase = 'subgraphs';
  const before = mutations.length;
  await Promise.all([...subgraphs.values()].map((instances) => instances[0]!.kill()));
  await waitFor(() => mutations.slice(before).filter((m) => m.ok).length >= 3, { what: 'mutations to succeed again', timeoutMs: 60_000 });
  await checkAfter('the subgraph kills');
});

test('SIGKILL of one gateway: its clients reconnect to the other and get the current state first', async () => {
  phase = 'gateway';
  // The orders hold still across the kill, so the first state each moved client gets on its new
  // connection can only be the current state (not a change that happened to come next).
  writing = false;
  await writerDone;
  const held = await holdingClients('before the gateway kill');
  const moved = clients.filter((c) => c.home === 0);
  const connectsBefore = new Map(moved.map((c) => [c, c.connects]));
  await gateways[0]!.kill();
  await waitFor(
    () => {
      const waiting = moved.filter((c) => c.connects === connectsBefore.get(c) || c.firstOnConnection === undefined);
      if (waiting.length === 0) return true;
      throw new Error(`${waiting.length} of ${moved.length} clients of gateway-1 not reconnected with a first state yet`);
    },
    { what: "gateway-1's clients to reconnect to gateway-2 and get a first state", timeoutMs: 60_000, intervalMs: 250 },
  );
  const notCurrent = moved.filter((c) => c.firstOnConnection !== held.get(c.order)).map((c) => `${c.order}: first v${c.firstOnConnection}, current v${held.get(c.order)}`);
  expect(notCurrent).toEqual([]);
  writing = true;
  writerDone = writer();
  const before = mutations.length;
  await waitFor(() => mutations.slice(before).filter((m) => m.ok).length >= 3, { what: 'mutations to succeed again', timeoutMs: 60_000 });
  await checkAfter('the gateway kill');
  polling = false;
  // The outage showed on /ready: the killed processes did not answer it while down.
  expect([...(notReady.get('subgraphs') ?? [])].length).toBeGreaterThanOrEqual(productSubgraphs().length);
  expect([...(notReady.get('gateway') ?? [])]).toContain('gateway-1');
});
