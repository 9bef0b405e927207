// Jest global teardown: stops the broker and redis-server that global setup started, and nothing else.

import fs from 'node:fs';
import { stopKafkaBroker } from '../infra/kafka';
import { stopRedisServer } from '../infra/redis';
import { KAFKA_STARTED_BY_TESTS, REDIS_STARTED_BY_TESTS } from './globalSetup';

export default async function globalTeardown(): Promise<void> {
  if (fs.existsSync(KAFKA_STARTED_BY_TESTS)) {
    await stopKafkaBroker();
    fs.rmSync(KAFKA_STARTED_BY_TESTS, { force: true });
  }
  if (fs.existsSync(REDIS_STARTED_BY_TESTS)) {
    await stopRedisServer();
    fs.rmSync(REDIS_STARTED_BY_TESTS, { force: true });
  }
}
