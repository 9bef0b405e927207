// `npm run bench:ingest`: client events through the gateway's POST /events, in batches of 50.
// The customers subgraph (folding client-events into Customer 360) and the gateway run in their
// own processes on a fresh namespace; this process is the load generator. Three figures:
//   1. throughput: a closed loop of BENCH_CONCURRENCY clients, accepted events per second
//      (target >= 20,000), with the gateway's CPU per 1,000 events;
//   2. latency: an open loop at BENCH_RATE events/s (10,000 = 200 batches/s), the answer's p50
//      and p99 measured from when each batch was due, so a stalled gateway is not hidden by the
//      load generator waiting for it (target p99 <= 50 ms);
//   3. the lag of `customers.activity` (the Customer 360 view) when the load stops, and how
//      long it takes to reach zero.
// Writes bench/results/ingest.json. BENCH_PROFILE_DIR=<dir> writes the gateway's CPU profile.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'undici';
import { signDevToken } from '../gateway/token';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { findView, viewNames } from '../scripts/declarations';
import { measureViewLag } from '../subgraphs/runtime/viewLag';
import { createNamespace } from '../test/support/namespace';
import { cpuMs, peakRssMb, startChild, type ChildHandle } from './gateway/childProcess';
import { runBenchmark } from './runBenchmark';
import { busyCores, sampleMachineCpu, type CpuSample } from './subscriptions/machineCpu';
import { machine, quantile, round } from './stats';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const BATCH = env('BENCH_BATCH', 50);
// Enough clients in flight to saturate: the closed loop is bound by the broker's round trip otherwise.
const CONCURRENCY = env('BENCH_CONCURRENCY', 64);
const RATE = env('BENCH_RATE', 10_000);
const SECONDS = env('BENCH_SECONDS', 15);
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 3);
const DEVICES = 6_000;
const CUSTOMERS = 3_000;
const JWT_SECRET = 'bench-ingest-jwt-secret-0123456789abcdef';
const IDENTITY_SECRET = 'bench-ingest-identity-secret-0123456789';
const RESULT = path.join(__dirname, 'results', 'ingest.json');

let namespace = '';
const children: ChildHandle[] = [];

/** Pre-built request bodies (NDJSON of BATCH events of one device), so generating load costs little. */
function buildRequests(count: number): Array<{ body: string; authorization?: string }> {
  const tokens = Array.from({ length: CUSTOMERS }, (_, i) => `Bearer ${signDevToken({ sub: `bench-customer-${i}`, roles: ['customer'], secret: JWT_SECRET, expiresInSec: 3600 })}`);
  // Device ids as the apps make them (a random UUID behind the app's prefix), so a signed-in
  // device is claimed as in production (EVENTS_DEVICE_CLAIMS=uuid claims nothing else).
  const deviceIds = Array.from({ length: DEVICES }, () => `bench-${randomUUID()}`);
  const out: Array<{ body: string; authorization?: string }> = [];
  for (let r = 0; r < count; r++) {
    const device = r % DEVICES;
    // Half the devices belong to signed-in customers; the rest browse anonymously.
    const authorization = device % 2 === 0 ? tokens[(device / 2) % CUSTOMERS] : undefined;
    const base = { deviceId: deviceIds[device], clientTimestamp: new Date().toISOString(), app: device % 3 === 0 ? 'ios' : 'web', appVersion: '5.1.0' };
    const events: unknown[] = [];
    for (let i = 0; i < BATCH; i++) {
      const product = `prod-${(r * 7 + i * 13) % 500}`;
      const k = (r + i) % 10;
      if (i === 0) events.push({ type: 'app_open', ...base });
      else if (k < 6) events.push({ type: 'product_view', ...base, productId: product });
      else if (k < 8) events.push({ type: 'search', ...base, query: `query ${k} ${i % 17}` });
      else if (k < 9) events.push({ type: 'add_to_cart', ...base, productId: product, quantity: 1 + (i % 3) });
      else events.push({ type: 'remove_from_cart', ...base, productId: product });
    }
    out.push({ body: events.map((e) => JSON.stringify(e)).join('\n'), authorization });
  }
  return out;
}

/**
 * Where the CPU went over a window: the whole machine, the gateway, the customers subgraph and
 * this load generator. On two shared cores a figure means little without knowing whether the
 * machine was saturated, and by whom (anything left over is Kafka, Redis and other work).
 */
function cpuWindow(gatewayPid: number, customersPid: number) {
  const start = { machine: sampleMachineCpu(), gateway: cpuMs(gatewayPid), customers: cpuMs(customersPid), self: process.cpuUsage(), at: performance.now() };
  return () => {
    const seconds = (performance.now() - start.at) / 1000;
    const self = process.cpuUsage(start.self);
    const cores = (ms: number) => round(ms / 1000 / seconds);
    return {
      machineBusyCores: round(busyCores(start.machine as CpuSample, sampleMachineCpu(), os.cpus().length)),
      gatewayCores: cores(cpuMs(gatewayPid) - start.gateway),
      customersSubgraphCores: cores(cpuMs(customersPid) - start.customers),
      loadGeneratorCores: cores((self.user + self.system) / 1000),
      loadAverage: round(os.loadavg()[0]),
    };
  };
}

