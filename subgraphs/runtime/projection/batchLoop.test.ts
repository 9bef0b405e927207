// A fetched batch through the chunk step, with fakes: chunks in order, retries of a failing
// chunk that never skip it, the bound after which the view fails, and seeks back.
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { ReplyError } from 'ioredis';
import { createLogger } from '../../../platform/logger';
import type { ChunkApplier } from './applyChunk';
import { batchLoop } from './batchLoop';
import { ProjectionBugError } from './errors';
import { ViewHealth } from './viewHealth';

const log = createLogger('test', 'silent');
const policy = { initialDelayMs: 100, maxDelayMs: 1000, giveUpAfterMs: 10_000 };

function payload(partition: number, offsets: number[]) {
  const resolved: string[] = [];
  const p = {
    batch: { partition, fetchedOffset: String(offsets[0]), messages: offsets.map((o) => ({ offset: String(o) }) as KafkaMessage) },
    resolveOffset: (o: string) => resolved.push(o),
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  return { p, resolved };
}

function setUp(apply: ChunkApplier) {
  let t = 0;
  const waits: number[] = [];
  const health = new ViewHealth(policy, () => t);
  health.started();
  const seeks: Array<[number, number]> = [];
  const loop = batchLoop({ apply, maxChunk: 2, health, log, seek: (p, o) => seeks.push([p, o]), wait: async (ms) => {
      waits.push(ms);
      t += ms;
    },
  });
  return { loop, health, seeks, waits };
}

it('applies a batch chunk by chunk, resolving each chunk\'s last offset', async () => {
  const calls: Array<[number, string[]]> = [];
  const { loop, health } = setUp(async (_p, startsAt, chunk) => {
    calls.push([startsAt, chunk.map((m) => m.offset)]);
    return { kind: 'applied', last: Number(chunk[chunk.length - 1].offset) };
  });
  const { p, resolved } = payload(3, [5, 6, 7, 8, 9]);
  await loop(p);
  expect(calls).toEqual([[5, ['5', '6']], [7, ['7', '8']], [9, ['9']]]);
  expect(resolved).toEqual(['6', '8', '9']);
  expect(health.status().state).toBe('running');
});

it('retries a chunk whose write fails until it succeeds, never skipping it', async () => {
  let failures = 3;
  const { loop, health, waits } = setUp(async (_p, _s, chunk) => {
    if (failures-- > 0) throw new ReplyError('NOREPLICAS Not enough good replicas to write.');
    return { kind: 'applied', last: Number(chunk[chunk.length - 1].offset) };
  });
  const { p, resolved } = payload(0, [1, 2]);
  await loop(p);
  expect(waits).toEqual([100, 200, 400]);
  expect(resolved).toEqual(['2']);
  expect(health.status().state).toBe('running');
});

it('fails the view once a chunk has failed for the bound, resolving nothing', async () => {
  const { loop, health, waits } = setUp(async () => {
    throw new ReplyError('NOREPLICAS Not enough good replicas to write.');
  });
  const { p, resolved } = payload(0, [1, 2, 3]);
  await loop(p);
  expect(resolved).toEqual([]);
  expect(waits.reduce((a, w) => a + w, 0)).toBeGreaterThanOrEqual(policy.giveUpAfterMs);
  expect(health.status()).toMatchObject({ state: 'failed', errorClass: 'retriable', reason: expect.stringMatching(/^applying partition 0: Redis refused the command \(NOREPLICAS\) for 10\.5 s over 14 attempts/) });
});

it('stops at once on a fatal error', async () => {
  const { loop, health, waits } = setUp(async () => {
    throw new ProjectionBugError('the fold of view v is broken');
  });
  await loop(payload(0, [1]).p);
  expect(waits).toEqual([]);
  expect(health.status()).toMatchObject({ state: 'failed', errorClass: 'fatal' });
});

it('seeks back and ends the batch when the view is behind the fetch position', async () => {
  const { loop, seeks } = setUp(async () => ({ kind: 'seek', to: 3 }));
  const { p, resolved } = payload(4, [10, 11, 12]);
  await loop(p);
  expect(seeks).toEqual([[4, 3]]);
  expect(resolved).toEqual([]);
});
