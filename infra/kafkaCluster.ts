// Runs a three-node KRaft Kafka cluster from the same Maven Central jars as infra/kafka.ts, for
// `npm run start:cluster` and the cluster tests: every node is broker and controller, the three
// form the controller quorum, and each has its own ports and data folder.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, formatStorage } from './kafka';

const ROOT = path.resolve(__dirname, '..');
const LOG4J = path.join(ROOT, 'infra', 'kafka', 'log4j.properties');
/** A node must never outlive the process that started it (a crashed test or Ctrl-C): one exit listener for all. */
const killOnExit = new Set<() => void>();
process.on('exit', () => killOnExit.forEach((kill) => kill()));
const READY_DEADLINE_MS = 120_000;
const STOP_DEADLINE_MS = 30_000;

/** Client ports of the default cluster; controller ports are these + 100. Clear of 9092/9093. */
export const DEFAULT_KAFKA_CLUSTER_PORTS = [19092, 19093, 19094] as const;

export interface KafkaClusterOptions {
  /** One folder per node below it (node-1, ...); emptied first: every start is a new cluster. */
  readonly baseDir: string;
  readonly ports?: readonly number[];
  /**
   * Per JVM. Three brokers share a 2-core machine with other work, so they get less than the
   * single broker's 768 MB and one GC/compiler thread budget each (see jvmArgs).
   */
  readonly heapMb?: number;
}

export interface KafkaClusterNode {
  readonly nodeId: number;
  readonly port: number;
  readonly broker: string;
  readonly logFile: string;
  pid(): number | undefined;
  running(): boolean;
  /** SIGKILL now (a crash); resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the node again on its ports and data (after kill); resolves once it is a broker again. */
  restart(): Promise<void>;
}

export interface KafkaClusterHandle {
  readonly brokers: string[];
  readonly nodes: readonly KafkaClusterNode[];
  /** SIGTERM every node, SIGKILL after a deadline; resolves once all are gone. */
  stop(): Promise<void>;
}

