// Subscription benchmark: K graphql-ws clients following M orders through a gateway while
// OrderEtaUpdated events go straight to Kafka at R per second, each payload carrying fields of
// all three subgraphs. The subgraphs, the gateway under test and the clients are separate
// processes; runs on this gateway and on Hive Gateway share the subgraphs and the world but
// not their orders. Writes bench/results/subscriptions.json (see bench/subscriptions/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../gateway/supergraph/compose';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createEventProducer, type EventProducer } from '../subgraphs/runtime/producer';
import { redisFromEnv } from '../platform/redisConfig';
import { readSchemas } from '../platform/registry';
import { createNamespace } from '../test/support/namespace';
import { waitFor } from '../test/support/waitFor';
import { startChild, type ChildHandle } from './gateway/childProcess';
import { produceWorld, storeId, waitForWorld, type SubgraphUrls, type WorldSize } from './gateway/seedWorld';
import { machine, round } from './stats';
import { parseBenchOptions, type BenchOptions, type RunSpec } from './subscriptions/benchOptions';
import { deleteNamespace } from './subscriptions/namespaceCleanup';
import { readOrders } from './subscriptions/ordersView';
import { runWorkload, TRACK, type BenchStack, type RunResult } from './subscriptions/runWorkload';
import { runBenchmark } from './runBenchmark';

const IDENTITY_SECRET = 'bench-identity-secret-0123456789';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123';
const SUBGRAPHS = ['customers', 'catalog', 'orders'] as const;

const children: ChildHandle[] = [];
let namespace: string | undefined;
let supergraphFile: string | undefined;
let producer: EventProducer | undefined;

