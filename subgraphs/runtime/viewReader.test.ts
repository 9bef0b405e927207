// Read-your-writes on the real local Redis: inside a request that saw the view apply its write,
// a read that finds the partition's checkpoint below that write (Redis lost applied writes: a
// failover to a replica that never got them) waits for the view to apply it again and reads again.
import Redis from 'ioredis';
import { ORDERS_TOPIC, partitionForKey } from '../../schema/events';
import { uniqueName } from '../../test/support/waitFor';
import type { Projection } from './projection';
import { partitionKeys } from './keys';
import { noteAppliedInRequest, withRequestScope } from './requestScope';
import { createViewReader } from './viewReader';

describe('view reader, read-your-writes', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  afterAll(() => redis.quit());

  it('reads again after the view re-applied a write it had lost', async () => {
    const view = uniqueName('ryw');
    const topic = uniqueName('orders');
    // The reader needs only where an entity lives.
    const projection = { name: view, topic: ORDERS_TOPIC, recordKeyOf: (id: string) => id } as unknown as Projection<typeof ORDERS_TOPIC, { id: string; version: number }>;
    const partition = partitionForKey('o-1', ORDERS_TOPIC.partitions);
    const keys = partitionKeys(view, 'g0', topic, partition);
    // The state after the write at offset 7 was lost: the checkpoint went back to 6.
    await redis.mset(keys.checkpoint, '6', keys.entity('o-1'), JSON.stringify({ id: 'o-1', version: 3 }));
    const waits: Array<[number, number, number | null]> = [];
    const reader = await createViewReader({
      redis,
      projection,
      topic,
      partitions: ORDERS_TOPIC.partitions,
      generation: 'g0',
      // What the re-fold from Kafka does meanwhile.
      awaitApplied: async (p, offset, seen) => {
        waits.push([p, offset, seen]);
        await redis.mset(keys.checkpoint, '7', keys.entity('o-1'), JSON.stringify({ id: 'o-1', version: 4 }));
      },
    });
    try {
      const { result } = await withRequestScope(async () => {
        noteAppliedInRequest(view, partition, 7);
        return reader.getMany(['o-1']);
      });
      expect(result).toEqual([{ id: 'o-1', version: 4 }]);
      expect(waits).toEqual([[partition, 7, 6]]);
      // Outside such a request nothing is checked: the read is the plain MGET.
      waits.length = 0;
      await redis.set(keys.checkpoint, '2');
      expect(await reader.getMany(['o-1'])).toEqual([{ id: 'o-1', version: 4 }]);
      expect(waits).toEqual([]);
    } finally {
      await reader.close();
      await redis.del(keys.checkpoint, keys.entity('o-1'));
    }
  });
});
