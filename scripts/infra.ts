// CLI for the local infrastructure: `up` starts Kafka, Redis, PostgreSQL (the catalog database) and
// Kafka Connect (Debezium) and creates the topics, `down` stops what up started, `status` reports,
// `reset` also drops the catalog's replication slots and connectors and deletes the local data.

import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONNECT_URL, detachedConnectPid, isConnectReachable, startConnectWorker, stopConnectWorker } from '../infra/connect';
import { detachedKafkaPid, isKafkaReachable, startKafkaBroker, stopKafkaBroker } from '../infra/kafka';
import {
  DEFAULTS as POSTGRES,
  dropReplicationSlots,
  ensureDatabase,
  isPostgresReachable,
  localClusterFolders,
  localPostgresUrl,
  runningPid,
  startPostgres,
  stopPostgres,
} from '../infra/postgres';
import { catalogSourceFromEnv } from '../subgraphs/catalog/catalogSource';
import { connectorStatus, deleteConnector, listConnectors } from '../subgraphs/catalog/cdcConnector';
import { detachedRedisPid, ensureRedis, isRedisReachable, redactUrl, stopRedisServer } from '../infra/redis';
import { ensureTopics } from '../infra/topics';
import { namespacedTopicSpecs } from './declarations';
import { createKafka, kafkaConfigFromEnv, replicationFactorFromEnv } from '../platform/kafkaConfig';
import { checkRedis, parseRedisEnv, redisFromEnv } from '../platform/redisConfig';
import { namespaceFromEnv } from '../platform/settings';

const USAGE = 'usage: tsx scripts/infra.ts up | down | status | reset';
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
  await Promise.all([upPostgres(), upConnect(Array.isArray(kafkaConfig.brokers) ? kafkaConfig.brokers : where.split(','))]);
  // From now on the running services are infra up's: a later test teardown must not stop them.
  for (const marker of ['kafka', 'redis', 'postgres', 'connect']) fs.rmSync(path.join(RUN_DIR, `${marker}.started-by-tests`), { force: true });

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

/** The catalog database: CATALOG_DATABASE_URL, else the project's own cluster and its `catalog` database. */
async function upPostgres(): Promise<void> {
  if (process.env.CATALOG_DATABASE_URL) {
    const { databaseUrl } = catalogSourceFromEnv();
    if (!(await isPostgresReachable(databaseUrl, 10_000)))
      throw new Error(`the catalog database at CATALOG_DATABASE_URL is not reachable; start it or unset CATALOG_DATABASE_URL to run a local PostgreSQL`);
    line('postgres', 'reachable at CATALOG_DATABASE_URL');
    return;
  }
  const local = localPostgresUrl(POSTGRES.port);
  if (runningPid() === undefined && (await isPostgresReachable(local, 3_000))) {
    // Another cluster (another checkout's, or one started by hand) already serves the port: use it.
    const created = await ensureDatabase(local, 'catalog');
    line('postgres', `already running at 127.0.0.1:${POSTGRES.port} (not started by infra up)${created ? ', database catalog created' : ''}`);
    return;
  }
  const started = Date.now();
  const pg = await startPostgres();
  const created = await ensureDatabase(pg.url, 'catalog');
  line(
    'postgres',
    `${pg.alreadyRunning ? 'already running' : `started in ${seconds(started)}`} at 127.0.0.1:${pg.port} (pid ${runningPid() ?? '?'}, log ${rel(pg.logFile)})${created ? ', database catalog created' : ''}`,
  );
}

/** Kafka Connect with Debezium: KAFKA_CONNECT_URL, else a worker of the project's own. */
async function upConnect(brokers: string[]): Promise<void> {
  const external = process.env.KAFKA_CONNECT_URL;
  if (external) {
    if (!(await isConnectReachable(external, 10_000)))
      throw new Error(`Kafka Connect at KAFKA_CONNECT_URL=${external} is not reachable; start it or unset KAFKA_CONNECT_URL to run a local worker`);
    line('connect', `reachable at ${external} (KAFKA_CONNECT_URL)`);
    return;
  }
  const started = Date.now();
  const worker = await startConnectWorker({ brokers, detached: true });
  line('connect', `${worker.alreadyRunning ? 'already running' : `started in ${seconds(started)}`} at ${worker.url} (pid ${worker.pid}, log ${rel(worker.logFile)})`);
}

