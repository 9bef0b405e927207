// The request queue's pending check: kafkajs's own re-arms itself every millisecond with nothing
// to do; the replacement runs only while a request waits, and still sends a throttled one.
import { kafkajsRequestQueue, fixRequestQueueTimer, scheduleCheckWhilePending } from './kafkaRequestQueue';

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
    const realNow = Date.now.bind(Date);
    for (const throttleMs of [40, 1]) {
      // The queue reads the wall clock; hold it still while the request is pushed and the first check
      // runs, so a slow machine cannot let the throttle lapse before the assertions look.
      const frozenAt = realNow();
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => frozenAt);
      try {
        const q = queue();
        let sent = 0;
        q.throttledUntil = frozenAt + throttleMs;
        q.push({ entry: { correlationId: 1, apiKey: 1, apiName: 'Fetch', apiVersion: 11 }, expectResponse: true, sendRequest: () => sent++ });
        expect(sent).toBe(0);
        expect(q.pending).toHaveLength(1);
        const firstCheck = q.throttleCheckTimeoutId;
        expect(firstCheck).not.toBeNull();
        // The first check fires while the clock still says "throttled": the request stays queued
        // and the check is armed again instead of being dropped.
        const deadline = performance.now() + 2_000;
        while (q.throttleCheckTimeoutId === firstCheck && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
        expect(q.throttleCheckTimeoutId).not.toBe(firstCheck);
        expect(sent).toBe(0);
        expect(q.pending).toHaveLength(1);
        expect(q.throttleCheckTimeoutId).not.toBeNull();
        // The throttle ends to the millisecond: the next check sends it.
        clock.mockImplementation(() => frozenAt + throttleMs);
        // (Polled on the monotonic clock: waitFor's deadline reads the frozen one.)
        const sendDeadline = performance.now() + 2_000;
        while (sent === 0 && performance.now() < sendDeadline) await new Promise((r) => setTimeout(r, 1));
        expect(sent).toBe(1);
        expect(q.pending).toHaveLength(0);
        // Sent and waiting for its answer: nothing left to check, so nothing scheduled.
        expect(q.throttleCheckTimeoutId).toBeNull();
        q.destroy();
      } finally {
        clock.mockRestore();
      }
    }
  });
});
