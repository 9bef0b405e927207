// Step 3, operations: a folded chunk as the key operations of its atomic write (entity states
// set or deleted, index memberships kept in step) and its change notices. An entity whose JSON
// did not change is left alone. Pure.
import type { TopicContract } from '../../../schema/events';
import type { PartitionKeys } from '../keys';
import type { Projection } from '../projection';
import type { KeyOp } from './applyBatch';
import { ProjectionBugError } from './errors';
import type { FoldResult } from './fold';

export interface ChunkOperations {
  readonly ops: readonly KeyOp[];
  /** One JSON `{ id, offset, state }` per changed entity (none when the projection does not notify). */
  readonly notices: readonly string[];
}

function json(view: string, id: string, state: unknown): string | null {
  if (state === undefined) return null;
  try {
    return JSON.stringify(state);
  } catch (e) {
    throw new ProjectionBugError(`the fold of view ${view} is broken: the state of ${id} does not serialize (${(e as Error).message})`);
  }
}

export function chunkOperations<C extends TopicContract, S>(
  projection: Projection<C, S>,
  keys: PartitionKeys,
  folded: Pick<FoldResult<C, S>, 'before' | 'after' | 'changedBy'>,
): ChunkOperations {
  const ops: KeyOp[] = [];
  const notices: string[] = [];
  for (const [id, offset] of folded.changedBy) {
    const old = folded.before.get(id);
    const now = folded.after.get(id);
    const oldJson = json(projection.name, id, old);
    const nowJson = json(projection.name, id, now);
    if (oldJson === nowJson) continue;
    ops.push(nowJson === null ? { op: 'del', key: keys.entity(id) } : { op: 'set', key: keys.entity(id), value: nowJson });
    if (projection.indexes) {
      const was = new Map((old === undefined ? [] : projection.indexes(id, old)).map((x) => [x.index, x.score]));
      const is = new Map((now === undefined ? [] : projection.indexes(id, now)).map((x) => [x.index, x.score]));
      for (const [index] of was) if (!is.has(index)) ops.push({ op: 'zrem', key: keys.index(index), member: id });
      for (const [index, score] of is)
        if (was.get(index) !== score) ops.push({ op: 'zadd', key: keys.index(index), score, member: id });
    }
    if (projection.notify !== false) notices.push(`{"id":${JSON.stringify(id)},"offset":${offset},"state":${nowJson ?? 'null'}}`);
  }
  return { ops, notices };
}

/**
 * The notice messages of one chunk: one message with every change, so Redis and each subscriber
 * handle one publish instead of hundreds; none when nothing changed. `traces` (tracing on): the
 * W3C context of the apply of the last traced record that changed each entity, by entity id, so
 * a change's subscribers continue its trace.
 */
export function noticeMessages(view: string, gen: string, partition: number, notices: readonly string[], traces?: Record<string, string>): string[] {
  if (notices.length === 0) return [];
  const trace = traces ? `,"trace":${JSON.stringify(traces)}` : '';
  return [`{"view":${JSON.stringify(view)},"gen":${JSON.stringify(gen)},"partition":${partition}${trace},"changes":[${notices.join(',')}]}`];
}