async function main() {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options.runs.length === 0) throw new Error('no runs selected');
  if (options.profileDir) fs.mkdirSync(options.profileDir, { recursive: true });
  const startedAt = Date.now();
  const loadAverageAtStart = round(os.loadavg()[0]!);
  namespace = await createNamespace('bench-subscriptions');
  const env: NodeJS.ProcessEnv = { ...process.env, STREAMGRAPH_NAMESPACE: namespace, GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET, LOG_LEVEL: 'warn' };

  // Subgraphs first, so their projections consume the world as it is produced.
  console.log(`namespace ${namespace}: starting the subgraphs`);
  const started = await Promise.all(
    SUBGRAPHS.map(async (name) => {
      const child = await startChild({
        name,
        script: path.join(__dirname, `../subgraphs/${name}/main.ts`),
        // READY_MAX_LAG=0: /ready means the views have caught up with everything produced.
        env: { ...env, [`${name.toUpperCase()}_PORT`]: '0', READY_MAX_LAG: '0' },
        ready: /subgraph ready at (\S+)/,
        // Profiled too: on a saturated machine the gateway's latency is mostly its entity fetches' wait.
        nodeArgs: options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(options.profileDir, `subgraph-${name}`)}`] : [],
      });
      children.push(child);
      return [name, child] as const;
    }),
  );
  const subgraphs = Object.fromEntries(started) as unknown as BenchStack['subgraphs'];
  const urls: SubgraphUrls = { customers: subgraphs.customers.url, catalog: subgraphs.catalog.url, orders: subgraphs.orders.url };

  // Every run gets orders of its own, so no run starts from another's versions.
  const totalOrders = options.runs.reduce((n, r) => n + r.orders, 0);
  const world: WorldSize = { stores: 3, products: 40, customers: Math.max(20, Math.ceil(totalOrders / 3)), orders: totalOrders };
  const produced = await produceWorld(namespace, world);
  console.log(`produced ${produced.events} events (${totalOrders} orders); waiting for the views`);
  await waitForWorld(urls, produced, world, IDENTITY_SECRET);
  const facts = await readOrders(urls.orders, produced.orderIds, IDENTITY_SECRET);

  // Hive Gateway serves the supergraph this gateway composes from the same registry entries.
  supergraphFile = await composeFromRegistry(namespace);
  producer = await createEventProducer(createKafka(kafkaConfigFromEnv()));
  const stack: BenchStack = {
    namespace,
    env,
    subgraphs,
    producer,
    supergraphFile,
    identitySecret: IDENTITY_SECRET,
    jwtSecret: JWT_SECRET,
    store: storeId(0),
    children,
  };

  const runs: RunResult[] = [];
  const failed: Array<RunSpec & { error: string }> = [];
  let offset = 0;
  for (const spec of options.runs) {
    const orders = facts.slice(offset, offset + spec.orders);
    offset += spec.orders;
    try {
      const result = await runWorkload(spec, orders, stack, options);
      runs.push(result);
      console.log(JSON.stringify(result));
    } catch (e) {
      console.error(`${spec.gateway} (${spec.identity}) ${spec.clients} clients / ${spec.orders} orders failed: ${(e as Error).message}`);
      failed.push({ ...spec, error: (e as Error).message });
    }
  }

  const comparisons = compare(runs);
  const result = {
    benchmark: 'subscriptions',
    measuredAt: new Date().toISOString(),
    machine: { ...machine(), loadAverage1mAtStart: loadAverageAtStart },
    setup:
      `All on one machine of ${os.cpus().length} cores shared by Kafka, Redis, the three subgraphs, the gateway under test, the client processes and this ` +
      'producer; each is its own process. Clients are raw graphql-transport-ws connections, one subscription each. identity=customer: each ' +
      "order's clients use its customer's token (several devices of one customer), so they share per order but entity fetches cannot be " +
      'batched across orders (each customer is another caller); identity=staff: every client uses one shopper token (dispatch boards), so ' +
      'entity fetches of events arriving together are batched across orders. This gateway runs in registry mode and ' +
      'verifies the JWT in connection_init; Hive Gateway 2.15.1 subscribes to the orders subgraph over graphql-ws with a fixed admin identity in ' +
      'connection_init (signed once a minute) and fetches entities over HTTP with it. Latency: per client and event produced inside the window, ' +
      'from the moment the event is handed to the Kafka producer to the client holding that version or a newer one (conflation skips versions; ' +
      'a version never received counts with the time waited, latencyCensored says how many); exactVersion* only over versions delivered as such. ' +
      'Delivered: complete payloads (customer and ' +
      'product names present) received inside the window. Lost updates: clients whose last version differs from the orders view once ' +
      'production has stopped and the drain has run. CPU: process utime+stime over the window divided by its length (1 = one core). ' +
      'upstreamSubscriptions counts the subscribes the orders subgraph accepted during the run, resubscriptions included (its graphql-ws ' +
      'server drops a peer that misses a keep-alive pong for 12 s; a gateway that falls far behind reconnects and subscribes everything again).',
    query: TRACK,
    event: 'OrderEtaUpdated, produced straight to the orders topic, round-robin over the run\'s orders, each bumping its order\'s version by one',
    world,
    windowSec: options.seconds,
    warmupSec: options.warmupSeconds,
    drainSec: options.drainSeconds,
    runs,
    comparisons,
    failed,
    runSeconds: round((Date.now() - startedAt) / 1000, 0),
  };
  const out = options.out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  printTable(runs, comparisons, options);
  console.log(`written to ${path.relative(process.cwd(), out)}`);
  if (failed.length) throw new Error(`${failed.length} run(s) failed: ${failed.map((f) => `${f.gateway} (${f.error})`).join('; ')}`);
}

async function composeFromRegistry(ns: string): Promise<string> {
  const redis = redisFromEnv();
  try {
    const entries = await waitFor(async () => {
      const all = await readSchemas(redis, ns);
      return all.length >= SUBGRAPHS.length ? all : null;
    }, { what: 'every subgraph in the registry' });
    const composition = composeSupergraph(entries);
    if (!composition.ok) throw new Error(`composition failed: ${composition.errors.join('; ')}`);
    const file = path.join(os.tmpdir(), `streamgraph-bench-${ns}graphql`);
    fs.writeFileSync(file, composition.supergraphSdl);
    return file;
  } finally {
    redis.disconnect();
  }
}

interface Comparison {
  readonly clients: number;
  readonly orders: number;
  readonly eventsPerSecond: number;
  /** Hive's figure over this gateway's: above 1 means Hive's is higher. */
  readonly hiveVsStreamgraph: { readonly latencyP99: number; readonly latencyP50: number; readonly cpu: number; readonly peakRss: number; readonly deliveredPerSecond: number; readonly upstreamSubscriptions: number };
}

/** Hive against this gateway wherever both ran the same workload. */
function compare(runs: readonly RunResult[]): Comparison[] {
  const out: Comparison[] = [];
  for (const hive of runs.filter((r) => r.gateway === 'hive')) {
    const ours = runs.find(
      (r) => r.gateway === 'streamgraph' && r.identity === hive.identity && r.clients === hive.clients && r.orders === hive.orders && r.targetEventsPerSecond === hive.targetEventsPerSecond,
    );
    if (!ours) continue;
    const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 2) : Number.NaN);
    out.push({
      clients: hive.clients,
      orders: hive.orders,
      eventsPerSecond: hive.targetEventsPerSecond,
      hiveVsStreamgraph: {
        latencyP99: ratio(hive.latencyMsP99, ours.latencyMsP99),
        latencyP50: ratio(hive.latencyMsP50, ours.latencyMsP50),
        cpu: ratio(hive.gatewayCpuCoreShare, ours.gatewayCpuCoreShare),
        peakRss: ratio(hive.gatewayPeakRssMb, ours.gatewayPeakRssMb),
        deliveredPerSecond: ratio(hive.deliveredPerSecond, ours.deliveredPerSecond),
        upstreamSubscriptions: ratio(hive.upstreamSubscriptions, ours.upstreamSubscriptions),
      },
    });
  }
  return out;
}

function printTable(runs: readonly RunResult[], comparisons: readonly Comparison[], options: BenchOptions): void {
  const header = ['gateway', 'identity', 'clients', 'orders', 'events/s', 'delivered/s', '(expected)', 'p50 ms', 'p99 ms', 'lost', 'converged s', 'incomplete', 'upstream', 'RSS MB', 'CPU cores', 'machine'];
  // A quantile that censored samples (versions never received) reach is only a lower bound.
  const bound = (r: RunResult, q: number, value: number) => (r.latencyCensored > (1 - q) * r.latencySamples ? `>=${value}` : String(value));
  const rows = runs.map((r) => [
    r.gateway,
    r.identity,
    r.clients,
    r.orders,
    r.eventsPerSecond,
    r.deliveredPerSecond,
    r.expectedDeliveredPerSecond,
    bound(r, 0.5, r.latencyMsP50),
    bound(r, 0.99, r.latencyMsP99),
    r.lostUpdates,
    r.convergedAfterSec ?? 'no',
    r.incompleteDeliveries,
    r.upstreamSubscriptions,
    r.gatewayPeakRssMb,
    r.gatewayCpuCoreShare,
    r.cpuCoreShare.wholeMachine ?? '',
  ].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${options.seconds} s window after a ${options.warmupSeconds} s warm-up; CPU in cores (1 = one core; machine = all processes, of ${os.cpus().length})`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  // Where the machine's CPU went, process by process (the budget of docs/performance.md).
  for (const r of runs)
    console.log(`${r.gateway} ${r.identity} ${r.clients}/${r.eventsPerSecond} events/s, cores: ${Object.entries(r.cpuCoreShare).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const c of comparisons)
    console.log(
      `Hive vs streamgraph at ${c.clients} clients / ${c.orders} orders / ${c.eventsPerSecond} events/s: ` +
        `p99 ${c.hiveVsStreamgraph.latencyP99}x, p50 ${c.hiveVsStreamgraph.latencyP50}x, CPU ${c.hiveVsStreamgraph.cpu}x, ` +
        `peak RSS ${c.hiveVsStreamgraph.peakRss}x, delivered/s ${c.hiveVsStreamgraph.deliveredPerSecond}x, upstream subscriptions ${c.hiveVsStreamgraph.upstreamSubscriptions}x`,
    );
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every child stopped, the namespace's topics, groups and Redis keys deleted.

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  return (cleaning ??= (async () => {
    await producer?.close().catch(() => undefined);
    const exits = await Promise.all(children.map(async (c) => [c.name, await c.stop().catch((e: Error) => e.message)] as const));
    const unclean = exits.filter(([, how]) => how !== 'code 0');
    if (unclean.length) console.warn(`not a clean exit on SIGTERM: ${unclean.map(([name, how]) => `${name} (${how})`).join(', ')}`);
    if (supergraphFile) fs.rmSync(supergraphFile, { force: true });
    if (namespace) await deleteNamespace(namespace).catch((e: Error) => console.warn(`namespace ${namespace} not fully deleted: ${e.message}`));
  })());
}

runBenchmark('subscription', main, cleanUp);
