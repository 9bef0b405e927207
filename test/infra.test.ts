// Integration test of the local broker: a private broker keeps a produced message across a restart on the same data dir and ports.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startKafkaBroker, type KafkaBrokerHandle } from '../infra/kafka';
import { ensureTopics } from '../infra/topics';

interface Received {
  key: string | undefined;
  value: string | undefined;
  offset: string;
}

/** Reads `count` records from the start of a one-partition topic with a fresh consumer group. */
async function readFromStart(brokers: string[], topic: string, count: number): Promise<Received[]> {
  const kafka = new Kafka({ brokers, clientId: 'infra-test', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `infra-test-${randomUUID()}` });
  const received: Received[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${received.length} of ${count} records within 60s`)), 60_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push({ key: message.key?.toString(), value: message.value?.toString(), offset: message.offset });
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

describe('local Kafka broker', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamgraph-kafka-test-'));
  const logFile = path.join(dataDir, 'kafka.log');
  let broker: KafkaBrokerHandle | undefined;

  afterAll(async () => {
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a produced message across a restart on the same data dir and ports', async () => {
    broker = await startKafkaBroker({ port: 0, dataDir, logFile });
    const first = broker;
    expect(first.brokers).toEqual([`127.0.0.1:${first.port}`]);

    const topic = `infra-test-${randomUUID()}`;
    const { created } = await ensureTopics(first.brokers, [
      { name: topic, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1, keyedBy: 'test key' },
    ]);
    expect(created).toEqual([topic]);

    const producer = new Kafka({ brokers: first.brokers, clientId: 'infra-test', logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'survives a restart' }] });
    await producer.disconnect();

    const expected = [{ key: 'k1', value: 'survives a restart', offset: '0' }];
    expect(await readFromStart(first.brokers, topic, 1)).toEqual(expected);

    await first.stop();
    broker = undefined;

    broker = await startKafkaBroker({ port: first.port, controllerPort: first.controllerPort, dataDir, logFile });
    expect(broker.brokers).toEqual(first.brokers);
    expect(await readFromStart(broker.brokers, topic, 1)).toEqual(expected);

    await broker.stop();
    broker = undefined;
  });
});
