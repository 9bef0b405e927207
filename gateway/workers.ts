// Several gateway processes on one port (GATEWAY_WORKERS): the primary forks the workers,
// replaces one that dies, stops them in order, and aggregates their metrics. Each worker is
// a whole gateway (its own caches, upstream pool and shared subscriptions among its own
// clients); the kernel's listening socket is shared through node:cluster, which hands new
// connections to the workers in turn. One process's event loop is one core: this lets the
// fan-out of subscriptions use them all.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../platform/logger';

const METRICS_REQUEST = 'streamgraph:metrics-request';
const METRICS_ANSWER = 'streamgraph:metrics-answer';
/** A worker that dies is replaced after this, doubling while they keep dying, up to the cap. */
const RESPAWN_MS = 250;
const RESPAWN_MAX_MS = 10_000;
/** A worker that lived this long resets the backoff. */
const HEALTHY_MS = 30_000;
const STOP_GRACE_MS = 15_000;

interface MetricsRequest {
  readonly type: typeof METRICS_REQUEST;
  readonly id: number;
}
interface MetricsAnswer {
  readonly type: typeof METRICS_ANSWER;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** In the primary: forks `count` workers and keeps that many running until a signal stops them. */
export function runGatewayPrimary(count: number, logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let failures = 0;
  const startedAt = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.on('message', (message: MetricsRequest) => {
      if (message?.type !== METRICS_REQUEST) return;
      aggregator.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ type: METRICS_ANSWER, id: message.id, text } satisfies MetricsAnswer),
        (e: Error) => worker.isConnected() && worker.send({ type: METRICS_ANSWER, id: message.id, error: e.message } satisfies MetricsAnswer),
      );
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    if (stopping) return;
    failures = lived >= HEALTHY_MS ? 1 : failures + 1;
    const wait = Math.min(RESPAWN_MAX_MS, RESPAWN_MS * 2 ** (failures - 1));
    logger.error({ worker: worker.process.pid, code, signal, respawnInMs: wait }, 'gateway worker exited; starting another');
    setTimeout(() => !stopping && fork(), wait);
  });
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === count) console.log(`gateway ready at http://${address.address ?? '127.0.0.1'}:${address.port}/graphql (${count} workers)`);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping the gateway workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of workers) w.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
    void Promise.all(exited).then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (let i = 0; i < count; i++) fork();
}

/**
 * In a worker: makes its registry answer the primary's aggregation, and returns what /metrics
 * serves there: every worker's metrics, whichever worker the scrape reached.
 */
export function workerMetricsSource(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // registers this worker's answer to the primary's requests
  let nextId = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
  process.on('message', (message: MetricsAnswer) => {
    if (message?.type !== METRICS_ANSWER) return;
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    if (message.text !== undefined) w.resolve(message.text);
    else w.reject(new Error(message.error ?? 'no metrics from the primary'));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => waiting.delete(id) && reject(new Error('the primary did not answer with metrics')), 10_000);
      waiting.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}