async function down(): Promise<void> {
  // Connect first: a worker stopped cleanly flushes its offsets, so nothing is re-sent later.
  const connectPid = detachedConnectPid();
  line('connect', (await stopConnectWorker()) ? `stopped (pid ${connectPid})` : 'no Connect worker started by infra up is running');
  const pgPid = runningPid();
  line('postgres', (await stopPostgres()) ? `stopped (pid ${pgPid})` : 'no PostgreSQL started by infra up is running');
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
  // Every component is reported, whatever the others' state: one down must not hide the rest.
  const postgresUp = await statusPostgres();
  const connectUp = await statusConnect();
  return kafkaUp && redisUp && postgresUp && connectUp;
}

async function statusPostgres(): Promise<boolean> {
  const { databaseUrl } = catalogSourceFromEnv();
  const up = await isPostgresReachable(databaseUrl, 3_000);
  const pid = process.env.CATALOG_DATABASE_URL ? undefined : runningPid();
  line('postgres', `${up ? 'reachable' : 'not reachable'} at ${process.env.CATALOG_DATABASE_URL ? 'CATALOG_DATABASE_URL' : `127.0.0.1:${POSTGRES.port} (catalog database)`}${pid ? ` (pid ${pid})` : ''}`);
  return up;
}

async function statusConnect(): Promise<boolean> {
  const { connectUrl } = catalogSourceFromEnv();
  const up = await isConnectReachable(connectUrl, 3_000);
  const pid = process.env.KAFKA_CONNECT_URL ? undefined : detachedConnectPid();
  line('connect', `${up ? 'reachable' : 'not reachable'} at ${connectUrl}${pid ? ` (pid ${pid})` : ''}`);
  if (!up) return false;
  for (const name of await listConnectors(connectUrl)) {
    const s = await connectorStatus(connectUrl, name);
    line('', `connector ${name}: ${s.state}, tasks ${s.tasks.map((t) => `${t.id} ${t.state}`).join(', ') || 'none'}`);
  }
  return true;
}

/**
 * A clean slate for the local stack: the catalog connectors are deleted and their replication
 * slots dropped (a slot left behind holds WAL forever), everything is stopped, and the local
 * broker's and database's data are deleted. External clusters (the settings) are left alone.
 */
async function reset(): Promise<void> {
  const connectUrl = process.env.KAFKA_CONNECT_URL ?? DEFAULT_CONNECT_URL;
  if (!process.env.KAFKA_CONNECT_URL && (await isConnectReachable(connectUrl, 3_000))) {
    for (const name of (await listConnectors(connectUrl)).filter((n) => n.endsWith('catalog-products-cdc'))) {
      await deleteConnector(connectUrl, name);
      line('connect', `connector ${name} deleted`);
    }
  }
  if (!process.env.CATALOG_DATABASE_URL && runningPid() !== undefined) {
    const dropped = await dropReplicationSlots(localPostgresUrl(POSTGRES.port, 'catalog'), '');
    line('postgres', `replication slots dropped: ${dropped.join(', ') || 'none'}`);
  }
  await down();
  fs.rmSync(path.resolve(__dirname, '..', '.infra-cache', 'kafka-data'), { recursive: true, force: true });
  fs.rmSync(localClusterFolders().dataDir, { recursive: true, force: true });
  line('reset', 'local Kafka and PostgreSQL data deleted (jars kept)');
}

function line(component: string, text: string): void {
  console.log(`${component.padEnd(8)} ${text}`);
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
    case 'reset':
      await reset();
      return 0;
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
