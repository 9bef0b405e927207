// A dedicated Redis connection for pub/sub. It is connected and ready before it enters
// subscriber mode: ioredis 5.8+ may otherwise send its INFO ready check on a connection
// that is already subscribed (redis/ioredis#2037) and fail it.
import type { Cluster, Redis } from 'ioredis';

export async function createSubscriber(redis: Redis | Cluster): Promise<Redis | Cluster> {
  const sub = (redis as Redis).duplicate({ lazyConnect: true, enableReadyCheck: false }) as Redis | Cluster;
  await sub.connect();
  return sub;
}
