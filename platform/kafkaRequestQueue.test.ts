// The request queue's pending check: kafkajs's own re-arms itself every millisecond with nothing
// to do; the replacement runs only while a request waits, and still sends a throttled one.
import { kafkajsRequestQueue, fixRequestQueueTimer, scheduleCheckWhilePending } from './kafkaRequestQueue';
import { waitFor } from '../test/support/waitFor';

const RequestQueue = kafkajsRequestQueue() as unknown as new (options: Record<string, unknown>) => {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  push(request: { entry: { correlationId: number; apiKey: number; apiName: string; apiVersion: number }; expectResponse: boolean; sendRequest(): void }): void;
  destroy(): void;
};
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const queue = () => new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b:9092', logger: silent });

describe('the kafkajs request queue timer', () => {
  const original = kafkajsRequestQueue().prototype.scheduleCheckPendingRequests;
  afterAll(() => fixRequestQueueTimer());

  it("kafkajs's own check re-arms itself with nothing pending (the bug the fix is for)", () => {
    kafkajsRequestQueue().prototype.scheduleCheckPendingRequests = original;
    const q = queue();
    q.checkPendingRequests();
    expect(q.pending).toHaveLength(0);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    q.destroy();
  });

  it('with the fix, an idle queue schedules nothing after a response', () => {
    expect(fixRequestQueueTimer()).toBe(true);
    expect(kafkajsRequestQueue().prototype.scheduleCheckPendingRequests).toBe(scheduleCheckWhilePending);
    const q = queue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  it('with the fix, a request held back by a throttle is sent once the throttle ends, even one that ends within the millisecond', async () => {
    fixRequestQueueTimer();
    for (const throttleMs of [40, 1]) {
      const q = queue();
      let sent = 0;
      q.throttledUntil = Date.now() + throttleMs;
      q.push({ entry: { correlationId: 1, apiKey: 1, apiName: 'Fetch', apiVersion: 11 }, expectResponse: true, sendRequest: () => sent++ });
      expect(sent).toBe(0);
      expect(q.pending).toHaveLength(1);
      await waitFor(() => sent === 1, { what: `the request held ${throttleMs} ms to be sent`, timeoutMs: 2_000 });
      expect(q.pending).toHaveLength(0);
      // Sent and waiting for its answer: nothing left to check, so nothing scheduled.
      expect(q.throttleCheckTimeoutId).toBeNull();
      q.destroy();
    }
  });
});
