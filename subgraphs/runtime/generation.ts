// Which generation (key namespace) of a view is live: readers and writers follow the
// pointer, so a rebuilt generation is switched in with one atomic SET + PUBLISH.
import type { Cluster, Redis } from 'ioredis';
import { activeGenerationKey, INITIAL_GENERATION, viewChannels } from './keys';

export interface GenerationWatch {
  /** The generation in use now. */
  current(): string;
  /** Re-reads the pointer (a safety net for a switch notice missed during a reconnect). */
  refresh(): Promise<string>;
  /** Called after the generation changed. */
  onChange(listener: (gen: string) => void): () => void;
  close(): Promise<void>;
}

/** Reads the live generation of `view` from Redis. */
export async function readGeneration(redis: Redis | Cluster, view: string): Promise<string> {
  return (await redis.get(activeGenerationKey(view))) ?? INITIAL_GENERATION;
}

/** Makes `gen` the live generation of `view` and tells every reader and writer. */
export async function switchGeneration(redis: Redis | Cluster, view: string, gen: string): Promise<void> {
  await redis.set(activeGenerationKey(view), gen);
  await redis.publish(viewChannels(view).generation, gen);
}

/**
 * Follows the live generation of `view`: subscribes to switch notices on `subscriber`
 * (a connection in subscriber mode, owned by the caller) and re-reads every `refreshMs`.
 */
export async function watchGeneration(
  redis: Redis | Cluster,
  subscriber: Redis | Cluster,
  view: string,
  refreshMs = 5000,
): Promise<GenerationWatch> {
  const channel = viewChannels(view).generation;
  const listeners = new Set<(gen: string) => void>();
  let gen = await readGeneration(redis, view);
  const set = (next: string) => {
    if (next === gen) return;
    gen = next;
    for (const l of listeners) l(next);
  };
  const onMessage = (ch: string, message: string) => {
    if (ch === channel) set(message);
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(channel);
  const refresh = async () => {
    set(await readGeneration(redis, view));
    return gen;
  };
  const timer = setInterval(() => void refresh().catch(() => undefined), refreshMs);
  timer.unref();
  return {
    current: () => gen,
    refresh,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      clearInterval(timer);
      subscriber.off('message', onMessage);
      await subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
