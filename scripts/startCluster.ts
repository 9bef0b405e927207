// `npm run start:cluster`: the system as it runs on more than one node, all on this machine: a
// three-node Kafka KRaft cluster, a Redis Cluster of three masters and three replicas, two
// instances of every subgraph (one consumer group per view: they split its partitions) and two
// gateways, plus the simulator. PostgreSQL is the single local one of `npm start`; a Kafka Connect
// worker of its own (port 18083) streams the catalog's products into the cluster. Every start is
// a new, empty cluster under .run/cluster; Ctrl-C stops everything this started.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startConnectWorker, type ConnectWorkerHandle } from '../infra/connect';
import { DEFAULT_KAFKA_CLUSTER_PORTS, requireInSyncReplicas, startKafkaCluster, type KafkaClusterHandle } from '../infra/kafkaCluster';
import { DEFAULTS as POSTGRES, dropReplicationSlots, ensureDatabase, isPostgresReachable, localPostgresUrl, startPostgres, stopPostgres } from '../infra/postgres';
import { DEFAULT_REDIS_CLUSTER_PORTS, startRedisCluster, type RedisClusterHandle } from '../infra/redisCluster';
import { ensureTopics } from '../infra/topics';
import { createKafka } from '../platform/kafkaConfig';
import { catalogSourceNames, sqlNamespace } from '../subgraphs/catalog/catalogSource';
import { deleteConnector } from '../subgraphs/catalog/cdcConnector';
import { namespacedTopicSpecs, productSubgraphs } from './declarations';
import { run, stopSupervised, tsx, waitReady } from './start';
import type { SupervisedProcess } from './supervisor/supervise';

const ROOT = path.resolve(__dirname, '..');
/** Kafka topics, Redis keys and the catalog's schema, slot and connector: apart from `npm start`'s. */
export const CLUSTER_NAMESPACE = 'cluster.';
export const CLUSTER_CONNECT_PORT = 18083;
/** Gateways on 5000 and 5100; instance i of a subgraph on its port + 1000 + 100 i (customers 5001, 5101). */
export const CLUSTER_GATEWAY_PORTS = [5000, 5100] as const;
export const clusterSubgraphPort = (defaultPort: number, instance: number): number => defaultPort + 1000 + 100 * instance;
/** The replication of the project's topics on the cluster, and how many replicas must have a write. */
export const CLUSTER_REPLICATION = { factor: 3, minInSync: 2 } as const;

export interface ClusterInfraOptions {
  /** Default .run/cluster. */
  readonly baseDir?: string;
  readonly namespace?: string;
  readonly kafkaPorts?: readonly number[];
  readonly redisPorts?: readonly number[];
  readonly kafkaHeapMb?: number;
  /** The cluster's Connect worker. @default CLUSTER_CONNECT_PORT */
  readonly connectPort?: number;
  /** PostgreSQL (the local one) and a Connect worker on the cluster for the catalog's products. */
  readonly catalog?: boolean;
}

export interface ClusterInfra {
  readonly kafka: KafkaClusterHandle;
  readonly redis: RedisClusterHandle;
  /** What every process on the cluster needs in its environment. */
  readonly env: Record<string, string>;
  /** Stops everything started here (the connector and slot of the namespace are removed first). */
  stop(): Promise<void>;
}

