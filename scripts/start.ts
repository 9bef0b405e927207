// `npm start`: the whole local system in the foreground: Kafka, Redis, PostgreSQL and Kafka
// Connect (unless KAFKA_BROKERS / REDIS_URL / CATALOG_DATABASE_URL / KAFKA_CONNECT_URL point
// elsewhere), topics, the three subgraphs and the gateway as
// separate processes, and the traffic simulator. Crashed processes are restarted (see
// scripts/supervisor/restartPolicy.ts); Ctrl-C stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isConnectReachable } from '../infra/connect';
import { isKafkaReachable } from '../infra/kafka';
import { isPostgresReachable } from '../infra/postgres';
import { isRedisReachable } from '../infra/redis';
import { startZipkin, type ZipkinHandle } from '../infra/zipkin';
import { kafkaConfigFromEnv } from '../platform/kafkaConfig';
import { catalogSourceFromEnv } from '../subgraphs/catalog/catalogSource';
import { productSubgraphs } from './declarations';
import { superviseProcess, type SupervisedProcess } from './supervisor/supervise';

const root = path.resolve(__dirname, '..');
const logDir = path.join(root, '.run', 'logs');
export const tsx = (script: string, args: string[] = []) => [process.execPath, ['--import', 'tsx', path.join(root, script), ...args]] as const;
/** In start order; stop() walks it backwards. */
const processes: Array<{ supervised: SupervisedProcess; log: fs.WriteStream }> = [];
let stopping = false;
/** Kafka and Redis are stopped at the end only if this start brought them up. */
let startedInfra = false;
/** `--tracing`: a Zipkin server every process exports its spans to; the other arguments go to the simulator. */
const tracing = process.argv.includes('--tracing');
let zipkin: ZipkinHandle | undefined;

function infra(command: 'up' | 'down'): number {
  const [cmd, args] = tsx('scripts/infra.ts', [command]);
  return spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;
}

/**
 * Runs a process under the supervisor, with its output in .run/logs/<name>.log and,
 * prefixed, on this console. Every restart appends to the same log; the supervisor's own
 * lines (restarts, giving up) go to both too, so the log shows where each run began.
 */
