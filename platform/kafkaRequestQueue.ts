// kafkajs 2.2.x keeps each broker connection on a 1 ms timer for as long as the connection lives.
// Every response runs the request queue's check for pending requests, and the check always
// schedules the next one; with nothing pending and no throttle its delay is negative, which Node
// runs after 1 ms, so the check re-arms itself a thousand times a second per connection. A
// subgraph holds about 16 broker connections (a consumer group per view and relay), so an idle
// subgraph woke its event loop 1,800 times a second (strace: epoll_pwait) for nothing. Reported
// upstream (tulios/kafkajs#1556, #1704); the project is not maintained and no release has a fix.
//
// The check is only needed while a request waits in the queue: a request that cannot be sent at
// once is queued and schedules a check (after the throttle ends, or CHECK_INTERVAL_MS when it
// waits for a free in-flight slot), and every response checks the queue again. So the check is
// scheduled while something is pending, and never otherwise.
import { createRequire } from 'node:module';

const requireFromHere = createRequire(__filename);

/** kafkajs's own interval for a queue waiting on in-flight slots rather than a throttle. */
const CHECK_INTERVAL_MS = 10;

/** What of kafkajs's RequestQueue the replacement reads and sets. */
export interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

/** RequestQueue.prototype.scheduleCheckPendingRequests, scheduling only while a request waits. */
export function scheduleCheckWhilePending(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    // A throttle that ends within the millisecond still gets a check (the stall kafkajs#1532 fixed).
    throttledFor > 0 ? throttledFor : CHECK_INTERVAL_MS,
  );
}

/** kafkajs's RequestQueue class (internal, not part of its typed API). */
export function kafkajsRequestQueue(): { prototype: { scheduleCheckPendingRequests: (this: RequestQueueState) => void } } {
  return requireFromHere('kafkajs/src/network/requestQueue') as never;
}

/**
 * Installs the replacement on kafkajs 2.2.x (the versions with the loop; a later one is left
 * alone). Idempotent; true when installed.
 */
export function fixRequestQueueTimer(): boolean {
  const { version } = requireFromHere('kafkajs/package.json') as { version: string };
  if (!/^2\.2\.\d+$/.test(version)) return false;
  kafkajsRequestQueue().prototype.scheduleCheckPendingRequests = scheduleCheckWhilePending;
  return true;
}
