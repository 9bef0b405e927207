// Finds or starts the Redis that subgraph views are written to, for npm start, the tests and CI.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { commandLineIncludes, freePort, isAlive, logTail } from './processes';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_PORT = 6379;
const READY_DEADLINE_MS = 10_000;
const STOP_DEADLINE_MS = 10_000;

/** Where a detached redis-server records its pid so `infra down` stops only a Redis we started. */
export const REDIS_PID_FILE = path.join(ROOT, '.run', 'redis.pid');

export interface RedisHandle {
  url: string;
  /** False when an already running Redis is used; stop() then leaves it alone. */
  startedByUs: boolean;
  stop(): Promise<void>;
}

export interface RedisServerHandle {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
  kill(): void;
}

export interface RedisServerOptions {
  /** 0 picks a free port from the OS. */
  port?: number;
  /** Outlive this process: the pid goes to .run/redis.pid for stopRedisServer(). */
  detached?: boolean;
  /** Default .run/redis-<port>.log, or a temp file with port 0. */
  logFile?: string;
}

/**
 * Returns a Redis that answers PING: REDIS_URL if set (never started here), else the local
 * default port, else a redis-server started on it.
 */
export async function ensureRedis(
  url: string | undefined = process.env.REDIS_URL,
  opts: { detached?: boolean } = {},
): Promise<RedisHandle> {
  if (url) {
    try {
      await pingRedis(url, 3_000);
    } catch (err) {
      throw new Error(`REDIS_URL=${redactUrl(url)} did not answer PING (${reason(err)}); start that Redis or fix REDIS_URL`);
    }
    return { url, startedByUs: false, stop: async () => undefined };
  }
  const localUrl = `redis://127.0.0.1:${DEFAULT_PORT}`;
  if (await isRedisReachable(localUrl, 1_000)) return { url: localUrl, startedByUs: false, stop: async () => undefined };
  const server = await startRedisServer({ port: DEFAULT_PORT, detached: opts.detached ?? false });
  return { url: server.url, startedByUs: true, stop: () => server.stop() };
}

/** Starts a throwaway redis-server on 127.0.0.1 (no persistence) and resolves once it answers PING. */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const ephemeral = opts.port === 0;
  const port = opts.port === undefined ? DEFAULT_PORT : ephemeral ? await freePort() : opts.port;
  const detached = opts.detached ?? false;
  // Throwaway servers log to a temp file removed on a clean stop, so test runs leave nothing behind.
  const logFile = path.resolve(
    opts.logFile ??
      (ephemeral ? path.join(os.tmpdir(), `streamgraph-redis-${port}.log`) : path.join(ROOT, '.run', `redis-${port}.log`)),
  );
  const removeLogOnStop = ephemeral && opts.logFile === undefined;
  const url = `redis://127.0.0.1:${port}`;
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.appendFileSync(logFile, `\n=== streamgraph: starting redis-server on 127.0.0.1:${port} at ${new Date().toISOString()} ===\n`);
  const logOffset = fs.statSync(logFile).size;

  const out = fs.openSync(logFile, 'a');
  const child = (() => {
    try {
      // Views are rebuilt from Kafka, so persistence would only cost disk and startup time.
      const args = ['--daemonize', 'no', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      return spawn('redis-server', args, { cwd: path.dirname(logFile), detached, stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
  })();

  let ended: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      ended =
        err.code === 'ENOENT'
          ? 'redis-server is not installed: apt-get install redis-server, or set REDIS_URL to use an existing Redis'
          : `redis-server could not be started: ${err.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      const log = logTail(logFile, logOffset);
      ended = /Address already in use/i.test(log)
        ? `127.0.0.1:${port} is taken by something that is not an answering Redis; stop it or set REDIS_URL`
        : `redis-server on 127.0.0.1:${port} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; ${logFile} says:\n${log}`;
      resolve();
    });
  });

  const pid = child.pid;
  if (pid !== undefined && detached) {
    child.unref();
    fs.mkdirSync(path.dirname(REDIS_PID_FILE), { recursive: true });
    fs.writeFileSync(REDIS_PID_FILE, `${pid}\n`);
  } else if (pid !== undefined) {
    // A non-detached server belongs to this process and must not outlive it (e.g. a crashed test).
    const onParentExit = (): void => void (ended === undefined && child.kill('SIGTERM'));
    process.on('exit', onParentExit);
    void exited.then(() => process.off('exit', onParentExit));
  }
  const handle: RedisServerHandle = {
    url,
    port,
    pid: pid ?? -1,
    async stop() {
      if (ended === undefined && pid !== undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
        await exited;
        clearTimeout(timer);
      }
      if (pid !== undefined) removePidFile(pid);
      if (removeLogOnStop) fs.rmSync(logFile, { force: true });
    },
    kill() {
      child.kill('SIGKILL');
    },
  };

  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    if (ended !== undefined) {
      if (pid !== undefined) removePidFile(pid);
      throw new Error(ended);
    }
    if (await isRedisReachable(url, 500)) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`redis-server on 127.0.0.1:${port} did not answer PING within ${READY_DEADLINE_MS / 1000}s; see ${logFile}`);
    }
    await sleep(50);
  }
}

/** Stops the redis-server started with `detached: true` (pid in .run/redis.pid); true if one was running. */
export async function stopRedisServer(): Promise<boolean> {
  const pid = detachedRedisPid();
  if (pid === undefined) {
    fs.rmSync(REDIS_PID_FILE, { force: true });
    return false;
  }
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_DEADLINE_MS;
  let killed = false;
  while (isRedisProcess(pid)) {
    if (!killed && Date.now() > deadline) {
      signal(pid, 'SIGKILL');
      killed = true;
    }
    await sleep(50);
  }
  removePidFile(pid);
  return true;
}

/** The pid of the detached redis-server if it is still running. */
export function detachedRedisPid(): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(REDIS_PID_FILE, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 && isRedisProcess(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves when the Redis at url answers PING within timeoutMs; rejects with the reason otherwise. */
export async function pingRedis(url: string, timeoutMs: number): Promise<void> {
  // No retries and no offline queue: a probe must fail fast instead of waiting for a reconnect.
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // ioredis arms this timer even when the socket is already closed; 2s would hold the process open.
    disconnectTimeout: 100,
  });
  // The socket error (ECONNREFUSED, auth...) says more than the "Connection is closed." that follows it.
  let socketError: Error | undefined;
  client.on('error', (err: Error) => (socketError ??= err));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs))),
    ]);
  } catch (err) {
    throw socketError ?? err;
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

export async function isRedisReachable(url: string, timeoutMs: number): Promise<boolean> {
  return pingRedis(url, timeoutMs).then(
    () => true,
    () => false,
  );
}

/** Hides a password in a redis URL before it is printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Guards against signalling an unrelated process that reused a stale pid (and ignores zombies). */
function isRedisProcess(pid: number): boolean {
  return isAlive(pid) && commandLineIncludes(pid, 'redis-server');
}

function removePidFile(pid: number): void {
  try {
    if (Number.parseInt(fs.readFileSync(REDIS_PID_FILE, 'utf8'), 10) === pid) fs.rmSync(REDIS_PID_FILE, { force: true });
  } catch {
    // No pid file.
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
