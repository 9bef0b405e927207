// CLI for the local infrastructure: `up` starts Kafka + Redis and creates the topics, `down` stops what up started, `status` reports.

import fs from 'node:fs';
import path from 'node:path';
import { detachedKafkaPid, isKafkaReachable, startKafkaBroker, stopKafkaBroker } from '../infra/kafka';
import { detachedRedisPid, ensureRedis, isRedisReachable, redactUrl, stopRedisServer } from '../infra/redis';
import { ensureTopics } from '../infra/topics';
import { namespacedTopicSpecs } from './declarations';
import { createKafka, kafkaConfigFromEnv, replicationFactorFromEnv } from '../platform/kafkaConfig';
import { checkRedis, parseRedisEnv, redisFromEnv } from '../platform/redisConfig';
import { namespaceFromEnv } from '../platform/settings';

const USAGE = 'usage: tsx scripts/infra.ts up | down | status';
const RUN_DIR = path.resolve(__dirname, '..', '.run');

async function up(): Promise<void> {
  const external = Boolean(process.env.KAFKA_BROKERS);
  const kafkaConfig = kafkaConfigFromEnv();
  const where = kafkaConfig.brokers.toString();
  // Configuration mistakes fail before anything is started.
  const redisEnv = parseRedisEnv();
  if (external) {
    if (!(await isKafkaReachable(kafkaConfig, 10_000))) {
      throw new Error(`Kafka at KAFKA_BROKERS=${where} is not reachable; start it or unset KAFKA_BROKERS to run a local broker`);
    }
    line('kafka', `reachable at ${where} (KAFKA_BROKERS)`);
  } else if (await isKafkaReachable(kafkaConfig, 3_000)) {
    const pid = detachedKafkaPid();
    line('kafka', `already running at ${where}${pid ? ` (pid ${pid})` : ' (not started by infra up)'}`);
  } else {
    const started = Date.now();
    const broker = await startKafkaBroker({ detached: true });
    line('kafka', `started at ${broker.brokers.join(',')} in ${seconds(started)} (pid ${broker.pid}, log ${rel(broker.logFile)})`);
  }
  // From now on the running services are infra up's: a later test teardown must not stop them.
  for (const marker of ['kafka.started-by-tests', 'redis.started-by-tests']) fs.rmSync(path.join(RUN_DIR, marker), { force: true });

  if (redisEnv.kind === 'cluster') {
    const client = redisFromEnv(process.env, { lazyConnect: true });
    try {
      await checkRedis(client, redisEnv.url);
    } finally {
      client.disconnect();
    }
    line('redis', `reachable at ${redisEnv.url} (REDIS_CLUSTER_NODES)`);
  } else {
    const redis = await ensureRedis(process.env.REDIS_URL, { detached: true });
    line('redis', `${redis.startedByUs ? 'started' : 'reachable'} at ${redactUrl(redis.url)}`);
  }

  const admin = createKafka(kafkaConfig).admin();
  await admin.connect();
  try {
    // In the namespace the subgraphs will read (npm start with STREAMGRAPH_NAMESPACE set).
    const specs = namespacedTopicSpecs(namespaceFromEnv());
    const { created } = await ensureTopics(admin, specs, { replicationFactor: replicationFactorFromEnv() });
    line('topics', `${specs.length} declared, ${created.length} created${created.length ? `: ${created.join(', ')}` : ''}`);
  } finally {
    await admin.disconnect();
  }
}

async function down(): Promise<void> {
  const kafkaPid = detachedKafkaPid();
  line('kafka', (await stopKafkaBroker()) ? `stopped (pid ${kafkaPid})` : 'no broker started by infra up is running');
  const redisPid = detachedRedisPid();
  line('redis', (await stopRedisServer()) ? `stopped (pid ${redisPid})` : 'no redis-server started by infra up is running');
}

/** Exits 1 when something is unreachable, so scripts can wait on it. */
async function status(): Promise<boolean> {
  const kafkaConfig = kafkaConfigFromEnv();
  const kafkaUp = await isKafkaReachable(kafkaConfig, 3_000);
  const kafkaPid = detachedKafkaPid();
  line('kafka', `${kafkaUp ? 'reachable' : 'not reachable'} at ${kafkaConfig.brokers.toString()}${kafkaPid ? ` (pid ${kafkaPid})` : ''}`);

  const redisEnv = parseRedisEnv();
  let redisUp: boolean;
  if (redisEnv.kind === 'cluster') {
    const client = redisFromEnv(process.env, { lazyConnect: true });
    redisUp = await checkRedis(client, redisEnv.url).then(
      () => true,
      () => false,
    );
    client.disconnect();
  } else {
    redisUp = await isRedisReachable(redisEnv.url, 3_000);
  }
  const redisPid = detachedRedisPid();
  line('redis', `${redisUp ? 'reachable' : 'not reachable'} at ${redactUrl(redisEnv.url)}${redisPid ? ` (pid ${redisPid})` : ''}`);
  return kafkaUp && redisUp;
}

function line(component: string, text: string): void {
  console.log(`${component.padEnd(6)} ${text}`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

function rel(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up':
      await up();
      return 0;
    case 'down':
      await down();
      return 0;
    case 'status':
      return (await status()) ? 0 : 1;
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Expected failures carry a message written for people; INFRA_DEBUG=1 shows the stack for the rest.
    const message = err instanceof Error ? err.message : String(err);
    console.error(`infra ${process.argv[2] ?? ''}: ${message}`);
    if (process.env.INFRA_DEBUG && err instanceof Error && err.stack) console.error(err.stack);
    process.exit(1);
  },
);
