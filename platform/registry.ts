// The subgraph registry in Redis: the contract between subgraphs, which announce their
// name, URLs and SDL when they start and refresh a heartbeat, and the gateway, which
// composes whatever is registered.
import type { Cluster, Redis } from 'ioredis';

/** One registered subgraph. */
export interface RegistryEntry {
  readonly name: string;
  /** HTTP endpoint for queries and mutations. */
  readonly url: string;
  /** graphql-ws endpoint for subscriptions. */
  readonly wsUrl: string;
  readonly sdl: string;
  /** When the subgraph last announced itself or beat (ms since epoch). */
  readonly lastSeen: number;
}

/** Redis names of the registry of one namespace (STREAMGRAPH_NAMESPACE; '' in production). */
export function registryKeys(namespace = ''): { hash: string; channel: string } {
  return {
    hash: `sg:registry:${namespace}:subgraphs`,
    // Published with the subgraph's name whenever an entry is added, changed or removed.
    channel: `sg:registry:${namespace}:changed`,
  };
}

export interface Announcement {
  /** Stops the heartbeat; with `deregister` (the default) removes the entry so the gateway drops it now. */
  close(opts?: { deregister?: boolean }): Promise<void>;
}

/**
 * Registers a subgraph and keeps its entry fresh every `heartbeatMs`. The gateway drops an
 * entry only on deregistration or after its own absence window without a heartbeat.
 */
export async function announceSubgraph(
  redis: Redis | Cluster,
  entry: Omit<RegistryEntry, 'lastSeen'>,
  opts: { namespace?: string; heartbeatMs?: number } = {},
): Promise<Announcement> {
  const { hash: HASH, channel: REGISTRY_CHANNEL } = registryKeys(opts.namespace);
  const write = async () => {
    const previous = await redis.hget(HASH, entry.name);
    const next: RegistryEntry = { ...entry, lastSeen: Date.now() };
    await redis.hset(HASH, entry.name, JSON.stringify(next));
    // Heartbeats that change nothing but the time are not news to the gateway.
    const before = previous ? (JSON.parse(previous) as RegistryEntry) : null;
    if (!before || before.url !== entry.url || before.wsUrl !== entry.wsUrl || before.sdl !== entry.sdl)
      await redis.publish(REGISTRY_CHANNEL, entry.name);
  };
  await write();
  const timer = setInterval(() => void write().catch(() => undefined), opts.heartbeatMs ?? 5_000);
  timer.unref();
  return {
    async close(opts = {}) {
      clearInterval(timer);
      if (opts.deregister ?? true) {
        await redis.hdel(HASH, entry.name);
        await redis.publish(REGISTRY_CHANNEL, entry.name);
      }
    },
  };
}

/** Every registered subgraph, as the registry holds them now. */
export async function readRegistry(redis: Redis | Cluster, namespace = ''): Promise<RegistryEntry[]> {
  const all = await redis.hgetall(registryKeys(namespace).hash);
  return Object.values(all)
    .map((v) => JSON.parse(v) as RegistryEntry)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Removes an entry (operators: a subgraph that is gone for good). */
export async function removeFromRegistry(redis: Redis | Cluster, name: string, namespace = ''): Promise<void> {
  const { hash, channel } = registryKeys(namespace);
  await redis.hdel(hash, name);
  await redis.publish(channel, name);
}
