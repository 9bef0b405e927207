// Mutation benchmark: placeOrder against the orders subgraph (its own process) at a steady
// rate, each answer read from the view after the projection applied the event
// (read-your-writes included), and how long each placed order then takes to be CONFIRMED by
// the store's inventory (the catalog subgraph in its own process: router, inventory view,
// outcome relay, the orders subgraph's confirmation relay; docs/reservations.md).
// Writes bench/results/mutations.json.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CATALOG_INVENTORY_TOPIC, CATALOG_PRODUCTS_CDC_TOPIC, createEvent, debeziumRecord } from '../schema/events';
import { IDENTITY_HEADER, signIdentity } from '../platform/identity';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createEventProducer } from '../subgraphs/runtime/producer';
import { createNoticeHub } from '../subgraphs/runtime/noticeHub';
import type { OrderState } from '../subgraphs/orders/projection';
import { redisFromEnv } from '../platform/redisConfig';
import { removeRunCatalogSources } from '../test/support/catalogDatabase';
import { createNamespace } from '../test/support/namespace';
import { machine, quantile, round } from './stats';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const SECRET = 'bench-identity-secret-0123456789';
const PRODUCTS = 50;
const STORES = 20;

async function main() {
  const namespace = await createNamespace('bench-mutations');
  const producer = await createEventProducer(createKafka(kafkaConfigFromEnv()));
  // Prices reach the orders subgraph as the catalog database's changes (Debezium's records).
  const products = Array.from({ length: PRODUCTS }, (_, i) =>
    debeziumRecord({ key: { id: `p${i}` }, op: 'c', lsn: i + 1, after: { id: `p${i}`, name: `Product ${i}`, brand: null, category: 'bench', price_cents: 100 + i, updated_at: new Date().toISOString() } }),
  );
  await producer.publishRaw(`${namespace}${CATALOG_PRODUCTS_CDC_TOPIC.name}`, products);
  // Orders are only placed at stores the catalog published.
  const stores = Array.from({ length: STORES }, (_, i) => createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: `store-${i}`, name: `Store ${i}` }));
  await producer.publishMany(`${namespace}catalog.inventory`, stores);
  // Plenty of every product at every store: every order is CONFIRMED, the path measured is the decision's.
  const levels = stores.flatMap((st) =>
    Array.from({ length: PRODUCTS }, (_, i) => createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: st.payload.storeId, productId: `p${i}`, quantity: 10_000_000 })),
  );
  await producer.publishMany(`${namespace}catalog.inventory`, levels);
  await producer.close();

  // BENCH_PROFILE_DIR=<dir> writes a CPU profile of the subgraph processes there.
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const env = { ...process.env, STREAMGRAPH_NAMESPACE: namespace, ORDERS_PORT: '0', CATALOG_PORT: '0', GATEWAY_IDENTITY_SECRET: SECRET, READY_MAX_LAG: '0', LOG_LEVEL: 'warn' };
  const startProcess = (name: string) => {
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(__dirname, `../subgraphs/${name}/main.ts`)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const url = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        const m = /ready at (\S+)/.exec(d.toString());
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`${name} subgraph exited with ${code}`)));
    });
    return { child, url };
  };
  const ordersProc = startProcess('orders');
  const catalogProc = startProcess('catalog');
  const child = ordersProc.child;
  const [url] = await Promise.all([ordersProc.url, catalogProc.url]);
  const base = url.replace('/graphql', '');
  while ((await fetch(`${base}/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));

  // Confirmations, seen as the orders view's change notices (what orderUpdated follows).
  const redis = redisFromEnv();
  const hub = await createNoticeHub<OrderState>(redis, `${namespace}orders.orders`);
  const confirmedAt = new Map<string, number>();
  const confirmations = hub.listen((c) => c.state !== null && c.state.status !== 'PLACED', 100_000);
  void (async () => {
    for await (const c of confirmations) if (!confirmedAt.has(c.id)) confirmedAt.set(c.id, performance.now());
  })();

  const place = async (i: number) => {
    const identity = signIdentity({ sub: `customer-${i % 1000}`, roles: ['customer'] }, SECRET);
    const items = [{ productId: `p${i % PRODUCTS}`, quantity: 1 + (i % 3) }, { productId: `p${(i * 7) % PRODUCTS}`, quantity: 1 }];
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: identity },
      body: JSON.stringify({ query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status version totalCents } }', variables: { input: { storeId: `store-${i % STORES}`, items } } }),
    });
    const body = (await res.json()) as { data?: { placeOrder?: { id: string; version: number } }; errors?: Array<{ extensions?: { code?: string } }> };
    const answered = performance.now();
    // An answer read after the store already confirmed the order (version 2) is as good as one read before.
    const ok = res.status === 200 && !body.errors && (body.data?.placeOrder?.version ?? 0) >= 1;
    const error = ok ? undefined : (body.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`);
    return { ms: answered - started, started, answered, id: body.data?.placeOrder?.id, ok, error };
  };

  // An open-loop steady rate: requests start on schedule whether or not earlier ones have
  // answered, so slow answers show up as latency.
  const steady = async (count: number, first: number) => {
    const results: Array<ReturnType<typeof place>> = [];
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const wait = start + (i * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      results.push(place(first + i));
    }
    return { done: await Promise.all(results), elapsed: (performance.now() - start) / 1000 };
  };
  // Warm-up at the same rate (JIT in the subgraph and in a freshly started broker, pools):
  // the figures are for the steady state.
  await steady(RATE * WARMUP_SECONDS, 0);
  const total = RATE * SECONDS;
  const { done, elapsed } = await steady(total, 1_000_000);
  const latencies = done.filter((d) => d.ok).map((d) => d.ms);
  // Every placed order confirmed, or 30 s: what is still open then counts as unconfirmed.
  const placed = done.filter((d) => d.ok && d.id);
  const deadline = performance.now() + 30_000;
  while (placed.some((d) => !confirmedAt.has(d.id!)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const confirmedOnes = placed.filter((d) => confirmedAt.has(d.id!));
  // From the placeOrder answer (the order is PLACED and readable) to the CONFIRMED state in the view.
  const toConfirmed = confirmedOnes.map((d) => Math.max(0, confirmedAt.get(d.id!)! - d.answered));
  const requestToConfirmed = confirmedOnes.map((d) => confirmedAt.get(d.id!)! - d.started);
  const result = {
    benchmark: 'mutations',
    measuredAt: new Date().toISOString(),
    machine: machine(),
    mutation: 'placeOrder (validate against the price view, produce OrderPlaced, wait until the orders view applied it, read it back)',
    warmupSeconds: WARMUP_SECONDS,
    rateTarget: RATE,
    rateAchieved: round(total / elapsed, 1),
    requests: total,
    errors: done.filter((d) => !d.ok).length,
    errorsByCode: done.reduce<Record<string, number>>((a, d) => (d.error ? { ...a, [d.error]: (a[d.error] ?? 0) + 1 } : a), {}),
    placeOrderP50Ms: round(quantile(latencies, 0.5)),
    placeOrderP99Ms: round(quantile(latencies, 0.99)),
    placeOrderMaxMs: round(Math.max(...latencies)),
    confirmation: 'placed -> CONFIRMED: from the placeOrder answer to the orders view publishing the confirmed state (catalog router, inventory view, outcome relay, confirmation relay, orders view)',
    confirmed: confirmedOnes.length,
    unconfirmed: placed.length - confirmedOnes.length,
    placedToConfirmedP50Ms: round(quantile(toConfirmed, 0.5)),
    placedToConfirmedP99Ms: round(quantile(toConfirmed, 0.99)),
    placedToConfirmedMaxMs: round(Math.max(...toConfirmed)),
    requestToConfirmedP99Ms: round(quantile(requestToConfirmed, 0.99)),
    target: { placeOrderP99Ms: 100, placedToConfirmedP99Ms: 150, at: '200 orders/s' },
  };
  console.log(JSON.stringify(result, null, 2));
  const out = path.join(__dirname, 'results', 'mutations.json');
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`written to ${path.relative(process.cwd(), out)}`);
  confirmations.close();
  await hub.close();
  redis.disconnect();
  for (const proc of [child, catalogProc.child]) {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
  await removeRunCatalogSources(namespace).catch((e: unknown) => console.error(`cleaning the catalog's CDC sources failed: ${(e as Error).message}`));
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(namespace)) }).catch(() => undefined);
  await admin.disconnect();
}

main().catch((e) => {
  console.error(`mutations benchmark failed: ${(e as Error).message}`);
  process.exit(1);
});
