// The gateway as its own process (its real main.ts, settings from the environment), so a
// test can throw hostile input at it and then ask whether the process is still alive and
// how much memory it holds (/proc/<pid>/status), which an in-process gateway cannot show.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_IDENTITY_SECRET } from './graphqlClient';
import { freePort } from './subgraphProcess';
import { waitFor } from './waitFor';

export interface GatewayProcess {
  /** http://127.0.0.1:<port>/graphql */
  readonly url: string;
  /** ws://127.0.0.1:<port>/graphql */
  readonly wsUrl: string;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly port: number;
  readonly pid: number;
  /** The process has not exited and GET /health answers 200 (within `timeoutMs`, default 5 s). */
  alive(timeoutMs?: number): Promise<boolean>;
  /** Resident set size now, from /proc/<pid>/status (VmRSS); throws once the process is gone. */
  rssBytes(): number;
  /** The exit code (or 128 + signal number) once the process has exited; null while it runs. */
  exitCode(): number | null;
  /** The last ~64 KB the process wrote to stdout and stderr (for failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface StartGatewayProcessOptions {
  /** STREAMGRAPH_NAMESPACE: registry mode composes the subgraphs announced under it. */
  readonly namespace: string;
  /** JWT_SECRET for client tokens (sign them with gateway/token.ts signDevToken and this secret). */
  readonly jwtSecret?: string;
  /** More settings (GATEWAY_WS_MAX_OPERATIONS, GATEWAY_MAX_BODY_BYTES, ...); they win over the defaults here. */
  readonly env?: Record<string, string>;
  /** How long to wait for /ready to answer 200. @default 60000 */
  readonly readyTimeoutMs?: number;
}

export const GATEWAY_TEST_JWT_SECRET = 'hostile-gateway-test-jwt-secret-0123456789';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const OUTPUT_KEPT = 64 * 1024;
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };

/** Spawns `node --import tsx gateway/main.ts` on a free port and resolves once /ready answers 200. */
export async function startGatewayProcess(opts: StartGatewayProcessOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'gateway/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SUPERGRAPH_SOURCE: 'registry',
      STREAMGRAPH_NAMESPACE: opts.namespace,
      JWT_SECRET: opts.jwtSecret ?? GATEWAY_TEST_JWT_SECRET,
      GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET,
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_KEPT) output = output.slice(-OUTPUT_KEPT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = code ?? 128 + (signal ? SIGNALS[signal] ?? 0 : 0);
      resolve();
    }),
  );
  if (child.pid === undefined) throw new Error('the gateway process could not be spawned');
  const pid = child.pid;

  const stop = async () => {
    if (exit !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      if (exit === null) child.kill('SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(killer);
  };

  try {
    await waitFor(
      async () => {
        if (exit !== null) throw new Error(`the gateway process exited with ${exit} while starting:\n${output}`);
        try {
          return (await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
        } catch {
          return false;
        }
      },
      { what: 'the gateway process to answer /ready with 200', timeoutMs: opts.readyTimeoutMs ?? 60_000, intervalMs: 100 },
    );
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    url: `${baseUrl}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    baseUrl,
    port,
    pid,
    async alive(timeoutMs = 5000) {
      if (exit !== null) return false;
      try {
        const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        return res.status === 200 && exit === null;
      } catch {
        return false;
      }
    },
    rssBytes() {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (!match) throw new Error(`no VmRSS in /proc/${pid}/status (has the gateway exited? exit code ${exit})`);
      return Number(match[1]) * 1024;
    },
    exitCode: () => exit,
    output: () => output,
    stop,
  };
}
