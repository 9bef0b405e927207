// Jest global teardown: removes this run's catalog connectors, replication slots and schemas (a
// slot left behind holds WAL forever), then stops the broker, redis-server, PostgreSQL and Connect
// worker that global setup started, and nothing else.

import fs from 'node:fs';
import { stopConnectWorker } from '../infra/connect';
import { stopKafkaBroker } from '../infra/kafka';
import { stopPostgres } from '../infra/postgres';
import { stopRedisServer } from '../infra/redis';
import { deleteMatching } from '../subgraphs/runtime/deleteMatching';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { redisFromEnv } from '../platform/redisConfig';
import { CONNECT_STARTED_BY_TESTS, KAFKA_STARTED_BY_TESTS, POSTGRES_STARTED_BY_TESTS, REDIS_STARTED_BY_TESTS } from './globalSetup';
import { removeRunCatalogSources } from './support/catalogDatabase';
import { testRunPrefix } from './support/waitFor';

export default async function globalTeardown(): Promise<void> {
  if (process.env.STREAMGRAPH_TEST_INFRA !== 'off' && process.env.STREAMGRAPH_TEST_RUN) {
    // Before the topics: a connector still running would write to them again.
    await removeRunCatalogSources(testRunPrefix()).catch((e: Error) => console.warn(`could not remove this run's catalog connectors and slots: ${e.message}`));
  }
  if (fs.existsSync(CONNECT_STARTED_BY_TESTS)) {
    await stopConnectWorker();
    fs.rmSync(CONNECT_STARTED_BY_TESTS, { force: true });
  }
  if (fs.existsSync(POSTGRES_STARTED_BY_TESTS)) {
    await stopPostgres();
    fs.rmSync(POSTGRES_STARTED_BY_TESTS, { force: true });
  }
  await deleteRunTopics();
  await deleteRunKeys();
  if (fs.existsSync(KAFKA_STARTED_BY_TESTS)) {
    await stopKafkaBroker();
    fs.rmSync(KAFKA_STARTED_BY_TESTS, { force: true });
  }
  if (fs.existsSync(REDIS_STARTED_BY_TESTS)) {
    await stopRedisServer();
    fs.rmSync(REDIS_STARTED_BY_TESTS, { force: true });
  }
}

/**
 * Deletes the topics this run created: a broker that keeps thousands of test partitions
 * gets slow, and a developer's broker is reused from run to run.
 */
async function deleteRunTopics(): Promise<void> {
  if (process.env.STREAMGRAPH_TEST_INFRA === 'off' || !process.env.STREAMGRAPH_TEST_RUN) return;
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  try {
    await admin.connect();
    const prefix = testRunPrefix();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } catch (e) {
    console.warn(`could not delete this run's test topics: ${(e as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Deletes the Redis keys of this run's views, generations and registries (names start with the run prefix). */
async function deleteRunKeys(): Promise<void> {
  if (process.env.STREAMGRAPH_TEST_INFRA === 'off' || !process.env.STREAMGRAPH_TEST_RUN) return;
  const redis = redisFromEnv();
  try {
    const prefix = testRunPrefix();
    for (const pattern of [`sg:v:{${prefix}*`, `sg:gen:${prefix}*`, `sg:registry:${prefix}*`]) await deleteMatching(redis, pattern);
  } catch (e) {
    console.warn(`could not delete this run's Redis keys: ${(e as Error).message}`);
  } finally {
    redis.disconnect();
  }
}
