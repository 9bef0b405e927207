// Error classes, the backoff and its bound, and the view's state, on a fake clock.
import { ReplyError } from 'ioredis';
import { KafkaJSConnectionError, KafkaJSRequestTimeoutError } from 'kafkajs';
import { classifyError, ProjectionBugError, UnrecoverableViewError } from './errors';
import { backoffDelay, DEFAULT_RETRY_POLICY, failedViews, ViewHealth, type RetryPolicy } from './viewHealth';

const policy: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 1000, giveUpAfterMs: 10_000 };

function clock() {
  let t = Date.parse('2026-01-01T00:00:00Z');
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('error classes', () => {
  it.each([
    [new ReplyError('NOREPLICAS Not enough good replicas to write.'), 'Redis refused the command (NOREPLICAS)'],
    [new Error('READONLY You can\'t write against a read only replica.'), 'Redis refused the command (READONLY)'],
    [new Error('Connection is closed.'), 'Redis connection lost'],
    [Object.assign(new Error('Reached the max retries per request limit (which is 20).'), { name: 'MaxRetriesPerRequestError' }), 'Redis connection lost'],
    [new Error('Command timed out'), 'Redis timed out'],
    [new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), 'broker connection lost'],
    [new KafkaJSRequestTimeoutError('Request Metadata(key: 3, version: 6) timed out'), 'broker timed out'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'connection failed (ECONNREFUSED)'],
    [new Error('something nobody expected'), 'unexpected error'],
  ])('%s is retriable: %s', (error, cause) => {
    expect(classifyError(error)).toEqual({ class: 'retriable', cause, message: error.message });
  });

  it('is fatal for a broken fold and for a view state that cannot be continued', () => {
    expect(classifyError(new ProjectionBugError('the fold is broken'))).toMatchObject({ class: 'fatal', cause: 'ProjectionBugError' });
    expect(classifyError(new UnrecoverableViewError('a hole'))).toMatchObject({ class: 'fatal', cause: 'UnrecoverableViewError' });
  });
});

describe('backoff', () => {
  it('doubles from the first delay up to the longest', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(policy, n))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(DEFAULT_RETRY_POLICY, n))).toEqual([200, 400, 800, 1600, 3200, 5000]);
  });

  it('retries a failing step until it has failed for the bound, then fails the view once', () => {
    const c = clock();
    const health = new ViewHealth(policy, c.now);
    const failed: string[] = [];
    health.onFailed((s) => failed.push(s.reason ?? ''));
    health.started();
    const error = new ReplyError('NOREPLICAS Not enough good replicas to write.');
    let attempts = 0;
    for (;;) {
      const d = health.failure('applying partition 0', error);
      attempts++;
      if (!d.retry) {
        expect(d.status).toMatchObject({ state: 'failed', errorClass: 'retriable' });
        break;
      }
      expect(health.status()).toMatchObject({ state: 'retrying', reason: expect.stringContaining('NOREPLICAS') });
      c.advance(d.delayMs);
    }
    // 100 + 200 + 400 + 800 = 1500 ms, then 1 s apart: the 14th failure, 10.5 s after the first, is past 10 s.
    expect(attempts).toBe(14);
    expect(failed).toEqual(['applying partition 0: Redis refused the command (NOREPLICAS) for 10.5 s over 14 attempts; last error: NOREPLICAS Not enough good replicas to write.']);
    // Failed is final: later successes and failures change nothing.
    health.succeeded('applying partition 0');
    expect(health.failure('applying partition 0', error)).toMatchObject({ retry: false });
    expect(health.status().state).toBe('failed');
    expect(failedViews([{ name: 'orders', handle: health }])).toEqual([
      { view: 'orders', errorClass: 'retriable', reason: failed[0], since: '2026-01-01T00:00:10.500Z' },
    ]);
  });

  it('starts the bound again after a success, and counts each step on its own', () => {
    const c = clock();
    const health = new ViewHealth(policy, c.now);
    health.started();
    const error = new Error('Connection is closed.');
    health.failure('seeking to the checkpoints', error);
    c.advance(9_000);
    health.succeeded('seeking to the checkpoints');
    expect(health.status().state).toBe('running');
    expect(health.failure('seeking to the checkpoints', error)).toMatchObject({ retry: true, delayMs: 100 });
    c.advance(9_000);
    // Another step's first failure is far from the bound.
    expect(health.failure('applying partition 1', error)).toMatchObject({ retry: true, failures: 1 });
    c.advance(1_000);
    expect(health.failure('seeking to the checkpoints', error)).toMatchObject({ retry: false });
  });

  it('fails at once on a fatal error, and forgets the failures of partitions given away', () => {
    const c = clock();
    const health = new ViewHealth(policy, c.now);
    health.started();
    health.failure('applying partition 2', new Error('Connection is closed.'));
    health.forget((step) => step !== 'applying partition 2');
    expect(health.status().state).toBe('running');
    const d = health.failure('applying partition 0', new ProjectionBugError('the fold of view v is broken'));
    expect(d).toEqual({ retry: false, status: { state: 'failed', errorClass: 'fatal', reason: 'the fold of view v is broken', since: '2026-01-01T00:00:00.000Z' } });
    health.stopped();
    expect(health.status().state).toBe('failed');
  });

  it('goes from starting to running to stopped', () => {
    const health = new ViewHealth(policy, clock().now);
    expect(health.status().state).toBe('starting');
    health.started();
    expect(health.status().state).toBe('running');
    health.stopped();
    expect(health.status()).toMatchObject({ state: 'stopped', reason: null });
    expect(failedViews([{ name: 'v', handle: health }])).toEqual([]);
  });
});