/** The engines and the namespace's topics (replicated three times, two in sync), nothing else. */
export async function startClusterInfra(opts: ClusterInfraOptions = {}): Promise<ClusterInfra> {
  const baseDir = opts.baseDir ?? path.join(ROOT, '.run', 'cluster');
  const namespace = opts.namespace ?? CLUSTER_NAMESPACE;
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: Error) => console.error(`cluster stop: ${e.message}`));
    stops.length = 0;
  };
  try {
    const [kafkaResult, redisResult] = await Promise.allSettled([
      startKafkaCluster({ baseDir: path.join(baseDir, 'kafka'), ports: opts.kafkaPorts ?? DEFAULT_KAFKA_CLUSTER_PORTS, heapMb: opts.kafkaHeapMb }),
      startRedisCluster({ baseDir: path.join(baseDir, 'redis'), ports: opts.redisPorts ?? DEFAULT_REDIS_CLUSTER_PORTS }),
    ]);
    if (kafkaResult.status === 'fulfilled') stops.push(() => kafkaResult.value.stop());
    if (redisResult.status === 'fulfilled') stops.push(() => redisResult.value.stop());
    if (kafkaResult.status === 'rejected') throw kafkaResult.reason;
    if (redisResult.status === 'rejected') throw redisResult.reason;
    const kafka = kafkaResult.value;
    const redis = redisResult.value;

    const specs = namespacedTopicSpecs(namespace);
    const admin = createKafka({ brokers: kafka.brokers, clientId: 'streamgraph-cluster' }).admin();
    await admin.connect();
    try {
      await ensureTopics(admin, specs, { replicationFactor: CLUSTER_REPLICATION.factor, timeoutMs: 60_000 });
    } finally {
      await admin.disconnect();
    }
    await requireInSyncReplicas(kafka.brokers, specs.map((s) => s.name), CLUSTER_REPLICATION.minInSync);

    const env: Record<string, string> = {
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_REPLICATION_FACTOR: String(CLUSTER_REPLICATION.factor),
      REDIS_CLUSTER_NODES: redis.seeds,
      STREAMGRAPH_NAMESPACE: namespace,
      // A dead instance's partitions move to the other after 6 s (the broker's minimum), not 30 s.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
    if (opts.catalog) {
      const pg = await catalogDatabase(stops);
      const connect = await startConnectWorker({ brokers: kafka.brokers, port: opts.connectPort ?? CLUSTER_CONNECT_PORT, groupId: 'streamgraph-connect-cluster', heapMb: 256 });
      stops.push(() => removeCatalogSource(connect, pg, namespace));
      env.CATALOG_DATABASE_URL = pg;
      env.KAFKA_CONNECT_URL = connect.url;
    }
    return { kafka, redis, env, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The local PostgreSQL of `npm start` (started here, and stopped at the end, only if it is not running). */
async function catalogDatabase(stops: Array<() => Promise<unknown>>): Promise<string> {
  const server = localPostgresUrl(POSTGRES.port);
  if (!(await isPostgresReachable(server, 3_000))) {
    const pg = await startPostgres();
    if (!pg.alreadyRunning) stops.push(() => stopPostgres());
  }
  await ensureDatabase(server, 'catalog');
  return localPostgresUrl(POSTGRES.port, 'catalog');
}

/** The connector goes with the cluster; its replication slot must too, or it holds WAL forever. */
async function removeCatalogSource(connect: ConnectWorkerHandle, databaseUrl: string, namespace: string): Promise<void> {
  await deleteConnector(connect.url, catalogSourceNames({ slot: 'catalog_products', publication: 'catalog_products' }, namespace).connector).catch(() => false);
  await connect.stop();
  await dropReplicationSlots(databaseUrl, sqlNamespace(namespace));
}

// --- npm run start:cluster -------------------------------------------------------------------

let infra: ClusterInfra | undefined;
let stopping = false;

async function stopAll(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  await stopSupervised();
  await infra?.stop();
  process.exit(code);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void stopAll());
  process.on('SIGTERM', () => void stopAll());
  const started = Date.now();
  console.log('starting a 3-node Kafka cluster, a 6-node Redis Cluster, PostgreSQL and a Connect worker...');
  infra = await startClusterInfra({ catalog: true });
  if (stopping) return;
  Object.assign(process.env, infra.env);
  console.log(`cluster infrastructure up in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  const notRunning: string[] = [];
  const ready = async (supervised: SupervisedProcess, port: number) => {
    if (!(await waitReady(supervised, port, 180_000))) notRunning.push(supervised.name);
  };
  const logLevel = process.env.LOG_LEVEL ?? 'warn';
  const declared = productSubgraphs();
  const instances = declared.flatMap((s) =>
    [0, 1].map((i) => {
      const port = clusterSubgraphPort(s.port, i);
      return { s, port, supervised: run(`cluster-${s.name}-${i + 1}`, `subgraphs/${s.name}/main.ts`, [], { LOG_LEVEL: logLevel, [s.portVariable]: String(port) }) };
    }),
  );
  await Promise.all(instances.map(({ supervised, port }) => ready(supervised, port)));
  if (stopping) return;
  const gateways = CLUSTER_GATEWAY_PORTS.map((port, i) => ({
    port,
    supervised: run(`cluster-gateway-${i + 1}`, 'gateway/main.ts', [], { LOG_LEVEL: logLevel, SUPERGRAPH_SOURCE: 'registry', PORT: String(port) }),
  }));
  await Promise.all(gateways.map(({ supervised, port }) => ready(supervised, port)));
  if (stopping) return;
  run('cluster-simulator', 'scripts/simulate.ts', process.argv.slice(2), {}, false);

  const [cmd, args] = tsx('scripts/token.ts', ['--sub', 'customer-1', '--role', 'customer', '--expires', '86400']);
  const devToken = spawnSync(cmd, [...args], { encoding: 'utf8' }).stdout.trim();
  console.log(`\nstreamgraph is running on a cluster${notRunning.length ? ` WITHOUT ${notRunning.join(', ')} (kept crashing; see .run/logs/<process>.log)` : ''}:`);
  for (const g of gateways) console.log(`  gateway    http://127.0.0.1:${g.port}/graphql   (either one: queries, mutations, subscriptions over graphql-ws)`);
  console.log(`  dev token  (customer-1, 24 h): ${devToken}`);
  console.log(`  demo page  http://127.0.0.1:${gateways[0]!.port}/demo#token=${devToken}&store=store-1`);
  for (const { s, port } of instances) console.log(`  ${s.name.padEnd(10)} http://127.0.0.1:${port}/graphql`);
  console.log(`  kafka      KAFKA_BROKERS=${infra.env.KAFKA_BROKERS}   (replication factor 3, min.insync.replicas 2; data in .run/cluster/kafka)`);
  console.log(`  redis      REDIS_CLUSTER_NODES=${infra.env.REDIS_CLUSTER_NODES}   (3 masters, 3 replicas)`);
  console.log(`  namespace  STREAMGRAPH_NAMESPACE=${CLUSTER_NAMESPACE}   (with the two lines above: npm run lag, dlq, rebuild on this cluster)`);
  console.log(`  connect    ${infra.env.KAFKA_CONNECT_URL}   (catalog CDC into the cluster)`);
  console.log(`  logs       .run/logs/cluster-<process>.log, .run/cluster/{kafka,redis}/*/`);
  console.log('Crashed processes are restarted with backoff; Ctrl-C stops everything that was started.\n');
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(`start:cluster: ${e.message}`);
    void stopAll(1);
  });
}
