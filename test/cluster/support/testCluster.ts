// One cluster per test file: the engines (scripts/startCluster.ts startClusterInfra) on ports
// apart from `npm start` and `npm run start:cluster`, and the project's processes on it, each
// with its output kept so a test can look for errors such as CROSSSLOT.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { declarationOf } from '../../../scripts/declarations';
import { startClusterInfra, type ClusterInfra } from '../../../scripts/startCluster';
import { GATEWAY_TEST_JWT_SECRET } from '../../support/gatewayProcess';
import { TEST_IDENTITY_SECRET } from '../../support/graphqlClient';
import { freePort } from '../../support/subgraphProcess';
import { waitFor } from '../../support/waitFor';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** Every process a test file started dies with it (one exit listener for all of them). */
const killOnExit = new Set<() => void>();
process.on('exit', () => killOnExit.forEach((kill) => kill()));
/** SIGKILLs `child` if this process exits first: a test process that dies must not leave it behind. */
function killWithUs(child: ChildProcess, ended: Promise<unknown>): void {
  const kill = () => void child.kill('SIGKILL');
  killOnExit.add(kill);
  void ended.then(() => killOnExit.delete(kill));
}
// CI's `timeout` ends a stuck run with SIGTERM, whose default skips 'exit' listeners: the
// engines and processes would outlive the run (and hold its ports).
process.once('SIGTERM', () => process.exit(143));
const OUTPUT_KEPT = 256 * 1024;

export const CLUSTER_TEST_PORTS = {
  kafka: [29092, 29093, 29094],
  redis: [27001, 27002, 27003, 27004, 27005, 27006],
  connect: 28083,
} as const;

export interface NodeProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** What it wrote (the last 256 KB) and every line that ever matched /CROSSSLOT/. */
  output(): string;
  crossSlotLines(): string[];
  running(): boolean;
  /** SIGKILL (a crash); resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface Simulator {
  pause(): void;
  resume(): void;
  /** SIGTERM (after resume) and the exit. */
  stop(): Promise<{ code: number | null; output: string }>;
}

export interface TestCluster {
  readonly infra: ClusterInfra;
  readonly namespace: string;
  /** The settings every process on this cluster gets. */
  readonly env: Record<string, string>;
  /** `instances` processes of every subgraph that has an SDL; resolves once all answer /ready. */
  startSubgraph(name: string, instance: number): Promise<NodeProcess>;
  startGateway(name: string, env?: Record<string, string>): Promise<NodeProcess>;
  /** Runs the simulator for `seconds` (extra flags after) and resolves with its exit code and output. */
  simulate(seconds: number, flags?: string[]): Promise<{ code: number | null; output: string }>;
  /** The simulator in the background: pause() freezes it (SIGSTOP) so its topics hold still while a test compares. */
  startSimulator(seconds: number, flags?: string[]): Simulator;
  /** Every process started here, the engines last; safe to call twice. */
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  /** Other engines' ports (bench:soak runs beside the cluster tests). @default CLUSTER_TEST_PORTS */
  readonly ports?: { readonly kafka: readonly number[]; readonly redis: readonly number[]; readonly connect: number };
  /** @default .run/cluster-test */
  readonly baseDir?: string;
}

export async function startTestCluster(label: string, opts: TestClusterOptions = {}): Promise<TestCluster> {
  const run = process.env.STREAMGRAPH_TEST_RUN ?? Date.now().toString(36);
  const namespace = `t-${run}-${label}.`;
  const ports = opts.ports ?? CLUSTER_TEST_PORTS;
  const infra = await startClusterInfra({
    baseDir: opts.baseDir ?? path.join(ROOT, '.run', 'cluster-test'),
    namespace,
    kafkaPorts: ports.kafka,
    redisPorts: ports.redis,
    connectPort: ports.connect,
    catalog: true,
  });
  const env: Record<string, string> = {
    ...infra.env,
    GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET,
    JWT_SECRET: GATEWAY_TEST_JWT_SECRET,
    LOG_LEVEL: 'warn',
  };
  const processes: NodeProcess[] = [];
  const spawnNode = async (name: string, script: string, port: number, extra: Record<string, string>, readyPath: string) => {
    const proc = startNode(name, script, port, { ...env, ...extra });
    processes.push(proc);
    await waitFor(
      async () => {
        if (!proc.running()) throw new Error(`${name} exited while starting:\n${proc.output().slice(-2000)}`);
        return fetch(`http://127.0.0.1:${port}${readyPath}`).then((r) => r.status === 200, () => false);
      },
      { what: `${name} to answer ${readyPath}`, timeoutMs: 120_000, intervalMs: 250 },
    );
    return proc;
  };
  const simulators: Simulator[] = [];
  let stopped = false;
  return {
    infra,
    namespace,
    env,
    async startSubgraph(name, instance) {
      const port = await freePort();
      return spawnNode(`${name}-${instance}`, `subgraphs/${name}/main.ts`, port, { [declarationOf(name).portVariable]: String(port) }, '/ready');
    },
    async startGateway(name, extra = {}) {
      const port = await freePort();
      return spawnNode(name, 'gateway/main.ts', port, { PORT: String(port), HOST: '127.0.0.1', SUPERGRAPH_SOURCE: 'registry', ...extra }, '/ready');
    },
    simulate(seconds, flags = []) {
      return simulator(seconds, flags, env).done;
    },
    startSimulator(seconds, flags = []) {
      const sim = simulator(seconds, flags, env);
      simulators.push(sim);
      return sim;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...simulators.map((sim) => sim.stop()), ...processes.map((p) => p.stop())]);
      await infra.stop();
    },
  };
}

function simulator(seconds: number, flags: string[], env: Record<string, string>): Simulator & { done: Promise<{ code: number | null; output: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/simulate.ts'), '--duration', String(seconds), ...flags], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
  killWithUs(child, done);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    done,
    pause: () => void (running() && child.kill('SIGSTOP')),
    resume: () => void (running() && child.kill('SIGCONT')),
    async stop() {
      if (running()) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
      return done;
    },
  };
}

function startNode(name: string, script: string, port: number, env: Record<string, string>): NodeProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const crossSlot: string[] = [];
  // The in-memory tail is cut at 256 KB; a failure found after a long run needs the whole log.
  const logDir = process.env.CLUSTER_TEST_LOG_DIR;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (logDir) appendFileSync(path.join(logDir, `${name}.log`), text);
    for (const line of text.split('\n')) if (/CROSSSLOT/i.test(line)) crossSlot.push(line);
    output += text;
    if (output.length > OUTPUT_KEPT) output = output.slice(-OUTPUT_KEPT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killWithUs(child, exited);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    pid: child.pid ?? -1,
    output: () => output,
    crossSlotLines: () => crossSlot,
    running,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
