// The load of the gateway benchmark: a closed loop of workers, each sending its next request
// as soon as its last one answered, with a warm-up followed by one measured window during
// which the gateway process's CPU time is read before and after.
import { Pool } from 'undici';
import { cpuMs } from './childProcess';

export interface LoadRequest {
  /** The JSON body to POST. */
  readonly body: string;
  /** Called once the request has finished, whatever the outcome (frees its variables for reuse). */
  release(): void;
}

export interface ClosedLoopOptions {
  /** The gateway's GraphQL endpoint. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** The gateway's process, whose CPU time the window is charged with. */
  readonly pid: number;
  /** The next request to send; never one identical to a request in flight. */
  next(): LoadRequest;
  /** Whether an HTTP 200 answer is a success: no errors and the data the query must return. */
  isSuccess(body: unknown): boolean;
}

export interface WindowResult {
  /** Requests that finished inside the measured window. */
  readonly requests: number;
  readonly errors: number;
  /** Failed requests during the warm-up, reported so a gateway that fails only then is still flagged. */
  readonly warmupErrors: number;
  readonly seconds: number;
  /** Latencies (ms) of the successful requests that finished inside the window. */
  readonly latencies: number[];
  /** The gateway's CPU time during the window, in ms. */
  readonly cpuMs: number;
  /** The first failure seen, to say why a gateway is flagged. */
  readonly firstError: string | null;
}

export async function runClosedLoop(opts: ClosedLoopOptions): Promise<WindowResult> {
  const origin = new URL(opts.url);
  // One keep-alive connection per worker, as a pool of clients behind a load balancer would have.
  const pool = new Pool(origin.origin, { connections: opts.concurrency, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const headers = { 'content-type': 'application/json', ...opts.headers };
  let phase: 'warmup' | 'measuring' | 'done' = 'warmup';
  let windowStart = 0;
  let windowEnd = 0;
  let cpuStart = 0;
  let cpuEnd = 0;
  let requests = 0;
  let errors = 0;
  let warmupErrors = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];

  const fail = (reason: string) => {
    firstError ??= reason;
    if (phase === 'warmup') warmupErrors++;
    else if (phase === 'measuring') {
      errors++;
      requests++;
    }
  };

  const worker = async () => {
    while (phase !== 'done') {
      const request = opts.next();
      const started = performance.now();
      try {
        const res = await pool.request({ path: origin.pathname, method: 'POST', headers, body: request.body });
        const text = await res.body.text();
        const ms = performance.now() - started;
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (res.statusCode !== 200 || !opts.isSuccess(body)) fail(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
        else if (phase === 'measuring') {
          requests++;
          latencies.push(ms);
        }
      } catch (e) {
        fail((e as Error).message);
      } finally {
        request.release();
      }
    }
  };

  const warmupTimer = setTimeout(() => {
    cpuStart = cpuMs(opts.pid);
    windowStart = performance.now();
    phase = 'measuring';
  }, opts.warmupSeconds * 1000);
  const endTimer = setTimeout(() => {
    cpuEnd = cpuMs(opts.pid);
    windowEnd = performance.now();
    phase = 'done';
  }, (opts.warmupSeconds + opts.seconds) * 1000);
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    clearTimeout(warmupTimer);
    clearTimeout(endTimer);
    await pool.close();
  }
  return { requests, errors, warmupErrors, seconds: (windowEnd - windowStart) / 1000, latencies, cpuMs: cpuEnd - cpuStart, firstError };
}
