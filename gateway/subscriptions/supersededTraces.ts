// The trace of a subscription event that a newer state of the same object superseded before it
// reached the clients. The newer state goes out instead and carries that event's change with it,
// so the delivery continues the superseded event's trace when it has none of its own (a traced
// placement followed at once by its untraced confirmation), and links to the others.
import { TRACEPARENT } from '../../platform/tracing';
import type { UpstreamResult } from './upstreamConnection';

/** An upstream event waiting to be resolved, with the trace contexts of the events it superseded. */
export interface PendingEvent {
  readonly result: UpstreamResult;
  readonly at: bigint;
  carried?: readonly string[];
}

/** Most superseded events' traces one delivery links to. */
const MAX_CARRIED_TRACES = 8;

/**
 * The traces `e` hands on to the event that supersedes it: those it carried and its own, oldest
 * first then `after` (what the successor carried already). Undefined when there are none (tracing off).
 */
export function tracesOf(e: PendingEvent, after?: readonly string[]): readonly string[] | undefined {
  const own = e.result.extensions?.[TRACEPARENT];
  if (typeof own !== 'string' && !e.carried && !after) return undefined;
  const all = [...(e.carried ?? []), ...(typeof own === 'string' ? [own] : []), ...(after ?? [])];
  return all.length === 0 ? undefined : all.slice(-MAX_CARRIED_TRACES);
}
