// Change data capture benchmark (issue 13), against the real PostgreSQL, Kafka Connect
// (Debezium), broker and Redis, with the catalog subgraph and the gateway in this process:
//  1. snapshot: a table of BENCH_SNAPSHOT_ROWS (100,000) products existing before the catalog's
//     first start, into the view (from the start, connector registration included, until the view
//     holds every row);
//  2. commit -> visible through the gateway: UPDATEs committed at BENCH_RATE (100) per second,
//     open loop, each timed from its COMMIT's return until a gateway query returns the new price
//     (the query is sent when the view's change notice for the product arrives);
//  3. upsertProduct through the gateway at BENCH_UPSERT_RATE (50) per second, read-your-writes
//     included (the answer waits until the view holds the change that came back through CDC).
// Writes bench/results/cdc.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { DEFAULT_LIMITS } from '../gateway/limits';
import { startGateway } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createLogger } from '../platform/logger';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { catalogSourceFromEnv, catalogSourceNames, ident } from '../subgraphs/catalog/catalogSource';
import { migrate } from '../subgraphs/catalog/migrations';
import { removeRunCatalogSources } from '../test/support/catalogDatabase';
import { testGatewayConfig } from '../test/support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from '../test/support/graphqlClient';
import { createNamespace } from '../test/support/namespace';
import { machine, quantile, round } from './stats';

