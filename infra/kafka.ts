// Runs a real single-node KRaft Kafka broker from Maven Central jars, for npm start, the tests and CI.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { isAlive, logTail, onPath, portIsFree, runCommand } from './processes';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

const ROOT = path.resolve(__dirname, '..');
const KAFKA_VERSION = '3.9.1';
const BROKER_JAR = `kafka_2.13-${KAFKA_VERSION}.jar`;
const LIBS_DIR = path.join(ROOT, '.infra-cache', 'kafka-libs');
const POM = path.join(ROOT, 'infra', 'kafka', 'pom.xml');
const TEMPLATE = path.join(ROOT, 'infra', 'kafka', 'server.properties.template');
const LOG4J = path.join(ROOT, 'infra', 'kafka', 'log4j.properties');

/** Where a detached broker records its pid so `infra down` (another process) can stop it. */
export const KAFKA_PID_FILE = path.join(ROOT, '.run', 'kafka.pid');

const DEFAULTS = {
  port: 9092,
  controllerPort: 9093,
  dataDir: path.join(ROOT, '.infra-cache', 'kafka-data'),
  logFile: path.join(ROOT, '.run', 'kafka.log'),
  heapMb: 768,
};
const READY_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 30_000;

const JAVA_MISSING =
  'Java 17+ is needed to run the local Kafka broker: apt-get install openjdk-17-jre-headless, or set KAFKA_BROKERS to use an existing cluster';

export interface KafkaBrokerOptions {
  /** Client port; 0 picks free ports from the OS for both listeners. */
  port?: number;
  controllerPort?: number;
  /**
   * Holds the rendered server.properties, the cluster id and the broker's log directory.
   * Default .infra-cache/kafka-data, or a new temp dir with port 0 (the caller removes it).
   */
  dataDir?: string;
  /** Default .run/kafka.log for the default data dir, else <dataDir>/kafka.log. */
  logFile?: string;
  heapMb?: number;
  /** Outlive this process: the pid goes to .run/kafka.pid for stopKafkaBroker(). */
  detached?: boolean;
}

export interface KafkaBrokerHandle {
  brokers: string[];
  pid: number;
  /** The ports actually used, so a caller that passed port 0 can restart on the same ones. */
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
  /** True when a broker we had started detached from this dataDir was already serving the port. */
  alreadyRunning: boolean;
  /** SIGTERM, wait for a clean exit (SIGKILL after a deadline). */
  stop(): Promise<void>;
  /** SIGKILL now: simulates a crash. */
  kill(): void;
}

