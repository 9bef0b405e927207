// Runs a Kafka Connect worker in distributed mode (offsets, configs and status in Kafka topics,
// connectors created over REST) from Maven Central jars, with Debezium's PostgreSQL connector as
// a plugin, for npm start, the tests and CI. Like the broker (infra/kafka.ts): no Docker.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandLineIncludes, freePort, isAlive, logTail, onPath, portIsFree, runCommand } from './processes';

const ROOT = path.resolve(__dirname, '..');
const KAFKA_VERSION = '3.9.1';
const DEBEZIUM_VERSION = '3.6.1.Final';
const WORKER_JAR = `connect-runtime-${KAFKA_VERSION}.jar`;
const CONNECTOR_JAR = `debezium-connector-postgres-${DEBEZIUM_VERSION}.jar`;
const LIBS_DIR = path.join(ROOT, '.infra-cache', 'connect-libs');
const PLUGINS_DIR = path.join(ROOT, '.infra-cache', 'connect-plugins');
const CONNECTOR_DIR = path.join(PLUGINS_DIR, 'debezium-connector-postgres');
const WORKER_POM = path.join(ROOT, 'infra', 'connect', 'pom.xml');
const CONNECTOR_POM = path.join(ROOT, 'infra', 'debezium', 'pom.xml');
const LOG4J = path.join(ROOT, 'infra', 'connect', 'log4j.properties');
const MAIN_CLASS = 'org.apache.kafka.connect.cli.ConnectDistributed';

/** Where a detached worker records its pid so `infra down` (another process) can stop it. */
export const CONNECT_PID_FILE = path.join(ROOT, '.run', 'connect.pid');
export const DEFAULT_CONNECT_PORT = 8083;
export const DEFAULT_CONNECT_URL = `http://127.0.0.1:${DEFAULT_CONNECT_PORT}`;

const READY_DEADLINE_MS = 120_000;
const STOP_DEADLINE_MS = 30_000;

export interface ConnectWorkerOptions {
  readonly brokers: readonly string[];
  /** REST port; 0 picks a free one (a private worker for a test). @default 8083 */
  readonly port?: number;
  /** The worker group and the prefix of its three internal topics. @default 'streamgraph-connect' */
  readonly groupId?: string;
  /** Prefix of the internal topics (a test namespace, so its teardown deletes them). @default '' */
  readonly topicPrefix?: string;
  /** Outlive this process: the pid goes to .run/connect.pid for stopConnectWorker(). */
  readonly detached?: boolean;
  /** @default .run/connect.log for the default worker, else a temp file */
  readonly logFile?: string;
  readonly heapMb?: number;
}

export interface ConnectWorkerHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  readonly alreadyRunning: boolean;
  /** SIGTERM: the worker commits its offsets and leaves the group. */
  stop(): Promise<void>;
  /** SIGKILL now: a crash; resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Downloads the worker and connector jars once (Maven Central, one pom each: separate classpaths). */
