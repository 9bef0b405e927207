// `npm run simulate -- [--seed N] [--orders-per-second N] [--inventory-per-second N]
// [--price-changes-per-second N] [--new-products-per-minute N] [--stores N] [--products N]
// [--customers N] [--lifecycle-seconds N] [--duration S] [--run-id ID]`: publishes the simulated
// world's events to Kafka at the given rates so the graph is alive, and writes its products to
// the catalog database with SQL, as the catalog's back office would (CDC takes them from there).
import { Pool } from 'pg';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { catalogSourceFromEnv, catalogSourceNames, ident } from '../subgraphs/catalog/catalogSource';
import { migrate } from '../subgraphs/catalog/migrations';
import { createEventProducer } from '../subgraphs/runtime/producer';
import { namespaceFromEnv } from '../platform/settings';
import { DEFAULT_SIMULATION, isProductWrite, simulation, type SimEvent, type SimProduct, type SimStep, type SimulationOptions } from './simulator/simulation';

const FLAGS: Record<string, keyof SimulationOptions> = {
  '--seed': 'seed',
  '--orders-per-second': 'ordersPerSecond',
  '--inventory-per-second': 'inventoryPerSecond',
  '--price-changes-per-second': 'priceChangesPerSecond',
  '--new-products-per-minute': 'newProductsPerMinute',
  '--stores': 'stores',
  '--products': 'products',
  '--customers': 'customers',
  '--lifecycle-seconds': 'lifecycleSeconds',
};

function parseArgs(argv: string[]): { options: SimulationOptions; durationS: number | null } {
  const options: Record<string, number | string> = { ...DEFAULT_SIMULATION, runId: Date.now().toString(36) };
  let durationS: number | null = null;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, raw] = [argv[i], argv[i + 1]];
    const value = Number(raw);
    if (flag !== '--run-id' && (raw === undefined || !Number.isFinite(value) || value < 0))
      throw new Error(`${flag} needs a non-negative number (got ${raw ?? 'nothing'})`);
    if (flag === '--run-id') options.runId = raw;
    else if (flag === '--duration') durationS = value;
    else if (FLAGS[flag]) options[FLAGS[flag]] = value;
    else throw new Error(`unknown option ${flag}; options: ${[...Object.keys(FLAGS), '--duration', '--run-id'].join(' ')}`);
  }
  return { options: options as unknown as SimulationOptions, durationS };
}

/** Inserts or updates products in one transaction, as the back office's SQL would. */
async function writeProducts(pool: Pool, schema: string, products: readonly SimProduct[]): Promise<void> {
  if (products.length === 0) return;
  // The last write of a product in one tick wins (ON CONFLICT may touch a row once per statement).
  const rows = [...new Map(products.map((p) => [p.id, p])).values()];
  await pool.query(
    `INSERT INTO ${ident(schema)}.products (id, name, brand, category, price_cents, updated_at)
     SELECT *, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[])
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, brand = EXCLUDED.brand, category = EXCLUDED.category,
       price_cents = EXCLUDED.price_cents, updated_at = EXCLUDED.updated_at`,
    [rows.map((p) => p.id), rows.map((p) => p.name), rows.map((p) => p.brand), rows.map((p) => p.category), rows.map((p) => p.priceCents)],
  );
}

async function main() {
  const { options, durationS } = parseArgs(process.argv.slice(2));
  const ns = namespaceFromEnv();
  const producer = await createEventProducer(createKafka(kafkaConfigFromEnv()));
  const settings = catalogSourceFromEnv();
  const { schema } = catalogSourceNames(settings, ns);
  const pool = new Pool({ connectionString: settings.databaseUrl, max: 2 });
  pool.on('error', (e) => console.error(`simulator: catalog database connection lost (${e.message})`));
  // The table may not exist yet when the simulator runs before the catalog ever started.
  await migrate(pool, schema);
  const world = simulation(options);
  const tickMs = 1000 / options.ticksPerSecond;
  const started = Date.now();
  let published = 0;
  let written = 0;
  let stopping = false;
  process.once('SIGINT', () => (stopping = true));
  process.once('SIGTERM', () => (stopping = true));
  console.log(`simulating ${options.stores} stores, ${options.products} products, ${options.customers} customers; ${options.ordersPerSecond} orders/s, ${options.inventoryPerSecond} inventory reports/s (seed ${options.seed})`);
  const report = setInterval(() => console.log(`simulator: ${published} events published, ${written} product rows written`), 10_000);
  for (let tick = 0; !stopping; tick++) {
    if (durationS !== null && Date.now() - started >= durationS * 1000) break;
    const steps = world.next().value as SimStep[];
    const byTopic = new Map<string, SimEvent['event'][]>();
    const products: SimProduct[] = [];
    for (const s of steps) {
      if (isProductWrite(s)) products.push(s.product);
      else byTopic.set(s.topic.name, [...(byTopic.get(s.topic.name) ?? []), s.event]);
    }
    // Products first: orders and stock of a new product should find it in the catalog.
    await writeProducts(pool, schema, products);
    await Promise.all([...byTopic].map(([topic, list]) => producer.publishMany(`${ns}${topic}`, list)));
    published += steps.length - products.length;
    written += products.length;
    const wait = started + (tick + 1) * tickMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  clearInterval(report);
  console.log(`simulator: stopped after ${published} events and ${written} product rows`);
  await producer.close();
  await pool.end();
}

main().catch((e) => {
  console.error(`simulate: ${(e as Error).message}`);
  process.exit(1);
});
