// How a consumer of ours gathers records into batches without polling a quiet topic.
//
// Kafka answers a fetch once it holds `minBytes` for it or `maxWait` has passed, and both are
// fixed per consumer. Asking for a large minimum with a short wait batches a busy topic but makes
// a quiet one cost a fetch every few milliseconds for nothing (the profiles of
// docs/performance.md: every view of every subgraph polled 50 times a second, most of them with
// nothing to read); asking for one byte makes every record that arrives alone cost its own fetch,
// Redis round trips and notice. So the fetch asks for one byte with a long wait (a quiet consumer
// asks once per `idleWaitMs`, and the first record after a quiet spell is answered at once), and
// the gathering happens here instead: after a batch smaller than `minBytes` the partition's next
// fetch is held until `gatherMs` have passed since this batch came, so whatever arrives meanwhile
// comes in one batch. A big batch (catching up) is followed by the next fetch at once.
import type { EachBatchHandler, EachBatchPayload } from 'kafkajs';

export interface Pacing {
  /** A batch of at least this many bytes (keys and values) is followed by the next fetch at once. */
  readonly minBytes: number;
  /** How long after a smaller batch came the partition's next fetch waits. */
  readonly gatherMs: number;
  /** How to wait. @default setTimeout */
  readonly wait?: (ms: number) => Promise<void>;
  /** The clock. @default Date.now */
  readonly now?: () => number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The bytes a batch carried, as far as gathering is concerned. */
export function batchBytes(batch: EachBatchPayload['batch']): number {
  let bytes = 0;
  for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
  return bytes;
}

/** `handler`, followed by the gathering pause after a small batch (not after one that stopped running). */
export function pacedEachBatch(handler: EachBatchHandler, pacing: Pacing): EachBatchHandler {
  const wait = pacing.wait ?? sleep;
  const now = pacing.now ?? Date.now;
  return async (payload) => {
    const came = now();
    await handler(payload);
    if (pacing.gatherMs <= 0 || batchBytes(payload.batch) >= pacing.minBytes) return;
    // The handler's own time counts as gathering: a slow apply is not followed by a full pause.
    const rest = pacing.gatherMs - (now() - came);
    if (rest > 0 && payload.isRunning() && !payload.isStale()) await wait(rest);
  };
}