export async function ensureConnectJars(): Promise<void> {
  const wanted = [
    { pom: WORKER_POM, dir: LIBS_DIR, jar: WORKER_JAR },
    { pom: CONNECTOR_POM, dir: CONNECTOR_DIR, jar: CONNECTOR_JAR },
  ];
  for (const { pom, dir, jar } of wanted) {
    if (fs.existsSync(path.join(dir, jar))) continue;
    if (!onPath('mvn'))
      throw new Error('Maven is needed once to download the Kafka Connect and Debezium jars: apt-get install maven, or set KAFKA_CONNECT_URL to use an existing Connect cluster');
    const { code, output } = await runCommand('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${dir}`, '-DincludeScope=runtime'], ROOT);
    if (code !== 0 || !fs.existsSync(path.join(dir, jar)))
      throw new Error(`Could not download ${jar} from Maven Central (mvn exited ${code}):\n${tail(output, 5)}`);
  }
}

/** Starts (or finds already serving the port) a Connect worker and resolves once its REST API answers. */
export async function startConnectWorker(opts: ConnectWorkerOptions): Promise<ConnectWorkerHandle> {
  if (!onPath('java')) throw new Error('Java 17+ is needed to run the local Kafka Connect worker: apt-get install openjdk-17-jre-headless, or set KAFKA_CONNECT_URL');
  const port = opts.port === 0 ? await freePort() : (opts.port ?? DEFAULT_CONNECT_PORT);
  const url = `http://127.0.0.1:${port}`;
  const isDefault = port === DEFAULT_CONNECT_PORT && opts.groupId === undefined;
  const logFile = path.resolve(opts.logFile ?? (isDefault ? path.join(ROOT, '.run', 'connect.log') : path.join(os.tmpdir(), `streamgraph-connect-${port}.log`)));

  if (await isConnectReachable(url, 2_000)) {
    const pid = readPidFile();
    return handleFor({ url, port, pid: pid ?? -1, logFile, alreadyRunning: true, child: undefined });
  }
  if (!(await portIsFree(port))) throw new Error(`Port ${port} on 127.0.0.1 is taken by something that is not a Kafka Connect worker; stop it or set KAFKA_CONNECT_URL`);
  await ensureConnectJars();

  const groupId = opts.groupId ?? 'streamgraph-connect';
  const prefix = opts.topicPrefix ?? '';
  // The default worker keeps its rendered properties under .run; a private one in a temp folder
  // removed when it exits.
  const workDir = isDefault ? path.join(ROOT, '.run', 'connect') : fs.mkdtempSync(path.join(os.tmpdir(), 'streamgraph-connect-'));
  fs.mkdirSync(workDir, { recursive: true });
  const propsFile = path.join(workDir, 'worker.properties');
  fs.writeFileSync(
    propsFile,
    [
      `bootstrap.servers=${opts.brokers.join(',')}`,
      `group.id=${groupId}`,
      `config.storage.topic=${prefix}${groupId}.configs`,
      `offset.storage.topic=${prefix}${groupId}.offsets`,
      `status.storage.topic=${prefix}${groupId}.status`,
      'config.storage.replication.factor=1',
      'offset.storage.replication.factor=1',
      'status.storage.replication.factor=1',
      'offset.storage.partitions=5',
      'status.storage.partitions=1',
      // Plain JSON that a Node consumer reads directly: no schema wrapper around every record.
      'key.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable=false',
      'value.converter.schemas.enable=false',
      // The default 60 s means a crashed worker's successor re-sends up to a minute of changes.
      'offset.flush.interval.ms=1000',
      `plugin.path=${PLUGINS_DIR}`,
      // Reads plugin manifests instead of scanning every class: about half the start-up time.
      'plugin.discovery=service_load',
      `listeners=http://127.0.0.1:${port}`,
      'rest.advertised.host.name=127.0.0.1',
      `rest.advertised.port=${port}`,
      // A restarted worker takes its connectors back sooner than the 5-minute default allows.
      'scheduled.rebalance.max.delay.ms=5000',
      '',
    ].join('\n'),
  );
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.appendFileSync(logFile, `\n=== streamgraph: starting Kafka Connect worker on ${url} at ${new Date().toISOString()} ===\n`);
  const logOffset = fs.statSync(logFile).size;
  const out = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'java',
      [
        `-Xmx${opts.heapMb ?? 512}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${LOG4J}`,
        `-Dstreamgraph.connect.log.file=${logFile}`,
        '-cp',
        `${LIBS_DIR}${path.sep}*`,
        MAIN_CLASS,
        propsFile,
      ],
      { cwd: workDir, detached: opts.detached ?? false, stdio: ['ignore', out, out] },
    );
  } finally {
    fs.closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('Could not launch java for the Kafka Connect worker');
  let early: string | undefined;
  child.once('exit', (code, signal) => {
    early = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (!isDefault) fs.rmSync(workDir, { recursive: true, force: true });
  });
  if (opts.detached) {
    child.unref();
    fs.mkdirSync(path.dirname(CONNECT_PID_FILE), { recursive: true });
    fs.writeFileSync(CONNECT_PID_FILE, `${pid}\n`);
  } else {
    // A worker of a crashed test must not hold its port and group for the next run.
    const onParentExit = () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    process.on('exit', onParentExit);
    child.once('exit', () => process.off('exit', onParentExit));
  }
  const handle = handleFor({ url, port, pid, logFile, alreadyRunning: false, child });
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    if (early !== undefined) {
      removePidFile(pid);
      throw new Error(`Kafka Connect worker ${early} during start-up; ${logFile} says:\n${logTail(logFile, logOffset)}`);
    }
    if (await isConnectReachable(url, 2_000)) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`Kafka Connect worker on ${url} was not ready within ${READY_DEADLINE_MS / 1000}s; ${logFile} says:\n${logTail(logFile, logOffset)}`);
    }
    await sleep(250);
  }
}

/**
 * Whether a worker answers and has joined its group: GET /connectors only succeeds once the
 * herder is ready, unlike GET / which answers as soon as the REST server listens.
 */
export async function isConnectReachable(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`${url}/connectors`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Stops the worker started with `detached: true`; true if one was running. */
export async function stopConnectWorker(): Promise<boolean> {
  const pid = detachedConnectPid();
  if (pid === undefined) {
    fs.rmSync(CONNECT_PID_FILE, { force: true });
    return false;
  }
  await stopPid(pid);
  removePidFile(pid);
  return true;
}

/** The pid of the detached worker if it still runs. */
export function detachedConnectPid(): number | undefined {
  const pid = readPidFile();
  return pid !== undefined && isAlive(pid) && commandLineIncludes(pid, MAIN_CLASS) ? pid : undefined;
}

function handleFor(info: {
  url: string;
  port: number;
  pid: number;
  logFile: string;
  alreadyRunning: boolean;
  child: ChildProcess | undefined;
}): ConnectWorkerHandle {
  const { child, pid } = info;
  const gone = () => (child ? child.exitCode !== null || child.signalCode !== null : !isAlive(pid));
  const waitGone = async () => {
    while (!gone()) await sleep(50);
  };
  return {
    url: info.url,
    port: info.port,
    pid,
    logFile: info.logFile,
    alreadyRunning: info.alreadyRunning,
    async stop() {
      if (pid > 0 && !gone()) await stopPid(pid, gone);
      removePidFile(pid);
    },
    async kill() {
      if (pid > 0 && !gone()) process.kill(pid, 'SIGKILL');
      await waitGone();
      removePidFile(pid);
    },
  };
}

async function stopPid(pid: number, gone: () => boolean = () => !isAlive(pid)): Promise<void> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_DEADLINE_MS;
  while (!gone()) {
    if (Date.now() > deadline) signal(pid, 'SIGKILL');
    await sleep(100);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function readPidFile(): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(CONNECT_PID_FILE, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function removePidFile(pid: number): void {
  if (readPidFile() === pid) fs.rmSync(CONNECT_PID_FILE, { force: true });
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
