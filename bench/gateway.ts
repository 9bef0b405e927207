// Gateway benchmark: the same three subgraphs (each its own process, in a fresh namespace,
// seeded with a fixed world) behind this gateway, Apollo Gateway and Hive Gateway, each its own
// process; one query that spans all three subgraphs under a closed loop, gateways interleaved
// round-robin, medians over the rounds. Writes bench/results/gateway.json.
// BENCH_TRACING=1 compares this gateway with tracing off and on (1% sampling) instead, and with
// BENCH_BASELINE_REF the gateway as it was at that commit: bench/results/gateway-tracing.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signDevToken } from '../gateway/token';
import { composeSupergraph } from '../gateway/supergraph/compose';
import { IDENTITY_HEADER, signIdentity } from '../platform/identity';
import { createNamespace } from '../test/support/namespace';
import { BENCH_ADMIN } from './gateway/adminIdentity';
import { startChild, peakRssMb, type ChildHandle } from './gateway/childProcess';
import { runClosedLoop, type WindowResult } from './gateway/closedLoop';
import { produceWorld, waitForWorld, type SubgraphUrls, type WorldSize } from './gateway/seedWorld';
import { startSpanSink, treeAt, type SpanSink } from './gateway/tracingMode';
import { machine, quantile, round } from './stats';
import { runBenchmark } from './runBenchmark';
import { deleteNamespace } from './subscriptions/namespaceCleanup';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
// The tracing comparison looks for differences of a few percent: more, shorter rounds.
const SECONDS = Number(process.env.BENCH_SECONDS ?? (process.env.BENCH_TRACING === '1' ? 8 : 12));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (process.env.BENCH_TRACING === '1' ? 6 : 3));
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
/** The first window of each gateway warms up longer: JIT, query plan caches, connection pools. */
const FIRST_WARMUP_SECONDS = Number(process.env.BENCH_FIRST_WARMUP_SECONDS ?? 5);
const WORLD: WorldSize = { stores: 20, products: 200, customers: 200, orders: 2000 };
const IDENTITY_SECRET = 'bench-identity-secret-0123456789';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123';

const QUERY =
  'query BenchOrder($id: ID!, $store: ID!) { order(id: $id) { id status totalCents customer { name orderCount } ' +
  'items { quantity product { name priceCents availability(storeId: $store) { quantity status } } } } }';

/** streamgraph-apollo-planner: this gateway on @apollo/gateway's planner and executor (GATEWAY_QUERY_PLANNER=apollo), the path before the Rust planner. */
type GatewayName = 'streamgraph' | 'streamgraph-apollo-planner' | 'apollo-gateway' | 'hive-gateway' | 'streamgraph-traced-1pct' | 'streamgraph-baseline';
/**
 * BENCH_TRACING=1: this gateway with tracing off, the same with tracing on at 1% sampling
 * exporting to a Zipkin-compatible sink, and (BENCH_BASELINE_REF) the gateway at that commit;
 * BENCH_TREE_REF runs the subgraphs and the first two from that commit instead of the working tree.
 */
const TRACING = process.env.BENCH_TRACING === '1';
const BASELINE_REF = process.env.BENCH_BASELINE_REF;
const TREE_REF = process.env.BENCH_TREE_REF;
const GATEWAYS: readonly GatewayName[] = TRACING
  ? ['streamgraph', 'streamgraph-traced-1pct', ...(BASELINE_REF ? (['streamgraph-baseline'] as const) : [])]
  : ['streamgraph', 'streamgraph-apollo-planner', 'apollo-gateway', 'hive-gateway'];
const isOurs = (name: GatewayName) => name.startsWith('streamgraph');

interface Contender {
  readonly name: GatewayName;
  readonly process: ChildHandle;
  /** What the client sends: our gateway authenticates a JWT; the others forward a fixed admin. */
  readonly headers: Record<string, string>;
}

interface RoundFigures {
  readonly round: number;
  readonly gateway: GatewayName;
  readonly requests: number;
  readonly errors: number;
  readonly warmupErrors: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMsPerRequest: number;
}