const SNAPSHOT_ROWS = Number(process.env.BENCH_SNAPSHOT_ROWS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const UPSERT_RATE = Number(process.env.BENCH_UPSERT_RATE ?? 50);
const UPSERT_SECONDS = Number(process.env.BENCH_UPSERT_SECONDS ?? 20);
const JWT_SECRET = 'bench-cdc-jwt-secret-0123456789abcdef';

/** Runs `task(i)` for i in [first, first + count) on an open-loop schedule of `rate` per second. */
async function openLoop<T>(rate: number, count: number, first: number, task: (i: number) => Promise<T>): Promise<{ results: T[]; elapsed: number }> {
  const started = performance.now();
  const running: Array<Promise<T>> = [];
  for (let n = 0; n < count; n++) {
    const wait = started + (n * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    running.push(task(first + n));
  }
  // The rate achieved is that of starting the tasks (the schedule), not of their answers.
  const elapsed = (performance.now() - started) / 1000 + 1 / rate;
  return { results: await Promise.all(running), elapsed };
}

const ms = (values: number[]) => ({ p50: round(quantile(values, 0.5)), p99: round(quantile(values, 0.99)), max: round(Math.max(...values)) });

/** Set once created, so a failed run still removes its connector and replication slot. */
let benchNamespace: string | undefined;

async function main() {
  const loadAtStart = os.loadavg()[0];
  const namespace = await createNamespace('bench-cdc');
  benchNamespace = namespace;
  const settings = catalogSourceFromEnv();
  const { schema } = catalogSourceNames(settings, namespace);
  const table = `${ident(schema)}.products`;
  const db = new Pool({ connectionString: settings.databaseUrl, max: 12 });
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const logger = createLogger('bench-cdc', 'error');
  await migrate(db, schema);

  // 1. The snapshot.
  await db.query(
    `INSERT INTO ${table} (id, name, brand, category, price_cents)
     SELECT 'p' || i, 'Product ' || i, CASE WHEN i % 3 = 0 THEN 'Own Brand' END, 'category-' || (i % 20), 100 + i % 5000
     FROM generate_series(1, ${SNAPSHOT_ROWS}) AS i`,
  );
  console.log(`${SNAPSHOT_ROWS} rows in ${table}; starting the catalog (connector, snapshot)`);
  const snapshotStarted = performance.now();
  const catalog = await startCatalogSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, logger, readyMaxLag: Number.MAX_SAFE_INTEGER });
  const products = catalog.views.products;
  for (;;) {
    const [n] = await products.reader.indexSizes(['all']);
    if (n >= SNAPSHOT_ROWS) break;
    if (performance.now() - snapshotStarted > 600_000) throw new Error(`the snapshot did not complete within 10 minutes (${n} rows in the view)`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const snapshotSeconds = (performance.now() - snapshotStarted) / 1000;
  console.log(`snapshot of ${SNAPSHOT_ROWS} rows in the view after ${round(snapshotSeconds, 1)} s`);

  const gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'bench-cdc' }, { limits: DEFAULT_LIMITS }));
  const query = async (id: string): Promise<number | null> => {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($id: ID!) { product(id: $id) { priceCents } }', variables: { id } }),
    });
    const body = (await res.json()) as { data?: { product: { priceCents: number } | null } };
    return body.data?.product?.priceCents ?? null;
  };
  // The gateway composes what the catalog announced: wait until it serves products.
  while ((await query('p1').catch(() => null)) === null) await new Promise((r) => setTimeout(r, 200));

  // 2. Commit -> visible through the gateway. Each change goes to a product no other change in
  // the run touches soon after (10,000 of them in turn), so a notice names exactly one change.
  const waiting = new Map<string, { price: number; resolve: (visibleAt: number) => void }>();
  const notices = products.notices.listen((c) => waiting.has(c.id), 100_000);
  // Visible through the gateway: a query sent when the notice arrives returns the new price
  // (else it asks again). Each check runs on its own, so one slow query delays no other change.
  const check = async (id: string, w: { price: number; resolve: (visibleAt: number) => void }) => {
    while ((await query(id)) !== w.price) await new Promise((r) => setTimeout(r, 2));
    w.resolve(performance.now());
  };
  void (async () => {
    for await (const change of notices) {
      const w = waiting.get(change.id);
      const state = change.state as { priceCents?: number } | null;
      if (!w || state?.priceCents !== w.price) continue;
      waiting.delete(change.id);
      void check(change.id, w);
    }
  })();
  const change = async (i: number): Promise<number> => {
    const id = `p${(i % 10_000) + 1}`;
    const price = 1_000_000 + i;
    const visible = new Promise<number>((resolve) => waiting.set(id, { price, resolve }));
    await db.query(`UPDATE ${table} SET price_cents = $1, updated_at = now() WHERE id = $2`, [price, id]);
    const committedAt = performance.now();
    return Math.max(0, (await visible) - committedAt);
  };
  console.log(`commit -> visible: ${WARMUP_SECONDS} s warm-up, then ${SECONDS} s at ${RATE} changes/s`);
  await openLoop(RATE, RATE * WARMUP_SECONDS, 0, change);
  const changes = await openLoop(RATE, RATE * SECONDS, 1_000_000, change);
  notices.close();

  // 3. upsertProduct through the gateway, read-your-writes included.
  const admin = signDevToken({ sub: 'bench-admin', roles: ['admin'], secret: JWT_SECRET });
  const upsert = async (i: number) => {
    const started = performance.now();
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({
        query: 'mutation($input: ProductInput!) { upsertProduct(input: $input) { id priceCents } }',
        variables: { input: { id: `u${i % 5000}`, name: `Upserted ${i % 5000}`, category: 'bench', priceCents: 2_000_000 + i } },
      }),
    });
    const body = (await res.json()) as { data?: { upsertProduct?: { priceCents: number } }; errors?: unknown[] };
    return { ms: performance.now() - started, ok: !body.errors && body.data?.upsertProduct?.priceCents === 2_000_000 + i };
  };
  console.log(`upsertProduct: ${WARMUP_SECONDS} s warm-up, then ${UPSERT_SECONDS} s at ${UPSERT_RATE}/s`);
  await openLoop(UPSERT_RATE, UPSERT_RATE * WARMUP_SECONDS, 0, upsert);
  const upserts = await openLoop(UPSERT_RATE, UPSERT_RATE * UPSERT_SECONDS, 1_000_000, upsert);
  const upsertOk = upserts.results.filter((r) => r.ok).map((r) => r.ms);
  const resent = products.handle.stats().reduce((a, s) => a + s.resent, 0);

  const latency = ms(changes.results);
  const upsertMs = ms(upsertOk);
  const result = {
    benchmark: 'cdc',
    measuredAt: new Date().toISOString(),
    machine: machine(),
    // The machine is shared: other processes' load moves these figures.
    loadAverage1mAtStart: round(loadAtStart, 2),
    loadAverage1mAtEnd: round(os.loadavg()[0], 2),
    path: 'PostgreSQL 15 commit -> Debezium 3.6.1 (Kafka Connect 3.9.1, poll.interval.ms 50) -> Kafka -> catalog.products view (Redis) -> gateway query',
    snapshot: { rows: SNAPSHOT_ROWS, seconds: round(snapshotSeconds, 1), rowsPerSecond: Math.round(SNAPSHOT_ROWS / snapshotSeconds), target: { seconds: 60 } },
    commitToVisible: {
      rateTarget: RATE,
      rateAchieved: round(changes.results.length / changes.elapsed, 1),
      changes: changes.results.length,
      warmupSeconds: WARMUP_SECONDS,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      maxMs: latency.max,
      target: { p99Ms: 200 },
    },
    upsertProduct: {
      through: 'gateway, read-your-writes included',
      rateTarget: UPSERT_RATE,
      rateAchieved: round(upserts.results.length / upserts.elapsed, 1),
      requests: upserts.results.length,
      errors: upserts.results.length - upsertOk.length,
      p50Ms: upsertMs.p50,
      p99Ms: upsertMs.p99,
      maxMs: upsertMs.max,
    },
    resentSkipped: resent,
  };
  console.log(JSON.stringify(result, null, 2));
  const out = path.join(__dirname, 'results', 'cdc.json');
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`written to ${path.relative(process.cwd(), out)}`);

  await gateway.close();
  await catalog.close();
  await removeRunCatalogSources(namespace);
  await db.end();
  redis.disconnect();
  const kafkaAdmin = createKafka(kafkaConfigFromEnv()).admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.deleteTopics({ topics: (await kafkaAdmin.listTopics()).filter((t) => t.startsWith(namespace)) }).catch(() => undefined);
  await kafkaAdmin.disconnect();
}

main().catch(async (e) => {
  console.error(`cdc benchmark failed: ${(e as Error).message}`);
  // A slot left behind holds WAL until someone drops it.
  if (benchNamespace) await removeRunCatalogSources(benchNamespace).catch((err: Error) => console.error(`could not remove its catalog sources: ${err.message}`));
  process.exit(1);
});