/** Downloads the broker jars once (Maven Central) and returns the directory to put on the classpath. */
export async function ensureKafkaJars(): Promise<string> {
  if (fs.existsSync(path.join(LIBS_DIR, BROKER_JAR))) return LIBS_DIR;
  if (!onPath('java')) throw new Error(JAVA_MISSING);
  if (!onPath('mvn')) {
    throw new Error(
      'Maven is needed once to download the Kafka broker jars: apt-get install maven, or set KAFKA_BROKERS to use an existing cluster',
    );
  }
  const args = ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${LIBS_DIR}`, '-DincludeScope=runtime'];
  const { code, output } = await runCommand('mvn', args, ROOT);
  if (code !== 0 || !fs.existsSync(path.join(LIBS_DIR, BROKER_JAR))) {
    throw new Error(
      `Could not download the Kafka ${KAFKA_VERSION} jars: Maven Central could not be reached (mvn exited ${code}); last mvn output:\n${mavenErrors(output)}`,
    );
  }
  return LIBS_DIR;
}

/** Starts (or, from the same dataDir, finds already running) a local broker and resolves once clients can use it. */
export async function startKafkaBroker(opts: KafkaBrokerOptions = {}): Promise<KafkaBrokerHandle> {
  if (!onPath('java')) throw new Error(JAVA_MISSING);
  const libs = await ensureKafkaJars();
  // A private broker (port 0) must not share the default broker's data dir (locked) or log.
  const dataDir = path.resolve(
    opts.dataDir ?? (opts.port === 0 ? fs.mkdtempSync(path.join(os.tmpdir(), 'streamgraph-kafka-')) : DEFAULTS.dataDir),
  );
  const logFile = path.resolve(opts.logFile ?? (dataDir === DEFAULTS.dataDir ? DEFAULTS.logFile : path.join(dataDir, 'kafka.log')));
  const heapMb = opts.heapMb ?? DEFAULTS.heapMb;
  const detached = opts.detached ?? false;
  const { port, controllerPort } = await choosePorts(opts.port ?? DEFAULTS.port, opts.controllerPort);
  await dying.get(port);
  dying.delete(port);
  const brokers = [`127.0.0.1:${port}`];
  const propsFile = path.join(dataDir, 'server.properties');

  const existing = await checkPortsFree(port, controllerPort, brokers, propsFile);
  if (existing !== undefined) {
    return handleFor(existing, undefined, { brokers, port, controllerPort, dataDir, logFile, alreadyRunning: true });
  }

  const logDir = path.join(dataDir, 'kraft-logs');
  fs.mkdirSync(logDir, { recursive: true });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(propsFile, renderProperties(port, controllerPort, logDir));
  const classpath = `${libs}${path.sep}*`;
  await formatStorage(classpath, propsFile, logDir, dataDir);

  // Everything since this offset belongs to this start; it is what an early exit reports.
  fs.appendFileSync(logFile, `\n=== streamgraph: starting Kafka broker on ${brokers[0]} at ${new Date().toISOString()} ===\n`);
  const logOffset = fs.statSync(logFile).size;
  const out = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'java',
      [
        `-Xmx${heapMb}m`,
        `-Xms${heapMb}m`,
        // What Kafka's own launcher (kafka-run-class.sh) passes, which starting from the jars
        // skips: short G1 pauses keep produce and fetch latency tails low.
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        '-XX:+ExplicitGCInvokesConcurrent',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${LOG4J}`,
        `-Dstreamgraph.kafka.log.file=${logFile}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        propsFile,
      ],
      { cwd: dataDir, detached, stdio: ['ignore', out, out] },
    );
  } finally {
    fs.closeSync(out);
  }
  const exited = exitOf(child);
  const pid = child.pid;
  if (pid === undefined) {
    const reason = await exited;
    throw new Error(`Could not launch java for the Kafka broker: ${reason}`);
  }
  if (detached) {
    child.unref();
    fs.mkdirSync(path.dirname(KAFKA_PID_FILE), { recursive: true });
    fs.writeFileSync(KAFKA_PID_FILE, `${pid}\n`);
  }
  const handle = handleFor(pid, child, { brokers, port, controllerPort, dataDir, logFile, alreadyRunning: false });

  // A broker left behind by a crashed test run would hold the ports and data dir lock; a
  // non-detached broker therefore goes down with this process.
  const onParentExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  if (!detached) {
    process.on('exit', onParentExit);
    void exited.then(() => process.off('exit', onParentExit));
  }

  const deadline = Date.now() + READY_DEADLINE_MS;
  let early: string | undefined;
  void exited.then((reason) => (early = reason));
  for (;;) {
    if (early !== undefined) {
      removePidFile(pid);
      throw new Error(`Kafka broker on ${brokers[0]} ${early} during startup; ${logFile} says:\n${logTail(logFile, logOffset)}`);
    }
    if (await isKafkaReachable(brokers, 2_000)) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(
        `Kafka broker on ${brokers[0]} was not ready within ${READY_DEADLINE_MS / 1000}s; ${logFile} says:\n${logTail(logFile, logOffset)}`,
      );
    }
    await sleep(200);
  }
}

/** Stops the broker started with `detached: true` (pid in .run/kafka.pid); true if one was running. */
export async function stopKafkaBroker(): Promise<boolean> {
  const pid = readPidFile(KAFKA_PID_FILE);
  if (pid === undefined) return false;
  const running = isKafkaProcess(pid);
  if (running) await stopPid(pid, STOP_DEADLINE_MS);
  removePidFile(pid);
  return running;
}

/** The pid of the detached broker if it is still running. */
export function detachedKafkaPid(): number | undefined {
  const pid = readPidFile(KAFKA_PID_FILE);
  return pid !== undefined && isKafkaProcess(pid) ? pid : undefined;
}

/** Whether a cluster answers a metadata request within timeoutMs. Never logs, never throws. */
export async function isKafkaReachable(brokers: string[] | KafkaConfig, timeoutMs: number): Promise<boolean> {
  const config: KafkaConfig = Array.isArray(brokers) ? { brokers } : brokers;
  const kafka = new Kafka({
    ...config,
    clientId: 'streamgraph-probe',
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const probe = (async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  })().catch(() => false);
  try {
    return await Promise.race([probe, timedOut]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

// --- ports -----------------------------------------------------------------------------------

async function choosePorts(port: number, controllerPort: number | undefined): Promise<{ port: number; controllerPort: number }> {
  if (port !== 0) return { port, controllerPort: controllerPort ?? (port === DEFAULTS.port ? DEFAULTS.controllerPort : port + 1) };
  // Hold both sockets at once so the OS cannot hand out the same port twice.
  const servers = await Promise.all([listenEphemeral(), listenEphemeral()]);
  const [a, b] = servers.map((s) => (s.address() as net.AddressInfo).port) as [number, number];
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return { port: a, controllerPort: controllerPort ?? b };
}

function listenEphemeral(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

/** Undefined when both ports are free; the pid of our own broker when it already serves them; else throws. */
async function checkPortsFree(port: number, controllerPort: number, brokers: string[], propsFile: string): Promise<number | undefined> {
  if (!(await portIsFree(port))) {
    if (!(await isKafkaReachable(brokers, 3_000))) {
      throw new Error(`Port ${port} on 127.0.0.1 is taken by something that is not a reachable Kafka broker; stop it or choose another port`);
    }
    const pid = readPidFile(KAFKA_PID_FILE);
    if (pid !== undefined && isKafkaProcess(pid, propsFile)) return pid;
    throw new Error(
      `A Kafka broker this tool did not start already listens on 127.0.0.1:${port}; use it with KAFKA_BROKERS=127.0.0.1:${port} or stop it`,
    );
  }
  if (!(await portIsFree(controllerPort))) {
    throw new Error(`Controller port ${controllerPort} on 127.0.0.1 is taken; stop whatever uses it or pass another controllerPort`);
  }
  return undefined;
}

// --- storage ---------------------------------------------------------------------------------

function renderProperties(port: number, controllerPort: number, logDir: string): string {
  const values: Record<string, string> = { PORT: String(port), CONTROLLER_PORT: String(controllerPort), DATA_DIR: logDir };
  const rendered = fs.readFileSync(TEMPLATE, 'utf8').replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
  const unknown = /\$\{[A-Z_]+\}/.exec(rendered);
  if (unknown) throw new Error(`${TEMPLATE} uses ${unknown[0]}, which infra/kafka.ts does not know`);
  return rendered;
}

/**
 * KRaft refuses to start on an unformatted log dir; formatting is a separate, once-only JVM run.
 * Exported for infra/kafkaCluster.ts, whose nodes share one cluster id (<dataDir>/cluster.id).
 */
export async function formatStorage(classpath: string, propsFile: string, logDir: string, dataDir: string): Promise<void> {
  if (fs.existsSync(path.join(logDir, 'meta.properties'))) return;
  const clusterId = clusterIdFor(dataDir);
  const { code, output } = await runCommand('java', [
    '-Xmx256m',
    `-Dlog4j.configuration=file:${LOG4J}`,
    `-Dstreamgraph.kafka.log.file=${path.join(dataDir, 'format.log')}`,
    '-cp',
    classpath,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propsFile,
    '--ignore-formatted',
  ], ROOT);
  if (code !== 0) throw new Error(`Formatting the Kafka data dir ${logDir} failed (exit ${code}):\n${tail(output, 8)}`);
}

/** A stable cluster id per data dir: a formatted log dir is bound to the id it was formatted with. */
function clusterIdFor(dataDir: string): string {
  const file = path.join(dataDir, 'cluster.id');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  let id: string;
  // Kafka's own Uuid never starts with '-', because the CLI would read it as an option.
  do id = randomBytes(16).toString('base64url');
  while (id.startsWith('-'));
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

// --- processes -------------------------------------------------------------------------------

function handleFor(
  pid: number,
  child: ChildProcess | undefined,
  info: Omit<KafkaBrokerHandle, 'pid' | 'stop' | 'kill'>,
): KafkaBrokerHandle {
  const exited = child ? exitOf(child) : undefined;
  return {
    ...info,
    pid,
    async stop() {
      if (child && exited) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
          await exited;
          clearTimeout(timer);
        }
      } else if (isAlive(pid)) {
        await stopPid(pid, STOP_DEADLINE_MS);
      }
      removePidFile(pid);
    },
    kill() {
      signal(pid, 'SIGKILL');
      // kill() returns before the process is gone; a restart on the same ports waits for it.
      dying.set(info.port, child && exited ? exited : waitUntilDead(pid));
      removePidFile(pid);
    },
  };
}

/** Brokers killed but perhaps not yet dead, by client port: their sockets and data dir lock are still held. */
const dying = new Map<number, Promise<unknown>>();

async function waitUntilDead(pid: number): Promise<void> {
  while (isAlive(pid)) await sleep(50);
}

/** Resolves with how the child ended ("exited with code 1", "was killed by SIGKILL", spawn error). */
function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(`exited with code ${child.exitCode}`);
    if (child.signalCode !== null) return resolve(`was killed by ${child.signalCode}`);
    child.once('error', (err) => resolve(`could not be started (${err.message})`));
    child.once('exit', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  });
}

async function stopPid(pid: number, deadlineMs: number): Promise<void> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + deadlineMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      signal(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
      return;
    }
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


/** Guards against signalling an unrelated process that reused a stale pid. */
function isKafkaProcess(pid: number, propsFile?: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('kafka.Kafka') && (propsFile === undefined || cmdline.includes(propsFile));
  } catch {
    return propsFile === undefined; // No /proc: cannot tell, trust the pid file.
  }
}

function readPidFile(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function removePidFile(pid: number): void {
  if (readPidFile(KAFKA_PID_FILE) === pid) fs.rmSync(KAFKA_PID_FILE, { force: true });
}

/** The informative end of mvn output: no colour codes, no "re-run with -X" boilerplate. */
function mavenErrors(output: string): string {
  const boilerplate = /^\[ERROR\]\s*($|To see the full|Re-run Maven|For more information|\[Help \d+\])/;
  const lines = output
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !boilerplate.test(l.trim()));
  return lines.slice(-5).join('\n') || '(mvn printed nothing)';
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
