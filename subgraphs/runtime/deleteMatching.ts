// Deleting a pattern of keys without blocking Redis, on a single node or a whole cluster.
import type { Cluster, Redis } from 'ioredis';

/** Deletes keys matching `pattern` on every master without blocking Redis (SCAN + UNLINK), all but `except`. */
export async function deleteMatching(redis: Redis | Cluster, pattern: string, except?: string): Promise<number> {
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' ? (redis as Cluster).nodes('master') : [redis as Redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const keys = except === undefined ? found : found.filter((k) => k !== except);
      // UNLINK one key at a time: keys of one scan page may sit in different cluster slots.
      if (keys.length > 0) {
        const pipeline = node.pipeline();
        for (const k of keys) pipeline.unlink(k);
        await pipeline.exec();
        deleted += keys.length;
      }
    } while (cursor !== '0');
  }
  return deleted;
}