/** Starts the three nodes together (a quorum needs a majority up) and resolves when all are brokers. */
export async function startKafkaCluster(opts: KafkaClusterOptions): Promise<KafkaClusterHandle> {
  const libs = await ensureKafkaJars();
  const classpath = `${libs}${path.sep}*`;
  const ports = opts.ports ?? DEFAULT_KAFKA_CLUSTER_PORTS;
  const heapMb = opts.heapMb ?? 384;
  fs.rmSync(opts.baseDir, { recursive: true, force: true });
  fs.mkdirSync(opts.baseDir, { recursive: true });
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p + 100}`).join(',');
  // One id for all: a node refuses a quorum formatted with another cluster id.
  const clusterId = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256)))
    .toString('base64url')
    .replace(/^-/, 'A');

  const nodes = await Promise.all(
    ports.map(async (port, i) => {
      const nodeId = i + 1;
      const dataDir = path.join(opts.baseDir, `node-${nodeId}`);
      const logDir = path.join(dataDir, 'kraft-logs');
      fs.mkdirSync(logDir, { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'cluster.id'), `${clusterId}\n`);
      const propsFile = path.join(dataDir, 'server.properties');
      fs.writeFileSync(propsFile, renderNode(nodeId, port, voters, logDir, ports.length));
      await formatStorage(classpath, propsFile, logDir, dataDir);
      return nodeFor({ nodeId, port, dataDir, propsFile, classpath, heapMb });
    }),
  );
  const brokers = nodes.map((n) => n.broker);
  const handle: KafkaClusterHandle = {
    brokers,
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stopNode()));
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.launch()));
    await waitForBrokers(brokers, ports.length, READY_DEADLINE_MS, () => nodes.find((n) => n.exitReason() !== undefined));
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

/**
 * Sets min.insync.replicas on existing topics: with acks=all a write then needs two of the three
 * replicas, so a write acknowledged before a broker dies is never lost with it.
 */
export async function requireInSyncReplicas(brokers: string[], topics: readonly string[], minInSync = 2, deadlineMs = 60_000): Promise<void> {
  // Topics just created are not yet known to every broker (UNKNOWN_TOPIC_OR_PARTITION): try again.
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await alterInSync(brokers, topics, minInSync);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`could not set min.insync.replicas=${minInSync} on the topics: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function alterInSync(brokers: string[], topics: readonly string[], minInSync: number): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'streamgraph-cluster-topics', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // AlterConfigs replaces a topic's whole set of overrides: keep the ones it has (cleanup.policy, retention.ms).
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    });
    await admin.alterConfigs({
      validateOnly: false,
      resources: resources.map((r) => ({
        type: ConfigResourceTypes.TOPIC,
        name: r.resourceName,
        configEntries: [
          ...r.configEntries.filter((e) => !e.isDefault && !e.readOnly && e.configName !== 'min.insync.replicas').map((e) => ({ name: e.configName, value: e.configValue })),
          { name: 'min.insync.replicas', value: String(minInSync) },
        ],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** How many brokers the cluster's metadata lists now (0 when no node answers). */
export async function liveBrokerCount(brokers: string[], timeoutMs = 3_000): Promise<number> {
  const kafka = new Kafka({ brokers, clientId: 'streamgraph-cluster-probe', logLevel: logLevel.NOTHING, connectionTimeout: timeoutMs, requestTimeout: timeoutMs, retry: { retries: 0 } });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// --- nodes -----------------------------------------------------------------------------------

interface NodeSpec {
  nodeId: number;
  port: number;
  dataDir: string;
  propsFile: string;
  classpath: string;
  heapMb: number;
}

type InternalNode = KafkaClusterNode & { launch(): Promise<void>; stopNode(): Promise<void>; exitReason(): string | undefined };

function nodeFor(spec: NodeSpec): InternalNode {
  const broker = `127.0.0.1:${spec.port}`;
  const logFile = path.join(spec.dataDir, 'kafka.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let reason: string | undefined;
  const onParentExit = (): void => void child?.kill('SIGKILL');
  killOnExit.add(onParentExit);

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const launch = async () => {
    reason = undefined;
    fs.appendFileSync(logFile, `\n=== streamgraph: starting Kafka node ${spec.nodeId} on ${broker} at ${new Date().toISOString()} ===\n`);
    const out = fs.openSync(logFile, 'a');
    try {
      child = spawn('java', [...jvmArgs(spec.heapMb, logFile), '-cp', spec.classpath, 'kafka.Kafka', spec.propsFile], {
        cwd: spec.dataDir,
        stdio: ['ignore', out, out],
      });
    } finally {
      fs.closeSync(out);
    }
    const proc = child;
    exited = new Promise<void>((resolve) => {
      proc.once('error', (e) => ((reason = `could not be started (${e.message})`), resolve()));
      proc.once('exit', (code, sig) => ((reason = sig ? `was killed by ${sig}` : `exited with code ${code}`), resolve()));
    });
  };
  const node: InternalNode = {
    nodeId: spec.nodeId,
    port: spec.port,
    broker,
    logFile,
    pid: () => (running() ? child?.pid : undefined),
    running,
    exitReason: () => (reason === undefined ? undefined : `Kafka node ${spec.nodeId} (${broker}) ${reason}; see ${logFile}`),
    launch,
    async kill() {
      if (!running()) return;
      child?.kill('SIGKILL');
      await exited;
    },
    async restart() {
      if (running()) return;
      await launch();
      // Back once the quorum lists it as a broker again (its session had expired while it was down).
      await waitForBrokers([broker], 1, READY_DEADLINE_MS, () => (reason === undefined ? undefined : node), [broker]);
    },
    async stopNode() {
      if (running()) {
        child?.kill('SIGTERM');
        const timer = setTimeout(() => child?.kill('SIGKILL'), STOP_DEADLINE_MS);
        await exited;
        clearTimeout(timer);
      }
      killOnExit.delete(onParentExit);
    },
  };
  return node;
}

/** What Kafka's launcher passes, sized for three JVMs on two shared cores. */
function jvmArgs(heapMb: number, logFile: string): string[] {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    // Each JVM would otherwise size its GC and JIT thread pools for the whole machine.
    '-XX:ParallelGCThreads=1',
    '-XX:ConcGCThreads=1',
    '-XX:CICompilerCount=2',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${LOG4J}`,
    `-Dstreamgraph.kafka.log.file=${logFile}`,
  ];
}

/**
 * Combined broker+controller nodes. Internal topics are replicated three times with two in sync;
 * the broker default min.insync.replicas stays 1 because the local Connect worker creates its own
 * topics with one replica (infra/connect.ts), and acks=all on those would otherwise always fail:
 * start:cluster sets min.insync.replicas=2 on the project's topics (requireInSyncReplicas).
 */
function renderNode(nodeId: number, port: number, voters: string, logDir: string, size: number): string {
  const replicas = Math.min(3, size);
  return [
    `# Node ${nodeId} of a local ${size}-node KRaft cluster, rendered by infra/kafkaCluster.ts.`,
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${port + 100}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    `log.dirs=${logDir}`,
    `default.replication.factor=${replicas}`,
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${Math.min(2, replicas)}`,
    'min.insync.replicas=1',
    'unclean.leader.election.enable=false',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.num.partitions=4',
    'num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    // A killed node is fenced after 3 s instead of 9 s, so its partitions move sooner.
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=3000',
    // Followers that stop fetching leave the ISR after 10 s (default 30 s).
    'replica.lag.time.max.ms=10000',
    'auto.create.topics.enable=false',
    'log.segment.bytes=67108864',
    'log.index.size.max.bytes=1048576',
    'num.network.threads=2',
    'num.io.threads=2',
    'num.replica.fetchers=1',
    'num.recovery.threads.per.data.dir=1',
    'log.cleaner.dedupe.buffer.size=16777216',
    '',
  ].join('\n');
}

async function waitForBrokers(
  brokers: string[],
  count: number,
  deadlineMs: number,
  failed: () => { exitReason(): string | undefined } | undefined,
  mustList?: string[],
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const dead = failed();
    if (dead) throw new Error(dead.exitReason());
    if (await listsBrokers(brokers, count, mustList)) return;
    if (Date.now() > deadline) throw new Error(`the Kafka cluster at ${brokers.join(',')} did not list ${count} brokers within ${deadlineMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function listsBrokers(brokers: string[], count: number, mustList?: string[]): Promise<boolean> {
  const kafka = new Kafka({ brokers, clientId: 'streamgraph-cluster-probe', logLevel: logLevel.NOTHING, connectionTimeout: 2_000, requestTimeout: 2_000, retry: { retries: 0 } });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const listed = (await admin.describeCluster()).brokers.map((b) => `${b.host}:${b.port}`);
    return listed.length >= count && (mustList ?? []).every((b) => listed.includes(b));
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
