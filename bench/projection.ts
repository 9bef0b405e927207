// Projection benchmark: an orders-like fold over 6 partitions against the real broker and
// Redis. Measures catch-up throughput over a backlog, then produce-to-applied latency at
// a steady rate, and writes bench/results/projection.json.
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { ensureTopics } from '../infra/topics';
import { dlqSpec, type TopicSpec } from '../schema/events';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { viewChannels } from '../subgraphs/runtime/keys';
import { createLogger } from '../platform/logger';
import { createEventProducer } from '../subgraphs/runtime/producer';
import { startProjection } from '../subgraphs/runtime/projectionRunner';
import { createSubscriber } from '../platform/subscriber';
import { orderStateProjection } from '../test/fixtures/orderViews';
import { orderEvents } from '../test/support/streams';
import { machine, quantile, round } from './stats';

const PARTITIONS = 6;
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 200_000);
const RATE = Number(process.env.BENCH_RATE ?? 5_000);
const STEADY_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

async function main() {
  const kafka = createKafka(kafkaConfigFromEnv());
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const producer = await createEventProducer(kafka);
  const admin = kafka.admin();
  await admin.connect();
  const run = `bench-${Date.now().toString(36)}`;
  const spec: TopicSpec = { name: run, partitions: PARTITIONS, cleanupPolicy: 'delete', retentionMs: 3_600_000, keyedBy: 'orderId' };
  await ensureTopics(admin, [spec, dlqSpec(spec)]);
  const projection = orderStateProjection(`${run}-orders`);
  const events = orderEvents({ seed: 9, count: BACKLOG + RATE * STEADY_SECONDS, orders: Math.ceil((BACKLOG + RATE * STEADY_SECONDS) / 3), customers: 5000 });
  const backlog = events.slice(0, BACKLOG);
  const steady = events.slice(BACKLOG);

  // Applied notices carry (partition, checkpoint): the moment an offset becomes readable.
  const sub = await createSubscriber(redis);
  const appliedAt: Array<Array<[number, number]>> = Array.from({ length: PARTITIONS }, () => []);
  await sub.subscribe(viewChannels(projection.name).applied);
  sub.on('message', (_ch: string, msg: string) => {
    const [, , p, cp] = msg.split(' ');
    appliedAt[Number(p)].push([Number(cp), performance.now()]);
  });

  console.log(`producing a backlog of ${BACKLOG} events to ${PARTITIONS} partitions...`);
  for (let i = 0; i < backlog.length; i += 2000) await producer.publishMany(run, backlog.slice(i, i + 2000));

  const runner = await startProjection({ kafka, redis, projection, topic: run, logger: createLogger('bench', 'warn') });
  const total = async () => (await runner.refreshLag()).reduce((a, s) => a + (s.checkpoint === null ? 0 : s.checkpoint + 1), 0);
  while ((await total()) < BACKLOG) await new Promise((r) => setTimeout(r, 100));
  // From the first write to the last: group join and start-up are not folding.
  const writes = appliedAt.flat().map(([, t]) => t);
  const catchUpMs = Math.max(...writes) - Math.min(...writes);
  const eventsPerSecond = BACKLOG / (catchUpMs / 1000);
  console.log(`catch-up: ${BACKLOG} events in ${round(catchUpMs / 1000)} s = ${Math.round(eventsPerSecond)} events/s`);

  console.log(`steady: ${RATE} events/s for ${STEADY_SECONDS} s...`);
  for (const list of appliedAt) list.length = 0;
  const sent: Array<{ partition: number; offset: number; at: number }> = [];
  const tick = 20;
  const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
  const start = performance.now();
  for (let i = 0; i < steady.length; i += perTick) {
    const due = start + (i / perTick) * tick;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = performance.now();
    const written = await producer.publishMany(run, steady.slice(i, i + perTick));
    for (const w of written) sent.push({ partition: w.partition, offset: w.offset, at });
  }
  const achievedRate = steady.length / ((performance.now() - start) / 1000);
  const lastByPartition = new Map<number, number>();
  for (const s of sent) lastByPartition.set(s.partition, Math.max(lastByPartition.get(s.partition) ?? -1, s.offset));
  const done = () => [...lastByPartition].every(([p, o]) => appliedAt[p].some(([cp]) => cp >= o));
  const deadline = Date.now() + 60_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  const latencies = sent.map((s) => {
    const hit = appliedAt[s.partition].find(([cp]) => cp >= s.offset);
    return hit ? hit[1] - s.at : Number.POSITIVE_INFINITY;
  });
  const result = {
    benchmark: 'projection',
    measuredAt: new Date().toISOString(),
    machine: machine(),
    partitions: PARTITIONS,
    fold: 'orders-like: order state keyed by order id + per-customer index',
    backlogEvents: BACKLOG,
    eventsPerSecond: Math.round(eventsPerSecond),
    steadyRateTarget: RATE,
    steadyRateAchieved: Math.round(achievedRate),
    steadyEvents: sent.length,
    applyLatencyMsP50: round(quantile(latencies, 0.5)),
    applyLatencyMsP99: round(quantile(latencies, 0.99)),
    applyLatencyMsMax: round(Math.max(...latencies)),
    target: { eventsPerSecond: 20_000 },
  };
  console.log(JSON.stringify(result, null, 2));
  const out = path.join(__dirname, 'results', 'projection.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`written to ${path.relative(process.cwd(), out)}`);

  await runner.stop();
  await sub.quit();
  await producer.close();
  await admin.deleteTopics({ topics: [run, dlqSpec(spec).name] }).catch(() => undefined);
  await admin.disconnect();
  redis.disconnect();
}

main().catch((e) => {
  console.error(`projection benchmark failed: ${(e as Error).message}`);
  process.exit(1);
});
