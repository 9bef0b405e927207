// Where a partition of a view resumes, from its checkpoint in Redis and the partition's log:
// Redis, not the broker, decides. Pure; the consumer lifecycle seeks there on assignment and
// the chunk step seeks back there when a fetch began past it.
import { UnrecoverableViewError } from './errors';

/** The first offset still on a partition's log, and the offset its next record will get. */
export interface LogBounds {
  readonly start: number;
  readonly end: number;
}

/** A checkpoint as stored (a decimal offset, or nothing before the first write). */
export function parseCheckpoint(view: string, partition: number, raw: string | null): number | null {
  if (raw === null) return null;
  if (!/^\d{1,16}$/.test(raw))
    throw new UnrecoverableViewError(`view ${view} partition ${partition}: the checkpoint in Redis is ${JSON.stringify(raw)}, not an offset; rebuild the view`);
  return Number(raw);
}

export type ResumePoint =
  /** Consume from `offset`. */
  | { readonly kind: 'at'; readonly offset: number }
  /**
   * The view is ahead of the log: the topic was deleted and recreated (or the broker's data
   * wiped) while Redis kept the view. Its state belongs to records that no longer exist: the
   * partition's part of the view is dropped and rebuilt from the log start.
   */
  | { readonly kind: 'ahead'; readonly checkpoint: number; readonly from: number };

/**
 * The offset after the checkpoint, or the log start without one. Throws UnrecoverableViewError
 * when records the view never applied are gone from the log (its checkpoint lies before the
 * log start): no replay can fill that hole, and seeking there would loop forever.
 */
export function resumePoint(view: string, partition: number, checkpoint: number | null, log: LogBounds): ResumePoint {
  if (checkpoint === null) return { kind: 'at', offset: log.start };
  if (checkpoint >= log.end) return { kind: 'ahead', checkpoint, from: log.start };
  if (checkpoint + 1 < log.start)
    throw new UnrecoverableViewError(
      `view ${view} partition ${partition} has a hole: it applied up to offset ${checkpoint} but the log now starts at ${log.start} ` +
        `(records ${checkpoint + 1} to ${log.start - 1} were deleted before the view applied them); rebuild the view from a topic that has them`,
    );
  return { kind: 'at', offset: checkpoint + 1 };
}