export function run(name: string, script: string, args: string[] = [], env: Record<string, string> = {}, restartCleanExits = true): SupervisedProcess {
  fs.mkdirSync(logDir, { recursive: true });
  const logPath = path.join(logDir, `${name}.log`);
  const log = fs.createWriteStream(logPath, { flags: 'a' });
  const [cmd, baseArgs] = tsx(script, args);
  const prefix = `${name.padEnd(10)}| `;
  const supervised = superviseProcess({
    name,
    logPath: path.relative(process.cwd(), logPath),
    restartCleanExits,
    spawn: () => {
      const child = spawn(cmd, [...baseArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      for (const stream of [child.stdout!, child.stderr!]) {
        let partial = '';
        stream.on('data', (d: Buffer) => {
          log.write(d);
          const lines = (partial + d.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) process.stdout.write(prefix + readable(line) + '\n');
        });
      }
      return child;
    },
    report: (line) => {
      log.write(`[supervisor ${new Date().toISOString()}] ${line}\n`);
      console.error(`${'supervisor'.padEnd(10)}| ${line}`);
    },
  });
  processes.push({ supervised, log });
  return supervised;
}

/** Pino lines are JSON; the merged console shows level, message and the interesting fields. */
function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { level, msg, time: _t, pid: _p, hostname: _h, name: _n, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const lvl = typeof level === 'number' ? ({ 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' } as Record<number, string>)[level] ?? level : level;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${lvl} ${msg ?? ''}${extra}`;
  } catch {
    return line;
  }
}

/**
 * Resolves true once the process answers /ready, false if the supervisor gave up on it
 * (its crash-loop line is already on the console; the rest of the stack keeps starting).
 */
export async function waitReady(supervised: SupervisedProcess, port: number, deadlineMs = 120_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (supervised.state === 'gave-up') return false;
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 200) return true;
    } catch {
      /* not listening yet, or between restarts */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${supervised.name} was not ready on port ${port} within ${deadlineMs / 1000} s (see .run/logs/${supervised.name}.log)`);
}

/**
 * Ctrl-C / SIGTERM: every supervisor is told to stop at once, so none restarts a child while
 * the others are stopping (a child that sees Ctrl-C itself, being in the same process group,
 * exits as expected, not as a crash); then Kafka and Redis, if this start brought them up.
 */
async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  await stopSupervised();
  await zipkin?.stop();
  process.exit(!startedInfra || infra('down') === 0 ? code : 1);
}

/** Stops every process run() started (all at once, so none is restarted meanwhile) and closes their logs. */
export async function stopSupervised(): Promise<void> {
  await Promise.all(processes.map(({ supervised }) => supervised.stop()));
  await Promise.all(processes.map(({ log }) => new Promise<void>((resolve) => log.end(() => resolve()))));
}

async function main() {
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // Kafka and Redis run detached, so if every child has given up (or finished) nothing else
  // would keep this process alive; it must stay until Ctrl-C to stop what it started.
  setInterval(() => {}, 1 << 30);
  const running =
    (await isKafkaReachable(kafkaConfigFromEnv(), 3_000)) &&
    (await isRedisReachable(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 3_000)) &&
    // The catalog database and Kafka Connect (Debezium) are part of the stack too.
    (await isPostgresReachable(catalogSourceFromEnv().databaseUrl, 3_000)) &&
    (await isConnectReachable(catalogSourceFromEnv().connectUrl, 3_000));
  startedInfra = !running;
  if (infra('up') !== 0) process.exit(1);
  if (tracing) {
    zipkin = await startZipkin({ logFile: path.join(logDir, 'zipkin.log') });
    // Inherited by the subgraphs and the gateway (the simulator starts no tracing).
    process.env.OTEL_TRACES_EXPORTER = 'zipkin';
    process.env.OTEL_EXPORTER_ZIPKIN_ENDPOINT = zipkin.spansUrl;
  }
  const notRunning: string[] = [];
  const ready = async (supervised: SupervisedProcess, port: number) => {
    if (!(await waitReady(supervised, port))) notRunning.push(supervised.name);
  };
  const declared = productSubgraphs();
  const subgraphs = declared.map((s) => ({ s, supervised: run(s.name, `subgraphs/${s.name}/main.ts`, [], {
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // Locally, an edited SDL takes effect on restart (still through the schema checks).
      SUBGRAPH_PUBLISH_ON_START: process.env.SUBGRAPH_PUBLISH_ON_START ?? 'always',
    }) }));
  await Promise.all(subgraphs.map(({ s, supervised }) => ready(supervised, Number(process.env[s.portVariable] ?? s.port))));
  // Ctrl-C while waiting: start nothing new, stop() is already taking everything down.
  if (stopping) return;
  // Registry mode: the gateway composes what the subgraphs announced.
  const gateway = run('gateway', 'gateway/main.ts', [], { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', SUPERGRAPH_SOURCE: process.env.SUPERGRAPH_SOURCE ?? 'registry' });
  const gatewayPort = Number(process.env.PORT ?? 4000);
  await ready(gateway, gatewayPort);
  if (stopping) return;
  // The simulator is restarted after a crash like the others (a restart starts a new run id,
  // so it never replays the old run's orders), but its clean exit (--duration) means done.
  run('simulator', 'scripts/simulate.ts', process.argv.slice(2).filter((a) => a !== '--tracing'), {}, false);
  const [cmd, args] = tsx('scripts/token.ts', ['--sub', 'customer-1', '--role', 'customer', '--expires', '86400']);
  const devToken = spawnSync(cmd, [...args], { encoding: 'utf8' }).stdout.trim();
  console.log(`\nstreamgraph is running${notRunning.length ? ` WITHOUT ${notRunning.join(', ')} (kept crashing; see .run/logs/<process>.log)` : ''}:`);
  console.log(`  gateway    http://127.0.0.1:${gatewayPort}/graphql   (the public door: queries, mutations; subscriptions over graphql-ws on the same URL)`);
  console.log(`  dev token  (customer-1, 24 h): ${devToken}`);
  console.log(`             curl -s http://127.0.0.1:${gatewayPort}/graphql -H 'content-type: application/json' -H "authorization: Bearer <token>" -d '{"query":"{ me { name orderCount } }"}'`);
  console.log(`  demo page  http://127.0.0.1:${gatewayPort}/demo#token=${devToken}&store=store-1   (live board and order tracker; the #fragment never leaves the browser)`);
  const [tokenCmd, analystArgs] = tsx('scripts/token.ts', ['--sub', 'analyst-1', '--role', 'analyst', '--expires', '86400']);
  const analystToken = spawnSync(tokenCmd, [...analystArgs], { encoding: 'utf8' }).stdout.trim();
  console.log(`  catalog    http://127.0.0.1:${gatewayPort}/catalog#token=${analystToken}   (data products: owners, service levels, lag, lineage; an analyst token)`);
  for (const s of declared) console.log(`  ${s.name.padEnd(10)} http://127.0.0.1:${process.env[s.portVariable] ?? s.port}/graphql`);
  if (zipkin) console.log(`  traces     ${zipkin.uiUrl}   (Zipkin; every request and event the gateway and subgraphs trace; responses name theirs in x-trace-id)`);
  console.log(`  logs       ${path.relative(process.cwd(), logDir)}/<process>.log`);
  console.log('Crashed processes are restarted with backoff (one line says so); Ctrl-C stops everything that was started.\n');
}

// scripts/startCluster.ts imports run() and friends; only `npm start` itself starts this stack.
if (require.main === module) {
  main().catch((e) => {
    console.error(`start: ${(e as Error).message}`);
    void stop(1);
  });
}
