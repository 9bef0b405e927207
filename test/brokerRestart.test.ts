// A broker restart during consumption: the projection resumes on its own and the view is exact.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { startKafkaBroker, type KafkaBrokerHandle } from '../infra/kafka';
import { createLogger } from '../platform/logger';
import { startProjection, type ProjectionHandle } from '../subgraphs/runtime/projectionRunner';
import { orderStateProjection } from './fixtures/orderViews';
import { createStreamsEnv, orderEvents, produceAll, type StreamsEnv } from './support/streams';
import { appliedCount, readView, truthOf } from './support/views';
import { uniqueName, waitFor } from './support/waitFor';

let broker: KafkaBrokerHandle;
let env: StreamsEnv | undefined;
let runner: ProjectionHandle | undefined;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-broker-restart-'));

beforeAll(async () => {
  // A private broker: restarting the shared one would disturb every other test file.
  broker = await startKafkaBroker({ port: 0, dataDir, logFile: path.join(dataDir, 'kafka.log') });
});
afterAll(async () => {
  await runner?.stop();
  await env?.close();
  await broker.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('resumes after the broker is killed and restarted mid-consumption and ends with an exact view', async () => {
  env = await createStreamsEnv(broker.brokers);
  const partitions = 3;
  const topic = await env.topic('restart', partitions);
  const orders = orderStateProjection(uniqueName('orders'));
  const events = orderEvents({ seed: 7, count: 4000, orders: 800, customers: 20 });
  const first = await produceAll(env.producer, topic, events.slice(0, 3000));
  runner = await startProjection({
    kafka: env.kafka,
    redis: env.redis,
    projection: orders,
    topic,
    maxChunk: 20,
    maxRetryDelayMs: 1000,
    logger: createLogger('test', 'error'),
  });
  await waitFor(async () => (await appliedCount(env!.redis, orders.name, topic, partitions)) >= 300, {
    what: 'consumption under way',
    intervalMs: 5,
  });

  // A hard crash, the worst case for a consumer: no controlled shutdown, no goodbye to the group.
  broker.kill();
  expect(await appliedCount(env.redis, orders.name, topic, partitions)).toBeLessThan(3000);
  await waitFor(() => !isAlive(broker.pid), { what: 'the broker process to exit' });
  broker = await startKafkaBroker({ port: broker.port, controllerPort: broker.controllerPort, dataDir, logFile: broker.logFile });

  const rest = await produceAll(env.producer, topic, events.slice(3000));
  const log = [...first, ...rest];
  await waitFor(async () => (await appliedCount(env!.redis, orders.name, topic, partitions)) === log.length, {
    what: 'all events applied after the restart',
    timeoutMs: 110_000,
  });
  const ids = [...new Set(events.map((e) => e.payload.orderId))];
  expect(await readView(env.redis, orders, topic, partitions, ids)).toEqual(truthOf(orders, log));
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
