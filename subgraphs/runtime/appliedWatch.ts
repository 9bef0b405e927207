// Read-your-writes: wait until a view (in whichever process applies it) has applied a
// given offset, woken by the applied notices the write script publishes.
import type { Cluster, Redis } from 'ioredis';
import type { GenerationWatch } from './generation';
import { partitionKeys, viewChannels } from './keys';

/** A bounded wait ran out. Retrying can help: the view may simply be behind. */
export class WaitTimeoutError extends Error {
  readonly retriable = true;
  constructor(
    readonly view: string,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly appliedUpTo: number | null,
    timeoutMs: number,
  ) {
    super(
      `view ${view} has not applied ${topic}[${partition}]@${offset} within ${timeoutMs} ms ` +
        `(applied up to ${appliedUpTo ?? 'nothing'})`,
    );
    this.name = 'WaitTimeoutError';
  }
}

export interface AppliedWatch {
  /**
   * Resolves once the live generation has applied `offset` of `partition`; rejects with
   * WaitTimeoutError. `seen`: a checkpoint below `offset` that a read just found although the
   * watch knew the offset applied. Redis lost applied writes (a failover to a replica that had
   * not received them), so what the watch knew is forgotten and the re-fold from Kafka awaited.
   */
  waitFor(partition: number, offset: number, timeoutMs: number, seen?: number | null): Promise<void>;
  /** Lets the local runner report its own writes without a round trip through Redis. */
  noteApplied(gen: string, partition: number, checkpoint: number): void;
  close(): Promise<void>;
}

/** The applied notice published by each write: `gen topic partition checkpoint`. */
export function appliedMessage(gen: string, topic: string, partition: number, checkpoint: number): string {
  return `${gen} ${topic} ${partition} ${checkpoint}`;
}

interface Waiter {
  partition: number;
  offset: number;
  resolve(): void;
  fail(error: Error): void;
}

export async function watchApplied(opts: {
  redis: Redis | Cluster;
  subscriber: Redis | Cluster;
  view: string;
  topic: string;
  generation: GenerationWatch;
}): Promise<AppliedWatch> {
  const { redis, subscriber, view, topic, generation } = opts;
  const channel = viewChannels(view).applied;
  const known = new Map<string, number>();
  const waiters = new Set<Waiter>();

  const noteApplied = (gen: string, partition: number, checkpoint: number) => {
    const k = `${gen}:${partition}`;
    if ((known.get(k) ?? -1) >= checkpoint) return;
    known.set(k, checkpoint);
    if (gen !== generation.current()) return;
    for (const w of waiters) if (w.partition === partition && w.offset <= checkpoint) w.resolve();
  };
  const appliedNow = (partition: number) => known.get(`${generation.current()}:${partition}`) ?? null;

  const readCheckpoint = async (partition: number) => {
    const gen = generation.current();
    const cp = await redis.get(partitionKeys(view, gen, topic, partition).checkpoint);
    if (cp !== null) noteApplied(gen, partition, Number(cp));
  };

  const onMessage = (ch: string, message: string) => {
    if (ch !== channel) return;
    const [gen, t, p, cp] = message.split(' ');
    if (t === topic) noteApplied(gen, Number(p), Number(cp));
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(channel);
  const offGen = generation.onChange(() => {
    for (const w of waiters) void readCheckpoint(w.partition).catch(() => undefined);
  });

  return {
    noteApplied,
    waitFor(partition, offset, timeoutMs, seen) {
      if (seen !== undefined && (seen ?? -1) < offset) known.delete(`${generation.current()}:${partition}`);
      if ((appliedNow(partition) ?? -1) >= offset) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          partition,
          offset,
          resolve: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve();
          },
          fail: (error) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            reject(error);
          },
        };
        const timer = setTimeout(
          () => waiter.fail(new WaitTimeoutError(view, topic, partition, offset, appliedNow(partition), timeoutMs)),
          timeoutMs,
        );
        waiters.add(waiter);
        // Once a partition's checkpoint is known, every later write reaches the watch as a
        // notice (or a local note), so only the first wait on a partition, or one after a
        // generation switch, costs a read.
        if (appliedNow(partition) === null) readCheckpoint(partition).catch(() => undefined);
      });
    },
    async close() {
      offGen();
      subscriber.off('message', onMessage);
      await subscriber.unsubscribe(channel).catch(() => undefined);
      for (const w of waiters) w.fail(new Error(`view ${view} watch closed`));
    },
  };
}
