// The committer's bookkeeping, with a stand-in for the consumer's commit call: the newest
// position per partition, one commit per round, a failed round's positions kept, a lost
// partition forgotten, and what is left committed on stop.
import { createLogger } from '../../platform/logger';
import { startOffsetCommitter } from './offsetCommitter';

type Committed = Array<{ topic: string; partition: number; offset: string }>;

function committer(fail: () => boolean = () => false) {
  const calls: Committed[] = [];
  const c = startOffsetCommitter({
    consumer: {
      commitOffsets: async (offsets: Committed) => {
        if (fail()) throw new Error('The group is rebalancing');
        calls.push(offsets);
      },
    },
    topic: 't',
    intervalMs: 60_000,
    log: createLogger('offset-committer-test', 'silent'),
  });
  return { c, calls };
}

it('commits the newest position of each partition once per round, and nothing when nothing moved', async () => {
  const { c, calls } = committer();
  c.note(0, 5);
  c.note(0, 9);
  c.note(0, 7); // an older position never replaces a newer one
  c.note(3, 2);
  await c.flush();
  await c.flush();
  expect(calls).toEqual([
    [
      { topic: 't', partition: 0, offset: '9' },
      { topic: 't', partition: 3, offset: '2' },
    ],
  ]);
  await c.stop();
});

it('keeps a failed round for the next, forgets partitions it lost, and commits what is left on stop', async () => {
  let failing = true;
  const { c, calls } = committer(() => failing);
  c.note(1, 10);
  c.note(2, 4);
  await c.flush();
  expect(calls).toEqual([]);
  c.note(1, 12);
  c.retain([1]);
  failing = false;
  await c.stop();
  expect(calls).toEqual([[{ topic: 't', partition: 1, offset: '12' }]]);
});
