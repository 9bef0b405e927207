// A fetched partition batch, chunk by chunk through the chunk step. A chunk that fails is
// retried (never skipped) with the view's backoff until the bound; a chunk whose fetch began
// past the view's checkpoint ends the batch with a seek back.
import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from '../../../platform/logger';
import type { ChunkApplier } from './applyChunk';
import { withRetries } from './retry';
import type { ViewHealth } from './viewHealth';

const APPLY_STEP = 'applying partition ';
/** The name of the step that applies one partition (in logs and the failed state's reason). */
export const applyStep = (partition: number) => `${APPLY_STEP}${partition}`;
/** Whether a step's failures still count once `assigned` are this instance's partitions. */
export const stillOurs = (step: string, assigned: readonly number[]) =>
  !step.startsWith(APPLY_STEP) || assigned.includes(Number(step.slice(APPLY_STEP.length)));

export interface BatchLoopOptions {
  readonly apply: ChunkApplier;
  /** Records folded and written per atomic step. */
  readonly maxChunk: number;
  readonly health: ViewHealth;
  readonly log: Logger;
  /** Moves the partition's fetch position. */
  readonly seek: (partition: number, offset: number) => void;
  /** How to wait between attempts. @default setTimeout */
  readonly wait?: (ms: number) => Promise<void>;
}

export function batchLoop(opts: BatchLoopOptions) {
  const { health, log } = opts;
  return async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    const partition = batch.partition;
    // kafkajs records where the fetch began but leaves it out of its types.
    let startsAt = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
    const wanted = () => isRunning() && !isStale();
    for (let i = 0; i < batch.messages.length; i += opts.maxChunk) {
      const chunk = batch.messages.slice(i, i + opts.maxChunk);
      const outcome = await withRetries({ health, log, wanted, wait: opts.wait }, applyStep(partition), () => opts.apply(partition, startsAt, chunk));
      if (outcome === undefined) return;
      if (outcome.kind === 'seek') {
        log.info({ partition, from: startsAt, to: outcome.to }, 'view is behind the fetch position; seeking back');
        opts.seek(partition, outcome.to);
        return;
      }
      resolveOffset(String(outcome.last));
      startsAt = outcome.last + 1;
      await heartbeat();
    }
  };
}
