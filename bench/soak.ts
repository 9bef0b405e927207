// bench:soak (issue 17): the whole system on the local cluster (3 brokers, a Redis Cluster, two of
// every subgraph, two gateways) for a long run at ten times the simulator's default rates, with
// graphql-ws clients following orders through both gateways, a shopper changing those orders and
// a reader querying them. Per window: the RSS of every process, p99 of query, mutation and
// delivery latency (mutation sent -> each following client has the new state), and the largest
// lag any view reported. Targets: no upward RSS trend after the warm-up (slope under 1 MB per
// minute per process), each window's p99 within 1.5 times the first window's, the orders view equal
// to an independent fold of its topic at the end and every view caught up.
//
//   npm run bench:soak [-- --minutes 30 --window-minutes 5 --clients 2000 --orders 200]
//
// Writes bench/results/soak.json. Its engines use their own ports (Kafka 24092-24094, Redis
// 24001-24006, Connect 24083), clear of `npm start`, `start:cluster` and the cluster tests.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import { Cluster } from 'ioredis';
import WebSocket from 'ws';
import { signDevToken } from '../gateway/token';
import { ORDERS_TOPIC } from '../schema/events';
import { declarationOf, productSubgraphs } from '../scripts/declarations';
import type { OrderState } from '../subgraphs/orders/projection';
import type { Projection } from '../subgraphs/runtime/projection';
import { startTestCluster, type NodeProcess, type TestCluster } from '../test/cluster/support/testCluster';
import { readTopic } from '../test/cluster/support/topicLog';
import { GATEWAY_TEST_JWT_SECRET } from '../test/support/gatewayProcess';
import { readView, truthOf } from '../test/support/views';
import { waitFor } from '../test/support/waitFor';
import { runBenchmark } from './runBenchmark';
import { machine, quantile, round } from './stats';
import { gatewayCall as call } from '../test/cluster/support/gatewayCall';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: process.env.SOAK_MINUTES ?? '30' },
    'window-minutes': { type: 'string' },
    clients: { type: 'string', default: '2000' },
    orders: { type: 'string', default: '200' },
    'mutations-per-second': { type: 'string', default: '10' },
    'queries-per-second': { type: 'string', default: '20' },
  },
});
const MINUTES = Number(args.minutes);
// A short trial still gets several windows to compare.
const WINDOW_MINUTES = Number(args['window-minutes'] ?? (MINUTES >= 30 ? 5 : Math.max(0.5, MINUTES / 6)));
const CLIENTS = Number(args.clients);
const ORDERS = Number(args.orders);
const MUTATIONS_PER_SECOND = Number(args['mutations-per-second']);
const QUERIES_PER_SECOND = Number(args['queries-per-second']);
/** RSS trend is judged after this: the 10 minutes, or the first third of a shorter run. */
const WARMUP_MINUTES = Math.min(10, MINUTES / 3);
const SAMPLE_MS = 10_000;
const PORTS = { kafka: [24092, 24093, 24094], redis: [24001, 24002, 24003, 24004, 24005, 24006], connect: 24083 } as const;
/** Ten times `npm run simulate`'s defaults (5 orders/s, 20 inventory/s, 1 price change/s, 2 new products/min). */
const SIMULATOR_FLAGS = ['--orders-per-second', '50', '--inventory-per-second', '200', '--price-changes-per-second', '10', '--new-products-per-minute', '20'];
const RESULTS = path.join(__dirname, 'results', 'soak.json');

for (const [name, v] of Object.entries({ MINUTES, WINDOW_MINUTES, CLIENTS, ORDERS, MUTATIONS_PER_SECOND, QUERIES_PER_SECOND }))
  if (!Number.isFinite(v) || v <= 0) throw new Error(`bench:soak: ${name} must be a positive number`);

const shopper = signDevToken({ sub: 'shopper-soak', roles: ['shopper'], secret: GATEWAY_TEST_JWT_SECRET, expiresInSec: 24 * 3600 });
const staff = signDevToken({ sub: 'admin-soak', roles: ['admin'], secret: GATEWAY_TEST_JWT_SECRET, expiresInSec: 24 * 3600 });
const customer = signDevToken({ sub: 'customer-3', roles: ['customer'], secret: GATEWAY_TEST_JWT_SECRET, expiresInSec: 24 * 3600 });

