// `npm run simulate -- [--seed N] [--orders-per-second N] [--inventory-per-second N]
// [--stores N] [--products N] [--customers N] [--lifecycle-seconds N] [--duration S] [--run-id ID]`:
// publishes the simulated world's events to Kafka at the given rates so the graph is alive.
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createEventProducer } from '../subgraphs/runtime/producer';
import { namespaceFromEnv } from '../platform/settings';
import { DEFAULT_SIMULATION, simulation, type SimEvent, type SimulationOptions } from './simulator/simulation';

const FLAGS: Record<string, keyof SimulationOptions> = {
  '--seed': 'seed',
  '--orders-per-second': 'ordersPerSecond',
  '--inventory-per-second': 'inventoryPerSecond',
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

async function main() {
  const { options, durationS } = parseArgs(process.argv.slice(2));
  const ns = namespaceFromEnv();
  const producer = await createEventProducer(createKafka(kafkaConfigFromEnv()));
  const world = simulation(options);
  const tickMs = 1000 / options.ticksPerSecond;
  const started = Date.now();
  let published = 0;
  let stopping = false;
  process.once('SIGINT', () => (stopping = true));
  process.once('SIGTERM', () => (stopping = true));
  console.log(`simulating ${options.stores} stores, ${options.products} products, ${options.customers} customers; ${options.ordersPerSecond} orders/s, ${options.inventoryPerSecond} inventory reports/s (seed ${options.seed})`);
  const report = setInterval(() => console.log(`simulator: ${published} events published`), 10_000);
  for (let tick = 0; !stopping; tick++) {
    if (durationS !== null && Date.now() - started >= durationS * 1000) break;
    const events = world.next().value as SimEvent[];
    const byTopic = new Map<string, SimEvent['event'][]>();
    for (const e of events) byTopic.set(e.topic.name, [...(byTopic.get(e.topic.name) ?? []), e.event]);
    await Promise.all([...byTopic].map(([topic, list]) => producer.publishMany(`${ns}${topic}`, list)));
    published += events.length;
    const wait = started + (tick + 1) * tickMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  clearInterval(report);
  console.log(`simulator: stopped after ${published} events`);
  await producer.close();
}

main().catch((e) => {
  console.error(`simulate: ${(e as Error).message}`);
  process.exit(1);
});