interface Sent {
  readonly status: number;
  readonly accepted: number;
  readonly ms: number;
  readonly error?: string;
}

function sender(url: string, connections: number) {
  const origin = new URL(url);
  const pool = new Pool(origin.origin, { connections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const send = async (req: { body: string; authorization?: string }, since = performance.now()): Promise<Sent> => {
    try {
      const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
      if (req.authorization) headers.authorization = req.authorization;
      const res = await pool.request({ path: origin.pathname, method: 'POST', headers, body: req.body });
      const text = await res.body.text();
      const ms = performance.now() - since;
      if (res.statusCode !== 200) return { status: res.statusCode, accepted: 0, ms, error: text.slice(0, 200) };
      return { status: 200, accepted: (JSON.parse(text) as { accepted: number }).accepted, ms };
    } catch (e) {
      return { status: 0, accepted: 0, ms: performance.now() - since, error: (e as Error).message };
    }
  };
  return { send, close: () => pool.close() };
}

/** Closed loop: each client sends its next batch as soon as the last one is answered. */
async function throughput(url: string, pid: number, requests: ReturnType<typeof buildRequests>) {
  const { send, close } = sender(url, CONCURRENCY);
  let next = 0;
  let phase: 'warmup' | 'measuring' | 'done' = 'warmup';
  let accepted = 0;
  let batches = 0;
  let errors = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];
  let cpu0 = 0;
  let t0 = 0;
  let cpu1 = 0;
  let t1 = 0;
  const worker = async () => {
    while (phase !== 'done') {
      const r = await send(requests[next++ % requests.length]);
      if (phase !== 'measuring') continue;
      if (r.status !== 200) {
        errors++;
        firstError ??= `HTTP ${r.status}: ${r.error}`;
        continue;
      }
      batches++;
      accepted += r.accepted;
      latencies.push(r.ms);
    }
  };
  const timers = [
    setTimeout(() => ((cpu0 = cpuMs(pid)), (t0 = performance.now()), (phase = 'measuring')), WARMUP_SECONDS * 1000),
    setTimeout(() => ((cpu1 = cpuMs(pid)), (t1 = performance.now()), (phase = 'done')), (WARMUP_SECONDS + SECONDS) * 1000),
  ];
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  timers.forEach(clearTimeout);
  await close();
  const seconds = (t1 - t0) / 1000;
  return {
    concurrency: CONCURRENCY,
    seconds: round(seconds),
    acceptedEvents: accepted,
    acceptedEventsPerSecond: round(accepted / seconds, 0),
    batchesPerSecond: round(batches / seconds, 1),
    errors,
    firstError,
    answerMs: { p50: round(quantile(latencies, 0.5)), p99: round(quantile(latencies, 0.99)), max: round(Math.max(...latencies)) },
    gatewayCpuCores: round((cpu1 - cpu0) / 1000 / seconds),
    gatewayCpuMsPer1000Events: round(((cpu1 - cpu0) / accepted) * 1000),
  };
}

/** Open loop: batches due at a fixed rate, each timed from when it was due. */
async function latencyAt(url: string, pid: number, requests: ReturnType<typeof buildRequests>, eventsPerSecond: number) {
  const { send, close } = sender(url, 64);
  const perSecond = eventsPerSecond / BATCH;
  const intervalMs = 1000 / perSecond;
  const total = Math.round(perSecond * (WARMUP_SECONDS + SECONDS));
  const warmup = Math.round(perSecond * WARMUP_SECONDS);
  const results: Sent[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let cpu0 = 0;
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (i === warmup) cpu0 = cpuMs(pid);
    const measured = i >= warmup;
    inFlight.push(send(requests[i % requests.length], due).then((r) => void (measured && results.push(r))));
  }
  await Promise.all(inFlight);
  const cpu1 = cpuMs(pid);
  await close();
  const ok = results.filter((r) => r.status === 200);
  const seconds = SECONDS;
  return {
    targetEventsPerSecond: eventsPerSecond,
    seconds,
    acceptedEventsPerSecond: round(ok.reduce((a, r) => a + r.accepted, 0) / seconds, 0),
    batches: results.length,
    errors: results.length - ok.length,
    firstError: results.find((r) => r.status !== 200)?.error ?? null,
    answerMs: {
      p50: round(quantile(ok.map((r) => r.ms), 0.5)),
      p90: round(quantile(ok.map((r) => r.ms), 0.9)),
      p99: round(quantile(ok.map((r) => r.ms), 0.99)),
      max: round(Math.max(...ok.map((r) => r.ms))),
    },
    gatewayCpuCores: round((cpu1 - cpu0) / 1000 / seconds),
  };
}

async function main() {
  const startedAt = new Date();
  const loadAverageAtStart = round(os.loadavg()[0]);
  namespace = await createNamespace('bench-ingest');
  const baseEnv = { ...process.env, STREAMGRAPH_NAMESPACE: namespace, GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET, LOG_LEVEL: 'warn' };
  console.log(`namespace ${namespace}: starting the customers subgraph and the gateway`);
  const customers = await startChild({
    name: 'customers',
    script: path.join(__dirname, '../subgraphs/customers/main.ts'),
    env: { ...baseEnv, CUSTOMERS_PORT: '0', SUBGRAPH_PUBLISH_ON_START: 'never' },
    ready: /subgraph ready at (\S+)/,
  });
  children.push(customers);
  const nodeArgs = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const gateway = await startChild({
    name: 'gateway',
    script: path.join(__dirname, '../gateway/main.ts'),
    // The ingest path needs no supergraph from the registry: the checked-in one serves.
    env: {
      ...baseEnv,
      PORT: '0',
      SUPERGRAPH_SOURCE: 'file',
      JWT_SECRET,
      // The load comes from one address: its own limit is not what is measured here.
      EVENTS_ADDRESS_RATE_PER_MINUTE: '1000000000',
    },
    ready: /ready at (\S+)/,
    nodeArgs,
  });
  children.push(gateway);
  const eventsUrl = gateway.url.replace(/\/graphql$/, '/events');
  const requests = buildRequests(6_000);
  // A smoke test: one batch is taken whole.
  const smoke = await sender(eventsUrl, 1).send(requests[0]);
  if (smoke.status !== 200 || smoke.accepted !== BATCH) throw new Error(`the smoke batch was not taken: ${JSON.stringify(smoke)}`);

  console.log(`throughput: closed loop, ${CONCURRENCY} clients, batches of ${BATCH}, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`);
  const maxCpu = cpuWindow(gateway.pid, customers.pid);
  const max = { ...(await throughput(eventsUrl, gateway.pid, requests)), cpu: {} as ReturnType<ReturnType<typeof cpuWindow>> };
  max.cpu = maxCpu();
  console.log(`  ${max.acceptedEventsPerSecond} accepted events/s, answer p50 ${max.answerMs.p50} ms p99 ${max.answerMs.p99} ms, ${max.errors} errors; cores: ${JSON.stringify(max.cpu)}`);

  console.log(`latency: open loop at ${RATE} events/s`);
  const steadyCpu = cpuWindow(gateway.pid, customers.pid);
  const steady = { ...(await latencyAt(eventsUrl, gateway.pid, requests, RATE)), cpu: {} as ReturnType<ReturnType<typeof cpuWindow>> };
  steady.cpu = steadyCpu();
  console.log(`  answer p50 ${steady.answerMs.p50} ms, p99 ${steady.answerMs.p99} ms, ${steady.acceptedEventsPerSecond} accepted/s, ${steady.errors} errors; cores: ${JSON.stringify(steady.cpu)}`);

  // The Customer 360 view after the load: its lag now, and how long until it has everything.
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  const target = viewNames(findView('customers.activity')!, namespace);
  const lagNow = async () => (await measureViewLag({ admin, redis, views: [target] }))[0].lag ?? Number.NaN;
  const loadEnded = performance.now();
  const lagAtEnd = await lagNow();
  let lag = lagAtEnd;
  while (lag > 0 && performance.now() - loadEnded < 180_000) {
    await new Promise((r) => setTimeout(r, 250));
    lag = await lagNow();
  }
  const drainSeconds = lag === 0 ? round((performance.now() - loadEnded) / 1000) : null;
  console.log(`customers.activity: lag ${lagAtEnd} records when the load stopped, ${drainSeconds === null ? `still ${lag} after 180 s` : `0 after ${drainSeconds} s`}`);
  await admin.disconnect();
  redis.disconnect();

  const result = {
    benchmark: 'ingest',
    startedAt: startedAt.toISOString(),
    machine: machine(),
    loadAverageAtStart,
    loadAverageAtEnd: round(os.loadavg()[0]),
    note: 'The gateway, the customers subgraph (folding the events), Kafka, Redis and the load generator share the machine; other engineers\' work shared the CPU during the run.',
    setup: { batch: BATCH, devices: DEVICES, customers: CUSTOMERS, signedInShare: 0.5, topicPartitions: 12 },
    throughput: max,
    latency: steady,
    customer360: { view: 'customers.activity', lagAtEndRecords: lagAtEnd, drainSeconds, lagAfterDrain: lag },
    gatewayPeakRssMb: peakRssMb(gateway.pid),
    targets: {
      acceptedEventsPerSecond: { target: 20_000, met: max.acceptedEventsPerSecond >= 20_000 },
      p99AtTenThousandMs: { target: 50, met: RATE === 10_000 && steady.answerMs.p99 <= 50 },
    },
  };
  fs.mkdirSync(path.dirname(RESULT), { recursive: true });
  fs.writeFileSync(RESULT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${RESULT}`);
}

async function cleanUp() {
  await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  if (!namespace) return;
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(namespace)) }).catch(() => undefined);
  await admin.disconnect();
}

runBenchmark('ingest', main, cleanUp);
