// `npm start`: the whole local system in the foreground: Kafka and Redis (unless
// KAFKA_BROKERS / REDIS_URL point elsewhere), topics, the three subgraphs and the gateway as
// separate processes, and the traffic simulator. Ctrl-C stops everything it started.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isKafkaReachable } from '../infra/kafka';
import { isRedisReachable } from '../infra/redis';
import { SUBGRAPHS } from '../schema/subgraphs';
import { kafkaConfigFromEnv } from '../subgraphs/runtime/kafkaConfig';

const root = path.resolve(__dirname, '..');
const logDir = path.join(root, '.run', 'logs');
const tsx = (script: string, args: string[] = []) => [process.execPath, ['--import', 'tsx', path.join(root, script), ...args]] as const;
const children: Array<{ name: string; child: ChildProcess }> = [];
let stopping = false;
/** Kafka and Redis are stopped at the end only if this start brought them up. */
let startedInfra = false;

function infra(command: 'up' | 'down'): number {
  const [cmd, args] = tsx('scripts/infra.ts', [command]);
  return spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;
}

/** Runs a process with its output in .run/logs/<name>.log and, prefixed, on this console. */
function run(name: string, script: string, args: string[] = [], env: Record<string, string> = {}): ChildProcess {
  fs.mkdirSync(logDir, { recursive: true });
  const log = fs.createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  const [cmd, baseArgs] = tsx(script, args);
  const child = spawn(cmd, [...baseArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `${name.padEnd(10)}| `;
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (d: Buffer) => {
      log.write(d);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(prefix + readable(line) + '\n');
    });
  }
  child.on('exit', (code, signal) => {
    log.end();
    if (!stopping) {
      console.error(`${prefix}exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  children.push({ name, child });
  return child;
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

async function waitReady(name: string, port: number, deadlineMs = 120_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} was not ready on port ${port} within ${deadlineMs / 1000} s (see .run/logs/${name}.log)`);
}

async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  process.exit(!startedInfra || infra('down') === 0 ? code : 1);
}

async function main() {
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const running =
    (await isKafkaReachable(kafkaConfigFromEnv(), 3_000)) &&
    (await isRedisReachable(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 3_000));
  startedInfra = !running;
  if (infra('up') !== 0) process.exit(1);
  for (const s of SUBGRAPHS) run(s.name, `subgraphs/${s.name}/main.ts`, [], { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  await Promise.all(SUBGRAPHS.map((s) => waitReady(s.name, Number(process.env[s.portVariable] ?? s.port))));
  // Registry mode: the gateway composes what the subgraphs announced.
  run('gateway', 'gateway/main.ts', [], { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', SUPERGRAPH_SOURCE: process.env.SUPERGRAPH_SOURCE ?? 'registry' });
  const gatewayPort = Number(process.env.PORT ?? 4000);
  await waitReady('gateway', gatewayPort);
  run('simulator', 'scripts/simulate.ts', process.argv.slice(2));
  const [cmd, args] = tsx('scripts/token.ts', ['--sub', 'customer-1', '--role', 'customer', '--expires', '86400']);
  const devToken = spawnSync(cmd, [...args], { encoding: 'utf8' }).stdout.trim();
  console.log('\nstreamgraph is running:');
  console.log(`  gateway    http://127.0.0.1:${gatewayPort}/graphql   (the public door: queries, mutations; subscriptions over graphql-ws on the same URL)`);
  console.log(`  dev token  (customer-1, 24 h): ${devToken}`);
  console.log(`             curl -s http://127.0.0.1:${gatewayPort}/graphql -H 'content-type: application/json' -H "authorization: Bearer <token>" -d '{"query":"{ me { name orderCount } }"}'`);
  console.log(`  demo page  http://127.0.0.1:${gatewayPort}/demo#token=${devToken}&store=store-1   (live board and order tracker; the #fragment never leaves the browser)`);
  for (const s of SUBGRAPHS) console.log(`  ${s.name.padEnd(10)} http://127.0.0.1:${process.env[s.portVariable] ?? s.port}/graphql`);
  console.log(`  logs       ${path.relative(process.cwd(), logDir)}/<process>.log`);
  console.log('Ctrl-C stops everything that was started.\n');
}

main().catch((e) => {
  console.error(`start: ${(e as Error).message}`);
  void stop(1);
});