let cluster: TestCluster | undefined;
const clients: Client[] = [];

interface Window {
  query: number[];
  mutation: number[];
  delivery: number[];
  errors: Record<string, number>;
  maxLag: number;
}
const newWindow = (): Window => ({ query: [], mutation: [], delivery: [], errors: {}, maxLag: 0 });

/** Resident set size of a process in MB, from /proc (null once it is gone). */
function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Least-squares slope of (minute, MB) points, in MB per minute. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}

/** The largest `streamgraph_projection_lag_records` a subgraph reports now (null: no answer). */
async function maxLagOf(p: NodeProcess): Promise<number | null> {
  const text = await fetch(`http://127.0.0.1:${p.port}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text(), () => null);
  if (text === null) return null;
  let max = 0;
  for (const line of text.split('\n')) if (line.startsWith('streamgraph_projection_lag_records{')) max = Math.max(max, Number(line.slice(line.lastIndexOf(' ') + 1)) || 0);
  return max;
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`bench:soak: ${MINUTES} min in windows of ${WINDOW_MINUTES} min, ${CLIENTS} clients on ${ORDERS} orders, simulator at 10x (${SIMULATOR_FLAGS.join(' ')})`);
  cluster = await startTestCluster('soak', { ports: PORTS, baseDir: path.join(__dirname, '..', '.run', 'cluster-soak') });
  const c = cluster;
  const subgraphs: NodeProcess[] = [];
  for (const s of productSubgraphs()) subgraphs.push(...(await Promise.all([0, 1].map((i) => c.startSubgraph(s.name, i)))));
  const gateways = await Promise.all(['gateway-1', 'gateway-2'].map((n) => c.startGateway(n)));
  const processes = [...subgraphs, ...gateways];
  const simulator = c.startSimulator(Math.ceil(MINUTES * 60) + 600, SIMULATOR_FLAGS);

  const orderIds: string[] = [];
  let attempt = 0;
  while (orderIds.length < ORDERS) {
    const batch = Array.from({ length: Math.min(10, ORDERS - orderIds.length) }, () =>
      waitFor(async () => {
        // At ten times the rates the simulator's shoppers sell some products out: spread over all of them.
        const n = attempt++;
        const r = await call(gateways[0]!, customer, 'mutation($store: ID!, $product: ID!) { placeOrder(input: { storeId: $store, items: [{ productId: $product, quantity: 1 }] }) { id } }', {
          store: `store-${1 + (n % 20)}`,
          product: `product-${1 + (Math.floor(n / 20) % 200)}`,
        });
        if (r.errors) throw new Error(`placeOrder: ${r.errors[0]!.extensions?.code ?? ''} ${r.errors[0]!.message}`);
        return r.data.placeOrder.id as string;
      }, { what: 'placeOrder to succeed', timeoutMs: 120_000, intervalMs: 500 }),
    );
    orderIds.push(...(await Promise.all(batch)));
  }

  // Delivery latency: each write's estimate is unique, so a client seeing it knows when it was sent.
  const sentAt = new Map<string, number>();
  let window = newWindow();
  const windows: Array<Window & { endedAtMinute: number }> = [];
  let followed = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const order = orderIds[i % orderIds.length]!;
    const gw = gateways[i % 2]!;
    const client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: false, retryAttempts: Infinity, shouldRetry: () => true, connectionParams: { authorization: `Bearer ${staff}` } });
    clients.push(client);
    let last: string | null | undefined;
    let first = true;
    client.subscribe<{ orderUpdated: { version: number; estimatedDeliveryAt: string | null } }>(
      { query: 'subscription($id: ID!) { orderUpdated(id: $id) { version estimatedDeliveryAt } }', variables: { id: order } },
      {
        next: (v) => {
          const s = v.data?.orderUpdated;
          if (!s) return void (window.errors.subscription = (window.errors.subscription ?? 0) + 1);
          if (first) {
            first = false;
            followed++;
          }
          if (s.estimatedDeliveryAt === last) return;
          last = s.estimatedDeliveryAt;
          const at = s.estimatedDeliveryAt ? sentAt.get(s.estimatedDeliveryAt) : undefined;
          if (at !== undefined) window.delivery.push(Date.now() - at);
        },
        error: () => void (window.errors.subscription = (window.errors.subscription ?? 0) + 1),
        complete: () => undefined,
      },
    );
  }
  await waitFor(() => followed >= CLIENTS, { what: `all ${CLIENTS} clients to get their first state`, timeoutMs: 300_000, intervalMs: 500 });
  console.log(`set up in ${round((Date.now() - started) / 1000, 0)} s; measuring`);

  const measureStart = Date.now();
  const minute = () => (Date.now() - measureStart) / 60_000;
  let running = true;
  let writes = 0;
  const countError = (kind: string) => void (window.errors[kind] = (window.errors[kind] ?? 0) + 1);
  // Open-loop load: a request every 1/rate s whatever the answers' latency (at most 200 in flight).
  const inFlight = { n: 0 };
  const openLoop = (perSecond: number, one: () => Promise<void>) =>
    setInterval(() => {
      if (!running || inFlight.n >= 200) return;
      inFlight.n++;
      void one().finally(() => inFlight.n--);
    }, 1000 / perSecond);
  const mutationTimer = openLoop(MUTATIONS_PER_SECOND, async () => {
    const n = ++writes;
    const order = orderIds[n % orderIds.length]!;
    const estimate = new Date(Date.UTC(2030, 0, 1) + n * 60_000).toISOString();
    const t0 = Date.now();
    sentAt.set(estimate, t0);
    try {
      const r = await call(gateways[n % 2]!, shopper, 'mutation($id: ID!, $at: String!) { updateDeliveryEstimate(id: $id, estimatedDeliveryAt: $at) { version } }', { id: order, at: estimate });
      if (r.errors) countError(`mutation ${r.errors[0]!.extensions?.code ?? 'error'}`);
      else window.mutation.push(Date.now() - t0);
    } catch {
      countError('mutation transport');
    }
  });
  let reads = 0;
  const queryTimer = openLoop(QUERIES_PER_SECOND, async () => {
    const n = ++reads;
    const t0 = Date.now();
    try {
      const r = await call(gateways[n % 2]!, staff, 'query($id: ID!) { order(id: $id) { id status version estimatedDeliveryAt } }', { id: orderIds[n % orderIds.length] });
      if (r.errors) countError(`query ${r.errors[0]!.extensions?.code ?? 'error'}`);
      else window.query.push(Date.now() - t0);
    } catch {
      countError('query transport');
    }
  });

  const rss = new Map<string, Array<[number, number]>>(processes.map((p) => [p.name, []]));
  for (const node of c.infra.redis.nodes) rss.set(`redis-${node.port}`, []);
  const sample = async () => {
    const m = minute();
    for (const p of processes) {
      const mb = rssMb(p.pid);
      if (mb !== null) rss.get(p.name)!.push([m, mb]);
    }
    for (const node of c.infra.redis.nodes) {
      const pid = node.pid();
      const mb = pid === undefined ? null : rssMb(pid);
      if (mb !== null) rss.get(`redis-${node.port}`)!.push([m, mb]);
    }
    const lags = await Promise.all(subgraphs.map(maxLagOf));
    window.maxLag = Math.max(window.maxLag, ...lags.map((l) => l ?? 0));
    // Estimates older than a minute will not be delivered any more: keep the map bounded.
    const old = Date.now() - 60_000;
    for (const [k, t] of sentAt) if (t < old) sentAt.delete(k);
  };
  const windowCount = Math.max(1, Math.round(MINUTES / WINDOW_MINUTES));
  for (let w = 0; w < windowCount; w++) {
    const end = measureStart + (w + 1) * WINDOW_MINUTES * 60_000;
    while (Date.now() < end) {
      await sample();
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(SAMPLE_MS, end - Date.now()))));
    }
    windows.push({ ...window, endedAtMinute: round(minute(), 2) });
    const s = summary(windows.at(-1)!);
    console.log(`window ${w + 1}/${windowCount}: query p99 ${s.queryP99Ms} ms, mutation p99 ${s.mutationP99Ms} ms, delivery p99 ${s.deliveryP99Ms} ms, max lag ${s.maxLag}, errors ${JSON.stringify(s.errors)}`);
    window = newWindow();
  }
  running = false;
  clearInterval(mutationTimer);
  clearInterval(queryTimer);
  await waitFor(() => inFlight.n === 0, { what: 'the requests in flight to finish', timeoutMs: 60_000 });

  // Exact at the end: the simulator holds still, every view catches up, the orders view equals the fold of its topic.
  simulator.pause();
  await waitFor(async () => (await Promise.all(subgraphs.map(maxLagOf))).every((l) => l === 0), { what: 'every view to catch up', timeoutMs: 120_000, intervalMs: 1_000 });
  const exact = await ordersViewExact(c);
  simulator.resume();

  const perProcess = Object.fromEntries(
    [...rss].map(([name, points]) => {
      const after = points.filter(([m]) => m >= WARMUP_MINUTES);
      return [name, { firstMb: round(points[0]?.[1] ?? Number.NaN, 1), lastMb: round(points.at(-1)?.[1] ?? Number.NaN, 1), slopeMbPerMinuteAfterWarmup: round(slope(after), 3), samples: points.length }];
    }),
  );
  const summaries = windows.map((w) => ({ endedAtMinute: w.endedAtMinute, ...summary(w) }));
  const first = summaries[0]!;
  const within = (key: 'queryP99Ms' | 'mutationP99Ms' | 'deliveryP99Ms') => summaries.every((s) => s[key] <= 1.5 * first[key]);
  const targets = {
    rssSlopeUnder1MbPerMinute: Object.values(perProcess).every((p) => !(p.slopeMbPerMinuteAfterWarmup >= 1)),
    queryP99Within1_5xFirstWindow: within('queryP99Ms'),
    mutationP99Within1_5xFirstWindow: within('mutationP99Ms'),
    deliveryP99Within1_5xFirstWindow: within('deliveryP99Ms'),
    viewsExactAtEnd: exact.equal,
  };
  const result = {
    at: new Date(started).toISOString(),
    machine: machine(),
    settings: { minutes: MINUTES, windowMinutes: WINDOW_MINUTES, warmupMinutes: round(WARMUP_MINUTES, 2), clients: CLIENTS, orders: ORDERS, mutationsPerSecond: MUTATIONS_PER_SECOND, queriesPerSecond: QUERIES_PER_SECOND, simulator: SIMULATOR_FLAGS.join(' ') },
    windows: summaries,
    rss: perProcess,
    end: exact,
    targets,
  };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`targets: ${JSON.stringify(targets)}; wrote ${path.relative(process.cwd(), RESULTS)}`);
}

function summary(w: Window) {
  return {
    queries: w.query.length,
    queryP99Ms: quantile(w.query, 0.99),
    mutations: w.mutation.length,
    mutationP99Ms: quantile(w.mutation, 0.99),
    deliveries: w.delivery.length,
    deliveryP50Ms: quantile(w.delivery, 0.5),
    deliveryP99Ms: quantile(w.delivery, 0.99),
    maxLag: w.maxLag,
    errors: w.errors,
  };
}

async function ordersViewExact(c: TestCluster): Promise<{ equal: boolean; orders: number; differing: number; example?: string }> {
  const topic = `${c.namespace}${ORDERS_TOPIC.name}`;
  const base = declarationOf('orders').views.orders as unknown as Projection<typeof ORDERS_TOPIC, OrderState>;
  const projection = { ...base, name: `${c.namespace}${base.name}` };
  const redis = new Cluster(c.infra.redis.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
  try {
    const truth = truthOf(projection, await readTopic(c.env.KAFKA_BROKERS!.split(','), topic, 300_000));
    const ids = [...truth.keys()];
    const view = await readView(redis as never, projection as never, topic, ORDERS_TOPIC.partitions, ids);
    const differ = ids.filter((id) => JSON.stringify(view.get(id)) !== JSON.stringify(truth.get(id)));
    return { equal: differ.length === 0, orders: ids.length, differing: differ.length, ...(differ[0] ? { example: differ[0] } : {}) };
  } finally {
    redis.disconnect();
  }
}

runBenchmark('soak', main, async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await cluster?.stop();
});
