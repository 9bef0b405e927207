// A client connection's outgoing messages. A few are handed to the socket at once; the rest
// wait here. Waiting messages carry a key: a newer state of the same object replaces the
// waiting one in place (conflation), so a lagging client's queue holds at most one message
// per object and memory stays bounded. Other messages are never merged or dropped; past the
// bound the client is cut off instead, and its reconnect starts from the current state.

export interface SendQueueOptions {
  /** Messages handed to the socket whose write has not completed yet. @default 32 */
  readonly maxInFlight?: number;
  /** Messages allowed to wait. */
  readonly maxQueued: number;
  /** Writes one message; calls `done` once it has left (or failed to). */
  readonly write: (text: string, done: () => void) => void;
  /** The queue is full: the caller closes the connection. */
  readonly onOverflow: (queued: number) => void;
  /** A waiting state was replaced by a newer one. */
  readonly onConflate?: () => void;
}

export interface SendQueue {
  /** Sends or queues `text`; a later push with the same key replaces it while it waits. */
  push(key: string, text: string): void;
  /** Drops the waiting messages whose key starts with `prefix` (an ended subscription). */
  drop(prefix: string): void;
  /** Messages waiting (not in flight). */
  size(): number;
  clear(): void;
}

export function createSendQueue(opts: SendQueueOptions): SendQueue {
  const maxInFlight = opts.maxInFlight ?? 32;
  const waiting = new Map<string, string>();
  let inFlight = 0;
  let overflowed = false;

  const send = (text: string) => {
    inFlight++;
    opts.write(text, () => {
      inFlight--;
      pump();
    });
  };
  const pump = () => {
    for (const [key, text] of waiting) {
      if (inFlight >= maxInFlight) return;
      waiting.delete(key);
      send(text);
    }
  };

  return {
    push(key, text) {
      if (overflowed) return;
      if (waiting.size === 0 && inFlight < maxInFlight) return send(text);
      if (waiting.has(key)) {
        waiting.set(key, text);
        opts.onConflate?.();
        return;
      }
      if (waiting.size >= opts.maxQueued) {
        overflowed = true;
        waiting.clear();
        return opts.onOverflow(opts.maxQueued);
      }
      waiting.set(key, text);
    },
    drop(prefix) {
      for (const key of waiting.keys()) if (key.startsWith(prefix)) waiting.delete(key);
    },
    size: () => waiting.size,
    clear: () => waiting.clear(),
  };
}
