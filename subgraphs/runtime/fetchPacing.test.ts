// Gathering after a small batch, pure: the pause that follows a batch by its size, the handler's
// own time counted, and no pause for a consumer that stopped or a partition that moved.
import type { EachBatchPayload } from 'kafkajs';
import { batchBytes, pacedEachBatch } from './fetchPacing';

function payload(sizes: number[], state: { running?: boolean; stale?: boolean } = {}): EachBatchPayload {
  const messages = sizes.map((n, i) => ({ key: Buffer.from('k'), value: Buffer.alloc(n), offset: String(i), headers: {}, timestamp: '0', attributes: 0 }));
  return { batch: { messages, partition: 0 }, isRunning: () => state.running ?? true, isStale: () => state.stale ?? false } as unknown as EachBatchPayload;
}

function paced(handlerMs: number) {
  let clock = 1_000;
  const waits: number[] = [];
  const handled: number[] = [];
  const each = pacedEachBatch(
    async (p) => {
      handled.push(p.batch.messages.length);
      clock += handlerMs;
    },
    { minBytes: 100, gatherMs: 20, now: () => clock, wait: async (ms) => void waits.push(ms) },
  );
  return { each, waits, handled };
}

it('counts the keys and values a batch carried', () => {
  expect(batchBytes(payload([10, 0, 5]).batch)).toBe(18);
});

it('holds the next fetch after a small batch until the gathering time has passed since it came', async () => {
  const { each, waits, handled } = paced(3);
  await each(payload([10]));
  expect({ handled, waits }).toEqual({ handled: [1], waits: [17] });
});

it('fetches again at once after a batch of at least minBytes (catching up), or when the handler took the whole time', async () => {
  const big = paced(3);
  await big.each(payload([60, 60]));
  expect(big.waits).toEqual([]);
  const slow = paced(25);
  await slow.each(payload([10]));
  expect(slow.waits).toEqual([]);
});

it('does not pause a consumer that is stopping or a partition whose batch went stale', async () => {
  const { each, waits } = paced(1);
  await each(payload([10], { running: false }));
  await each(payload([10], { stale: true }));
  expect(waits).toEqual([]);
});
