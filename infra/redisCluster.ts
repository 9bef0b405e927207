// Runs a local Redis Cluster of three masters and three replicas with Debian's redis-server
// (`cluster-enabled yes`), formed with `redis-cli --cluster create`, for `npm run start:cluster`
// and the cluster tests.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';

/** A node must never outlive the process that started it (a crashed test or Ctrl-C): one exit listener for all. */
const killOnExit = new Set<() => void>();
process.on('exit', () => killOnExit.forEach((kill) => kill()));
const READY_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 10_000;

/** A node's cluster bus port: below its client port, clear of the ephemeral range. */
export const clusterBusPort = (port: number): number => port - 1000;

/** Clear of 6379; the first three become masters, the others their replicas. */
export const DEFAULT_REDIS_CLUSTER_PORTS = [17001, 17002, 17003, 17004, 17005, 17006] as const;

export interface RedisClusterOptions {
  /** One folder per node below it (redis-<port>); emptied first: every start is a new cluster. */
  readonly baseDir: string;
  readonly ports?: readonly number[];
  /**
   * How long a master may be silent before its replica takes over. Locally 2 s: a killed master
   * is replaced within a few seconds (production defaults to 15 s).
   */
  readonly nodeTimeoutMs?: number;
}

export interface RedisClusterNode {
  readonly port: number;
  readonly address: string;
  pid(): number | undefined;
  running(): boolean;
  /** SIGKILL now (a crash); resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again with its nodes.conf, so it rejoins (as a replica once its slots moved). */
  restart(): Promise<void>;
}

export interface RedisClusterHandle {
  /** host:port list, the value of REDIS_CLUSTER_NODES. */
  readonly seeds: string;
  readonly nodes: readonly RedisClusterNode[];
  /** The nodes that serve slots as masters now. */
  masters(): Promise<RedisClusterNode[]>;
  /** The node that serves `key`'s slot as master now. */
  masterFor(key: string): Promise<RedisClusterNode>;
  /** Resolves when every running node reports cluster_state:ok and every slot has a running master. */
  waitHealthy(deadlineMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(opts: RedisClusterOptions): Promise<RedisClusterHandle> {
  const ports = opts.ports ?? DEFAULT_REDIS_CLUSTER_PORTS;
  fs.rmSync(opts.baseDir, { recursive: true, force: true });
  const nodes = ports.map((port) => nodeFor(port, path.join(opts.baseDir, `redis-${port}`), opts.nodeTimeoutMs ?? 2_000));
  const handle: RedisClusterHandle = {
    seeds: nodes.map((n) => n.address).join(','),
    nodes,
    async masters() {
      const ports = new Set((await clusterSlots(nodes)).map(([, , port]) => port));
      return nodes.filter((n) => ports.has(n.port));
    },
    async masterFor(key) {
      const slot = await withNode(nodes.find((n) => n.running())!, (r) => r.call('CLUSTER', 'KEYSLOT', key) as Promise<number>);
      const owner = (await clusterSlots(nodes)).find(([from, to]) => slot >= from && slot <= to);
      const node = nodes.find((n) => n.port === owner?.[2]);
      if (!node) throw new Error(`no master serves slot ${slot} of ${key}`);
      return node;
    },
    waitHealthy: (deadlineMs = READY_DEADLINE_MS) => waitHealthy(nodes, deadlineMs),
    async stop() {
      await Promise.all(nodes.map((n) => n.stopNode()));
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.launch()));
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.error) throw new Error(`redis-cli could not be run (${created.error.message}): apt-get install redis-tools`);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed (exit ${created.status}):\n${`${created.stdout}${created.stderr}`.trim().split('\n').slice(-8).join('\n')}`);
    await waitHealthy(nodes, READY_DEADLINE_MS);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

type InternalNode = RedisClusterNode & { launch(): Promise<void>; stopNode(): Promise<void> };

function nodeFor(port: number, dir: string, nodeTimeoutMs: number): InternalNode {
  const address = `127.0.0.1:${port}`;
  const logFile = path.join(dir, 'redis.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let reason: string | undefined;
  const onParentExit = (): void => void child?.kill('SIGKILL');
  killOnExit.add(onParentExit);
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const launch = async () => {
    fs.mkdirSync(dir, { recursive: true });
    reason = undefined;
    const out = fs.openSync(logFile, 'a');
    try {
      // Views are rebuilt from Kafka, so no persistence; nodes.conf (cluster membership) is kept in dir.
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--save', '', '--appendonly', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs),
        // Redis's default bus port (port + 10000) lands in Linux's ephemeral range (32768-60999) for
        // these ports, where any outgoing connection may hold it when a node starts.
        '--cluster-port', String(clusterBusPort(port))];
      child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    const proc = child;
    exited = new Promise<void>((resolve) => {
      proc.once('error', (e: NodeJS.ErrnoException) => {
        reason = e.code === 'ENOENT' ? 'redis-server is not installed: apt-get install redis-server' : `redis-server could not be started: ${e.message}`;
        resolve();
      });
      proc.once('exit', (code, sig) => ((reason = `redis-server on ${address} ${sig ? `was killed by ${sig}` : `exited with code ${code}`}; see ${logFile}`), resolve()));
    });
    const deadline = Date.now() + READY_DEADLINE_MS;
    while (!(await ping(port))) {
      if (reason !== undefined) throw new Error(reason);
      if (Date.now() > deadline) throw new Error(`redis-server on ${address} did not answer PING within ${READY_DEADLINE_MS / 1000}s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    port,
    address,
    pid: () => (running() ? child?.pid : undefined),
    running,
    launch,
    async kill() {
      if (!running()) return;
      child?.kill('SIGKILL');
      await exited;
    },
    async restart() {
      if (!running()) await launch();
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
}

async function waitHealthy(nodes: readonly InternalNode[] | readonly RedisClusterNode[], deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    try {
      const live = nodes.filter((n) => n.running());
      const states = await Promise.all(live.map((n) => withNode(n, (r) => r.call('CLUSTER', 'INFO') as Promise<string>)));
      const ok = states.every((s) => /cluster_state:ok/.test(s));
      const ranges = await clusterSlots(nodes);
      const covered = ranges.reduce((sum, [from, to, port]) => sum + (live.some((n) => n.port === port) ? to - from + 1 : 0), 0);
      if (ok && covered === 16384) return;
      last = `${states.filter((s) => !/cluster_state:ok/.test(s)).length} node(s) not ok, ${covered}/16384 slots on live masters`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`the Redis Cluster was not healthy within ${deadlineMs / 1000}s: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** [from, to, master port] per slot range, as the first answering running node sees it. */
async function clusterSlots(nodes: readonly RedisClusterNode[]): Promise<Array<[number, number, number]>> {
  for (const n of nodes.filter((x) => x.running())) {
    try {
      const slots = (await withNode(n, (r) => r.call('CLUSTER', 'SLOTS'))) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
      return slots.map(([from, to, master]) => [from, to, Number(master[1])]);
    } catch {
      // Try the next node.
    }
  }
  throw new Error('no Redis Cluster node answered CLUSTER SLOTS');
}

async function withNode<T>(node: RedisClusterNode, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 1_000, disconnectTimeout: 100 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function ping(port: number): Promise<boolean> {
  return withNode({ port } as RedisClusterNode, (r) => r.ping()).then(
    () => true,
    () => false,
  );
}
