// Integration tests of the local infrastructure: a private broker keeps a produced message across
// a restart on the same data dir and ports; `npm run infra:status`, run as its own process
// against the running stack, reports Kafka, Redis, PostgreSQL (its port, or the setting) and
// Kafka Connect (its URL and the connectors on it), and exits 1 naming what is not reachable
// while still reporting the rest.

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { DEFAULT_CONNECT_URL } from '../infra/connect';
import { startKafkaBroker, type KafkaBrokerHandle } from '../infra/kafka';
import { DEFAULTS as POSTGRES, localPostgresUrl } from '../infra/postgres';
import { ensureTopics } from '../infra/topics';
import { kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { createLogger } from '../platform/logger';
import { openCatalogDatabase, type CatalogDatabase } from '../subgraphs/catalog/catalogDatabase';
import { catalogSourceFromEnv } from '../subgraphs/catalog/catalogSource';
import { removeRunCatalogSources } from './support/catalogDatabase';
import { freePort } from './support/subgraphProcess';
import { uniqueName } from './support/waitFor';

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

describe('npm run infra:status', () => {
  const settings = catalogSourceFromEnv();
  // The stack `npm run infra:up` runs (and global setup uses unless told otherwise): status names it by port.
  const localStack = settings.databaseUrl === localPostgresUrl(POSTGRES.port, 'catalog') && settings.connectUrl === DEFAULT_CONNECT_URL;
  let namespace: string | undefined;
  let database: CatalogDatabase | undefined;
  let connector: string;

  beforeAll(async () => {
    namespace = `${uniqueName('infra-status')}.`;
    // A connector of this test's own on the worker, streaming (what a catalog start leaves), for status to list.
    database = await openCatalogDatabase(settings, { namespace, logger: createLogger('infra-status-test', 'error'), writeTimeoutMs: 5000 });
    connector = database.names.connector;
  });

  afterAll(async () => {
    await database?.close();
    // The connector, its replication slot, publication and schema.
    if (namespace) await removeRunCatalogSources(namespace);
  });

  /** `tsx scripts/infra.ts status`, what `npm run infra:status` runs, in this environment changed by `env` (undefined: unset). */
  async function status(env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; lines: string[] }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    const { code, stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, '../scripts/infra.ts'), 'status'], {
      env: childEnv,
      cwd: path.join(__dirname, '..'),
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: `${e.stdout}${e.stderr}` }),
    );
    return { code, stdout, lines: stdout.split('\n').filter(Boolean) };
  }

  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** The line of `component` (padded to 8 like the script does), with the pid the script adds when infra up started it. */
  const lineOf = (component: string, text: string) => new RegExp(`^${escape(component.padEnd(8))} ${escape(text)}( \\(pid \\d+\\))?$`);
  const connectorLine = () => `${''.padEnd(8)} connector ${connector}: RUNNING, tasks 0 RUNNING`;

  (localStack ? it : it.skip)('reports PostgreSQL by its port and Connect by its URL with the connectors on it, for the local stack', async () => {
    // No settings: the script finds the local stack where infra up puts it.
    const { code, stdout, lines } = await status({ CATALOG_DATABASE_URL: undefined, KAFKA_CONNECT_URL: undefined });
    expect({ code, stdout }).toEqual({ code: 0, stdout });
    expect(lines[0]).toMatch(lineOf('kafka', `reachable at ${kafkaConfigFromEnv().brokers.toString()}`));
    expect(lines[1]).toMatch(/^redis {4}reachable at /);
    expect(lines[2]).toMatch(lineOf('postgres', `reachable at 127.0.0.1:${POSTGRES.port} (catalog database)`));
    expect(lines[3]).toMatch(lineOf('connect', `reachable at ${DEFAULT_CONNECT_URL}`));
    // Every connector on the worker follows, this test's own among them.
    expect(lines.slice(4)).toContain(connectorLine());
    for (const l of lines.slice(4)) expect(l).toMatch(/^ {9}connector .+: [A-Z]+, tasks /);
  });

  it('names the database setting rather than its URL, and Connect by the URL it was given', async () => {
    const { code, stdout, lines } = await status({ CATALOG_DATABASE_URL: settings.databaseUrl, KAFKA_CONNECT_URL: settings.connectUrl });
    expect({ code, stdout }).toEqual({ code: 0, stdout });
    // The URL may carry a password: never printed.
    expect(lines).toContain('postgres reachable at CATALOG_DATABASE_URL');
    expect(stdout).not.toContain(settings.databaseUrl);
    expect(lines).toContain(`connect  reachable at ${settings.connectUrl}`);
    expect(lines).toContain(connectorLine());
  });

  it('exits 1 naming what is not reachable, and still reports the rest', async () => {
    const [kafkaPort, connectPort] = [await freePort(), await freePort()];
    const { code, stdout, lines } = await status({ KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`, KAFKA_CONNECT_URL: `http://127.0.0.1:${connectPort}` });
    expect({ code, stdout }).toEqual({ code: 1, stdout });
    expect(lines[0]).toMatch(lineOf('kafka', `not reachable at 127.0.0.1:${kafkaPort}`));
    expect(lines[1]).toMatch(/^redis {4}reachable at /);
    // Kafka being down says nothing of the catalog database and Connect: they are reported all the same.
    expect(lines[2]).toMatch(/^postgres reachable at /);
    expect(lines[3]).toBe(`connect  not reachable at http://127.0.0.1:${connectPort}`);
    expect(lines).toHaveLength(4);
  });
});
