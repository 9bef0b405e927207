// Jest global setup: a Kafka broker, Redis, the declared topics, PostgreSQL (the catalog database)
// and a Kafka Connect worker (Debezium) exist before any test file runs.

import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONNECT_URL, isConnectReachable, startConnectWorker } from '../infra/connect';
import { isKafkaReachable, startKafkaBroker } from '../infra/kafka';
import { DEFAULTS as POSTGRES, ensureDatabase, isPostgresReachable, localPostgresUrl, startPostgres } from '../infra/postgres';
import { ensureRedis } from '../infra/redis';
import { ensureTopics } from '../infra/topics';
import { declaredTopicSpecs } from '../scripts/declarations';
import { removeAbandonedRunSources } from './support/catalogDatabase';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { checkRedis, parseRedisEnv, redisFromEnv } from '../platform/redisConfig';

const LOCAL_BROKER = '127.0.0.1:9092';
const RUN_DIR = path.resolve(__dirname, '..', '.run');
/** Present while the tests own the detached broker / redis-server, so teardown stops only those. */
export const KAFKA_STARTED_BY_TESTS = path.join(RUN_DIR, 'kafka.started-by-tests');
export const REDIS_STARTED_BY_TESTS = path.join(RUN_DIR, 'redis.started-by-tests');
export const POSTGRES_STARTED_BY_TESTS = path.join(RUN_DIR, 'postgres.started-by-tests');
export const CONNECT_STARTED_BY_TESTS = path.join(RUN_DIR, 'connect.started-by-tests');

export default async function globalSetup(): Promise<void> {
  // Test output should show failures, not every subgraph's info lines (workers inherit this).
  process.env.LOG_LEVEL ??= 'warn';
  // Names every topic this run creates (see uniqueName), so teardown can delete them.
  process.env.STREAMGRAPH_TEST_RUN ??= Date.now().toString(36);
  // Pure unit-test runs can skip the infrastructure entirely.
  if (process.env.STREAMGRAPH_TEST_INFRA === 'off') return;

  if (!process.env.KAFKA_BROKERS) {
    if (!(await isKafkaReachable([LOCAL_BROKER], 3_000))) {
      // Detached, so a broker of an interrupted run is simply reused by the next one.
      const broker = await startKafkaBroker({ detached: true });
      mark(KAFKA_STARTED_BY_TESTS, broker.pid);
    }
    // Workers are forked after global setup and inherit this environment.
    process.env.KAFKA_BROKERS = LOCAL_BROKER;
  }

  if (parseRedisEnv().kind === 'cluster') {
    const client = redisFromEnv(process.env, { lazyConnect: true });
    try {
      await checkRedis(client, parseRedisEnv().url);
    } finally {
      client.disconnect();
    }
  } else {
    const redis = await ensureRedis(process.env.REDIS_URL, { detached: true });
    if (redis.startedByUs) mark(REDIS_STARTED_BY_TESTS, 0);
    process.env.REDIS_URL = redis.url;
  }

  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, declaredTopicSpecs());
  } finally {
    await admin.disconnect();
  }
  await Promise.all([catalogDatabase(), connectWorker()]);
  // An interrupted earlier run left its connectors and replication slots behind (its teardown
  // never ran); a slot holds WAL until dropped, so the next run drops those of runs long over.
  const swept = await removeAbandonedRunSources().catch((e: Error) => {
    console.warn(`could not remove the catalog sources of interrupted test runs: ${e.message}`);
    return [];
  });
  if (swept.length) console.warn(`removed the catalog connectors and replication slots of interrupted test runs ${swept.join(', ')}`);
}

/** The catalog's system of record: CATALOG_DATABASE_URL, else the project's own cluster (started detached, like the broker). */
async function catalogDatabase(): Promise<void> {
  if (process.env.CATALOG_DATABASE_URL) return;
  const local = localPostgresUrl(POSTGRES.port);
  if (!(await isPostgresReachable(local, 3_000))) {
    const pg = await startPostgres();
    if (!pg.alreadyRunning) mark(POSTGRES_STARTED_BY_TESTS, 0);
  }
  await ensureDatabase(local, 'catalog');
  process.env.CATALOG_DATABASE_URL = localPostgresUrl(POSTGRES.port, 'catalog');
}

/** Debezium runs in Kafka Connect: KAFKA_CONNECT_URL, else the project's own worker. */
async function connectWorker(): Promise<void> {
  if (process.env.KAFKA_CONNECT_URL) return;
  if (!(await isConnectReachable(DEFAULT_CONNECT_URL, 3_000))) {
    const worker = await startConnectWorker({ brokers: (process.env.KAFKA_BROKERS ?? LOCAL_BROKER).split(','), detached: true });
    if (!worker.alreadyRunning) mark(CONNECT_STARTED_BY_TESTS, worker.pid);
  }
  process.env.KAFKA_CONNECT_URL = DEFAULT_CONNECT_URL;
}

function mark(file: string, pid: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${pid}\n`);
}