const children: ChildHandle[] = [];
let namespace: string | undefined;
let supergraphFile: string | undefined;
let sink: SpanSink | undefined;

async function main() {
  const startedAt = Date.now();
  const loadAverageAtStart = round(os.loadavg()[0]);
  namespace = await createNamespace('bench-gateway');
  const baseEnv = { ...process.env, STREAMGRAPH_NAMESPACE: namespace, GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET, LOG_LEVEL: 'warn' };
  const tree = TREE_REF ? treeAt(TREE_REF) : null;
  const baseline = TRACING && BASELINE_REF ? treeAt(BASELINE_REF) : null;
  const codeRoot = tree?.dir ?? path.join(__dirname, '..');
  if (tree) console.log(`code under test: ${TREE_REF} (${tree.commit})`);
  if (baseline) console.log(`baseline: ${BASELINE_REF} (${baseline.commit})`);

  // Subgraphs first, so their projections consume the world as it is produced.
  console.log(`namespace ${namespace}: starting the subgraphs`);
  const subgraphList = await Promise.all(
    (['customers', 'catalog', 'orders'] as const).map(async (name) => {
      const child = await startChild({
        name,
        script: path.join(codeRoot, `subgraphs/${name}/main.ts`),
        // READY_MAX_LAG=0: /ready means the views have caught up with everything produced.
        env: { ...baseEnv, [`${name.toUpperCase()}_PORT`]: '0', READY_MAX_LAG: '0' },
        ready: /subgraph ready at (\S+)/,
      });
      children.push(child);
      return [name, child.url] as const;
    }),
  );
  const subgraphs = Object.fromEntries(subgraphList) as unknown as SubgraphUrls;
  const world = await produceWorld(namespace, WORLD);
  console.log(`produced ${world.events} events; waiting for the views`);
  await waitForWorld(subgraphs, world, WORLD, IDENTITY_SECRET);

  // One supergraph for all three gateways, composed from what the running subgraphs serve.
  const sdls = await Promise.all(
    subgraphList.map(async ([name, url]) => ({ name, url, sdl: await serviceSdl(url) })),
  );
  const composition = composeSupergraph(sdls);
  if (!composition.ok) throw new Error(`composition failed: ${composition.errors.join('; ')}`);
  supergraphFile = path.join(os.tmpdir(), `streamgraph-bench-${namespace}graphql`);
  fs.writeFileSync(supergraphFile, composition.supergraphSdl);

  console.log('starting the gateways');
  const gatewayEnv: NodeJS.ProcessEnv = { ...baseEnv, SUPERGRAPH_FILE: supergraphFile, PORT: '0' };
  // Apollo's libraries report to a vendor when these are present; none of the contenders may.
  for (const key of ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT']) delete gatewayEnv[key];
  const contenders: Contender[] = [];
  for (const name of GATEWAYS) {
    const script =
      isOurs(name)
        ? path.join(name === 'streamgraph-baseline' ? baseline!.dir : codeRoot, 'gateway/main.ts')
        : path.join(__dirname, 'gateway', name === 'apollo-gateway' ? 'apolloGateway.ts' : 'hiveGateway.ts');
    // The traced gateway keeps 1% of its requests and exports them the way a deployment would
    // (batched Zipkin JSON over HTTP), to a sink that only counts them.
    if (name === 'streamgraph-traced-1pct') sink ??= await startSpanSink();
    const tracing =
      name === 'streamgraph-traced-1pct'
        ? { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: sink!.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }
        : {};
    const env =
      isOurs(name)
        ? { ...gatewayEnv, SUPERGRAPH_SOURCE: 'file', JWT_SECRET, GATEWAY_QUERY_PLANNER: name === 'streamgraph-apollo-planner' ? 'apollo' : 'hive', ...tracing }
        : { ...gatewayEnv, APOLLO_TELEMETRY_DISABLED: '1' };
    // BENCH_PROFILE_DIR=<dir> writes a CPU profile of this gateway's process there (on exit).
    // BENCH_PROFILE_GATEWAY names others of ours to profile, comma-separated (e.g. streamgraph,streamgraph-traced-1pct), each into its own folder.
    const profiled = process.env.BENCH_PROFILE_GATEWAY?.split(',');
    const nodeArgs =
      process.env.BENCH_PROFILE_DIR && (profiled ? profiled.includes(name) : name === 'streamgraph')
        ? ['--cpu-prof', `--cpu-prof-dir=${profiled ? path.join(process.env.BENCH_PROFILE_DIR, name) : process.env.BENCH_PROFILE_DIR}`]
        : [];
    const child = await startChild({ name, script, env, ready: /ready at (\S+)/, nodeArgs });
    children.push(child);
    const headers: Record<string, string> =
      isOurs(name) ? { authorization: `Bearer ${signDevToken({ sub: BENCH_ADMIN.sub!, roles: BENCH_ADMIN.roles, secret: JWT_SECRET })}` } : {};
    contenders.push({ name, process: child, headers });
  }
  for (const c of contenders) await smokeTest(c);

  const perRound: RoundFigures[] = [];
  const firstErrors = new Map<GatewayName, string>();
  for (let n = 1; n <= ROUNDS; n++) {
    // The tracing comparison starts each round with the next gateway, so none is always first
    // after the others' load (or always last before it).
    const order = TRACING ? [...contenders.slice((n - 1) % contenders.length), ...contenders.slice(0, (n - 1) % contenders.length)] : contenders;
    for (const c of order) {
      const result = await runClosedLoop({
        url: c.process.url,
        headers: c.headers,
        concurrency: CONCURRENCY,
        warmupSeconds: n === 1 ? FIRST_WARMUP_SECONDS : WARMUP_SECONDS,
        seconds: SECONDS,
        pid: c.process.pid,
        next: nextRequest,
        isSuccess,
      });
      if (result.firstError && !firstErrors.has(c.name)) firstErrors.set(c.name, result.firstError);
      const figures = roundFigures(n, c.name, result);
      perRound.push(figures);
      console.log(
        `round ${n} ${c.name.padEnd(14)} ${figures.rps} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  ` +
          `${figures.cpuMsPerRequest} CPU ms/req  errors ${figures.errors} (+${figures.warmupErrors} in warm-up)`,
      );
    }
  }

  if (TRACING) return writeTracingResult({ perRound, contenders, firstErrors, startedAt, loadAverageAtStart, tree: tree?.commit ?? 'working tree', baseline: baseline?.commit ?? null });

  const median = (name: GatewayName, key: 'rps' | 'p50' | 'p99' | 'cpuMsPerRequest') =>
    round(quantile(perRound.filter((r) => r.gateway === name).map((r) => r[key]), 0.5), key === 'rps' ? 1 : 3);
  const gateways = Object.fromEntries(
    contenders.map((c) => {
      const rounds = perRound.filter((r) => r.gateway === c.name);
      return [
        c.name,
        {
          rps: median(c.name, 'rps'),
          p50: median(c.name, 'p50'),
          p99: median(c.name, 'p99'),
          cpuMsPerRequest: median(c.name, 'cpuMsPerRequest'),
          // VmHWM only grows, so reading it after the last round gives the peak of the whole run.
          peakRssMb: round(peakRssMb(c.process.pid), 1),
          errors: rounds.reduce((n, r) => n + r.errors + r.warmupErrors, 0),
        },
      ];
    }),
  ) as Record<GatewayName, { rps: number; p50: number; p99: number; cpuMsPerRequest: number; peakRssMb: number; errors: number }>;
  const ours = gateways.streamgraph;
  const ownApolloPlanner = gateways['streamgraph-apollo-planner'];
  const apollo = gateways['apollo-gateway'];
  const hive = gateways['hive-gateway'];
  const ratios = {
    // The Rust planner and own executor against the same gateway on @apollo/gateway's (issue: not slower).
    rpsVsOwnApolloPlanner: round(ours.rps / ownApolloPlanner.rps),
    cpuVsOwnApolloPlanner: round(ours.cpuMsPerRequest / ownApolloPlanner.cpuMsPerRequest),
    p99VsOwnApolloPlanner: round(ours.p99 / ownApolloPlanner.p99),
    rpsVsApollo: round(ours.rps / apollo.rps),
    rpsVsHive: round(ours.rps / hive.rps),
    cpuVsApollo: round(ours.cpuMsPerRequest / apollo.cpuMsPerRequest),
    cpuVsHive: round(ours.cpuMsPerRequest / hive.cpuMsPerRequest),
    p99VsApollo: round(ours.p99 / apollo.p99),
    p99VsHive: round(ours.p99 / hive.p99),
  };
  const flagged = GATEWAYS.filter((g) => gateways[g].errors > 0);
  const result = {
    benchmark: 'gateway',
    measuredAt: new Date().toISOString(),
    machine: { ...machine(), loadAverage1mAtStart: loadAverageAtStart },
    query: QUERY,
    variables: `order id: one of ${WORLD.orders}, store id: one of ${WORLD.stores}, random, never the same pair twice in flight`,
    world: WORLD,
    concurrency: CONCURRENCY,
    secondsPerWindow: SECONDS,
    rounds: ROUNDS,
    gateways,
    ratios,
    targets: { rpsVsOwnApolloPlanner: '>= 1 (not slower than before the planner change)', rpsVsApollo: '>= 1.5', rpsVsHive: '>= 1', cpuVsApollo: '<= 0.6', p99: 'no worse than either' },
    met: {
      rpsVsOwnApolloPlanner: ratios.rpsVsOwnApolloPlanner >= 1,
      rpsVsApollo: ratios.rpsVsApollo >= 1.5,
      rpsVsHive: ratios.rpsVsHive >= 1,
      cpuVsApollo: ratios.cpuVsApollo <= 0.6,
      p99: ratios.p99VsApollo <= 1 && ratios.p99VsHive <= 1,
    },
    // A gateway listed here answered some requests with errors (or wrong data); its figures are suspect.
    flagged: Object.fromEntries(flagged.map((g) => [g, firstErrors.get(g) ?? 'errors'])),
    perRound,
    setup:
      'Each gateway and subgraph is its own Node process; the load generator, Kafka and Redis share the same cores. ' +
      'streamgraph verifies an HS256 JWT and signs the identity per request; Apollo and Hive forward a fixed admin identity signed once a minute. ' +
      'Latencies are of successful requests finishing inside the window; CPU is the gateway process\'s utime+stime over the window divided by the requests finished in it.',
    runSeconds: round((Date.now() - startedAt) / 1000, 0),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = path.join(__dirname, 'results', 'gateway.json');
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`written to ${path.relative(process.cwd(), out)}`);
  if (flagged.length) console.log(`flagged (answered with errors): ${flagged.join(', ')}`);
}

/** The tracing comparison's figures: medians per gateway and the ratios the targets name. */
function writeTracingResult(run: {
  perRound: RoundFigures[];
  contenders: Contender[];
  firstErrors: Map<GatewayName, string>;
  startedAt: number;
  loadAverageAtStart: number;
  tree: string;
  baseline: string | null;
}): void {
  const { perRound, contenders } = run;
  const median = (name: GatewayName, key: 'rps' | 'p50' | 'p99' | 'cpuMsPerRequest') =>
    round(quantile(perRound.filter((r) => r.gateway === name).map((r) => r[key]), 0.5), key === 'rps' ? 1 : 3);
  const gateways = Object.fromEntries(
    contenders.map((c) => {
      const rounds = perRound.filter((r) => r.gateway === c.name);
      return [
        c.name,
        {
          rps: median(c.name, 'rps'),
          p50: median(c.name, 'p50'),
          p99: median(c.name, 'p99'),
          cpuMsPerRequest: median(c.name, 'cpuMsPerRequest'),
          peakRssMb: round(peakRssMb(c.process.pid), 1),
          errors: rounds.reduce((n, r) => n + r.errors + r.warmupErrors, 0),
        },
      ];
    }),
  ) as Partial<Record<GatewayName, { rps: number; p50: number; p99: number; cpuMsPerRequest: number; peakRssMb: number; errors: number }>>;
  const off = gateways.streamgraph!;
  const on = gateways['streamgraph-traced-1pct']!;
  const before = gateways['streamgraph-baseline'];
  // "Today" is the gateway before tracing when it ran beside; otherwise tracing off stands in for it.
  const today = before ?? off;
  // Per round, against the same round's other windows (the same minute of the machine's other
  // load), then the median over rounds: steadier than ratios of medians on a shared machine.
  const paired = (a: GatewayName, b: GatewayName, key: 'rps' | 'cpuMsPerRequest') => {
    const per = [...new Set(perRound.map((r) => r.round))].map((n) => {
      const x = perRound.find((r) => r.round === n && r.gateway === a);
      const y = perRound.find((r) => r.round === n && r.gateway === b);
      return x && y ? x[key] / y[key] : NaN;
    });
    return round(quantile(per.filter((v) => !Number.isNaN(v)), 0.5), 3);
  };
  const pairedRatios = {
    offRpsVsBaseline: before ? paired('streamgraph', 'streamgraph-baseline', 'rps') : null,
    offCpuVsBaseline: before ? paired('streamgraph', 'streamgraph-baseline', 'cpuMsPerRequest') : null,
    onRpsVsToday: paired('streamgraph-traced-1pct', before ? 'streamgraph-baseline' : 'streamgraph', 'rps'),
    onCpuVsToday: paired('streamgraph-traced-1pct', before ? 'streamgraph-baseline' : 'streamgraph', 'cpuMsPerRequest'),
    onRpsVsOff: paired('streamgraph-traced-1pct', 'streamgraph', 'rps'),
    onCpuVsOff: paired('streamgraph-traced-1pct', 'streamgraph', 'cpuMsPerRequest'),
  };
  const ratios = {
    offRpsVsBaseline: before ? round(off.rps / before.rps, 3) : null,
    offCpuVsBaseline: before ? round(off.cpuMsPerRequest / before.cpuMsPerRequest, 3) : null,
    onRpsVsToday: round(on.rps / today.rps, 3),
    onRpsVsOff: round(on.rps / off.rps, 3),
    onCpuVsOff: round(on.cpuMsPerRequest / off.cpuMsPerRequest, 3),
  };
  const exported = sink?.counts() ?? { spans: 0, traces: 0 };
  const tracedRequests = perRound.filter((r) => r.gateway === 'streamgraph-traced-1pct').reduce((n, r) => n + r.requests, 0);
  const result = {
    benchmark: 'gateway-tracing',
    measuredAt: new Date().toISOString(),
    machine: { ...machine(), loadAverage1mAtStart: run.loadAverageAtStart },
    code: { underTest: run.tree, baseline: run.baseline },
    query: QUERY,
    world: WORLD,
    concurrency: CONCURRENCY,
    secondsPerWindow: SECONDS,
    rounds: ROUNDS,
    tracing: {
      'streamgraph': 'tracing off (OTEL_TRACES_EXPORTER unset)',
      'streamgraph-traced-1pct': 'OTEL_TRACES_EXPORTER=zipkin to a local sink, OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.01',
      ...(run.baseline ? { 'streamgraph-baseline': `the gateway at ${run.baseline}, before tracing` } : {}),
    },
    gateways,
    ratios,
    pairedRatios,
    // Traces the sink received against the traced gateway's measured requests (warm-ups and the smoke test also count in the traces).
    exported: { ...exported, measuredRequests: tracedRequests, tracedShare: round(exported.traces / Math.max(1, tracedRequests), 4) },
    targets: { offRpsVsBaseline: '>= 0.97', onRpsVsToday: '>= 0.90' },
    // Judged on the paired ratios (see above).
    met: {
      offRpsVsBaseline: pairedRatios.offRpsVsBaseline === null ? null : pairedRatios.offRpsVsBaseline >= 0.97,
      onRpsVsToday: pairedRatios.onRpsVsToday >= 0.9,
    },
    flagged: Object.fromEntries(GATEWAYS.filter((g) => (gateways[g]?.errors ?? 0) > 0).map((g) => [g, run.firstErrors.get(g) ?? 'errors'])),
    perRound,
    setup:
      'Each gateway and subgraph is its own Node process; the load generator, Kafka and Redis share the same cores. ' +
      'The subgraphs run with tracing off for every contender, so the figures are the gateway\'s cost alone. ' +
      'Latencies are of successful requests finishing inside the window; CPU is the gateway process\'s utime+stime over the window divided by the requests finished in it.',
    runSeconds: round((Date.now() - run.startedAt) / 1000, 0),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = path.join(__dirname, 'results', 'gateway-tracing.json');
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`written to ${path.relative(process.cwd(), out)}`);
}

// ---------------------------------------------------------------------------------------------
// Requests

const inFlight = new Set<string>();

/** Random variables, but never a pair already in flight: no gateway can answer two requests with one fetch. */
function nextRequest() {
  let key: string;
  let id: string;
  let store: string;
  do {
    id = `order-${Math.floor(Math.random() * WORLD.orders)}`;
    store = `store-${Math.floor(Math.random() * WORLD.stores)}`;
    key = `${id}|${store}`;
  } while (inFlight.has(key));
  inFlight.add(key);
  return { body: JSON.stringify({ query: QUERY, variables: { id, store } }), release: () => inFlight.delete(key) };
}

/** No errors, and every field the seeded world has: a gateway that drops data does not look fast. */
function isSuccess(body: unknown): boolean {
  const b = body as { data?: { order?: OrderResult | null }; errors?: unknown[] } | undefined;
  const order = b?.data?.order;
  if (!b || (b.errors && b.errors.length > 0) || !order || !order.customer) return false;
  return order.items.length > 0 && order.items.every((i) => i.product !== null && i.product.availability !== null);
}

interface OrderResult {
  customer: { name: string } | null;
  items: Array<{ product: { availability: unknown } | null }>;
}

/** One request through a gateway before measuring: a broken set-up fails here, loudly. */
async function smokeTest(c: Contender): Promise<void> {
  const req = nextRequest();
  try {
    const res = await fetch(c.process.url, { method: 'POST', headers: { 'content-type': 'application/json', ...c.headers }, body: req.body });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.status !== 200 || !isSuccess(body)) console.warn(`${c.name}: the smoke-test request failed (HTTP ${res.status}): ${text.slice(0, 500)}`);
  } finally {
    req.release();
  }
}

