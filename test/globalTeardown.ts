// Jest global teardown: stops the broker and redis-server that global setup started, and nothing else.

import fs from 'node:fs';
import { stopKafkaBroker } from '../infra/kafka';
import { stopRedisServer } from '../infra/redis';
import { deleteMatching } from '../subgraphs/runtime/deleteMatching';
import { createKafka, kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { redisFromEnv } from '../platform/redisConfig';
import { KAFKA_STARTED_BY_TESTS, REDIS_STARTED_BY_TESTS } from './globalSetup';
import { testRunPrefix } from './support/waitFor';

export default async function globalTeardown(): Promise<void> {
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
