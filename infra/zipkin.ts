// A local Zipkin server (the trace backend of `npm start -- --tracing` and the tracing test),
// run from the `exec` jar Maven Central publishes, with in-memory storage: traces last as long
// as the process. No Docker, like the Kafka broker (infra/kafka.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { onPath, portIsFree, runCommand } from './processes';

const ROOT = path.resolve(__dirname, '..');
export const ZIPKIN_VERSION = '3.5.1';
const JAR = `zipkin-server-${ZIPKIN_VERSION}-exec.jar`;
const JAR_DIR = path.join(ROOT, '.infra-cache', 'zipkin');
const POM = path.join(ROOT, 'infra', 'zipkin', 'pom.xml');
/** Zipkin's own port, which its UI and API answer on. */
export const ZIPKIN_DEFAULT_PORT = 9411;
const READY_DEADLINE_MS = 90_000;

export interface ZipkinHandle {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Where the exporters send spans: <url>/api/v2/spans */
  readonly spansUrl: string;
  /** The UI: <url>/zipkin/ */
  readonly uiUrl: string;
  readonly pid: number;
  readonly logFile: string;
  /** SIGTERM, and SIGKILL if it has not exited within 10 s. */
  stop(): Promise<void>;
}

/** Downloads the Zipkin server jar once (Maven Central, about 130 MB) and returns its path. */
export async function ensureZipkinJar(): Promise<string> {
  const jar = path.join(JAR_DIR, JAR);
  if (fs.existsSync(jar)) return jar;
  if (!onPath('java')) throw new Error('Java 17+ is needed to run the local Zipkin server: apt-get install openjdk-17-jre-headless');
  if (!onPath('mvn')) throw new Error('Maven is needed once to download the Zipkin server jar: apt-get install maven');
  const { code, output } = await runCommand('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${JAR_DIR}`, '-DincludeScope=runtime'], ROOT);
  if (code !== 0 || !fs.existsSync(jar))
    throw new Error(`Could not download the Zipkin ${ZIPKIN_VERSION} jar: Maven Central could not be reached (mvn exited ${code}); last mvn output:\n${output.trim().split('\n').slice(-5).join('\n')}`);
  return jar;
}

/**
 * Starts Zipkin on 127.0.0.1:`port` (in-memory storage) as a child of this process and
 * resolves once it answers /health. A port already in use fails at once with one line.
 */
export async function startZipkin(opts: { port?: number; logFile?: string } = {}): Promise<ZipkinHandle> {
  const port = opts.port ?? ZIPKIN_DEFAULT_PORT;
  const jar = await ensureZipkinJar();
  if (!(await portIsFree(port))) throw new Error(`port ${port} is in use, so Zipkin cannot start there; stop what holds it`);
  const logFile = path.resolve(opts.logFile ?? path.join(ROOT, '.run', 'zipkin.log'));
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'java',
      [
        '-Xms64m',
        '-Xmx256m',
        // A development backend: start fast rather than peak throughput.
        '-XX:TieredStopAtLevel=1',
        // Loopback only: traces name internal operations.
        `-Darmeria.ports[0].port=${port}`,
        '-Darmeria.ports[0].ip=127.0.0.1',
        '-Darmeria.ports[0].protocols[0]=http',
        '-jar',
        jar,
      ],
      { cwd: ROOT, env: { ...process.env, STORAGE_TYPE: 'mem' }, stdio: ['ignore', out, out] },
    );
  } finally {
    fs.closeSync(out);
  }
  const pid = child.pid!;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    if (exited) throw new Error(`Zipkin exited while starting; see ${path.relative(process.cwd(), logFile)}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Zipkin did not answer on ${url} within ${READY_DEADLINE_MS / 1000} s; see ${path.relative(process.cwd(), logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, spansUrl: `${url}/api/v2/spans`, uiUrl: `${url}/zipkin/`, pid, logFile, stop };
}