function roundFigures(n: number, gateway: GatewayName, r: WindowResult): RoundFigures {
  return {
    round: n,
    gateway,
    requests: r.requests,
    errors: r.errors,
    warmupErrors: r.warmupErrors,
    rps: round(r.requests / r.seconds, 1),
    p50: round(quantile(r.latencies, 0.5), 3),
    p99: round(quantile(r.latencies, 0.99), 3),
    cpuMsPerRequest: round(r.cpuMs / Math.max(1, r.requests), 3),
  };
}

async function serviceSdl(url: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: signIdentity(BENCH_ADMIN, IDENTITY_SECRET) },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const body = (await res.json()) as { data?: { _service?: { sdl?: string } } };
  const sdl = body.data?._service?.sdl;
  if (!sdl) throw new Error(`${url} did not return its SDL (HTTP ${res.status})`);
  return sdl;
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every child stopped, and what the namespace left (topics, groups, views, catalog sources) deleted.

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  return (cleaning ??= (async () => {
    const exits = await Promise.all(children.map(async (c) => [c.name, await c.stop().catch((e: Error) => e.message)] as const));
    const unclean = exits.filter(([, how]) => how !== 'code 0');
    if (unclean.length) console.warn(`not a clean exit on SIGTERM: ${unclean.map(([name, how]) => `${name} (${how})`).join(', ')}`);
    if (supergraphFile) fs.rmSync(supergraphFile, { force: true });
    await sink?.close();
    if (namespace) await deleteNamespace(namespace).catch((e: Error) => console.warn(`namespace ${namespace} not fully deleted: ${e.message}`));
  })());
}

runBenchmark('gateway', main, cleanUp);
