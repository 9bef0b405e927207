// A dedicated Redis connection for pub/sub. It is connected and ready before it enters
// subscriber mode: ioredis 5.8+ may otherwise send its INFO ready check on a connection
// that is already subscribed (redis/ioredis#2037) and fail it.
import { Cluster, type Redis } from 'ioredis';

export async function createSubscriber(redis: Redis | Cluster): Promise<Redis | Cluster> {
  // Cluster.duplicate takes (startup nodes, options): options passed first would be read as
  // nodes, and the copy would connect at once, so connect() below would throw.
  const sub =
    redis instanceof Cluster
      ? redis.duplicate(undefined, { lazyConnect: true, enableReadyCheck: false })
      : (redis as Redis).duplicate({ lazyConnect: true, enableReadyCheck: false });
  await sub.connect();
  return sub;
}
