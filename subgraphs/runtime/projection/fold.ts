// Step 2, fold: the entities a chunk's events read, and the chunk folded over their states.
// An event the fold refuses (it throws an Error) is poison and goes to the dead letters, as
// folds are deterministic and would refuse it again; a fold that is broken (a TypeError and the
// like, or a change to an entity `reads` did not name) stops the view instead. Pure.
import type { TopicContract } from '../../../schema/events';
import { REASON_PREFIXES } from '../deadLetterHeaders';
import { formatPosition } from '../deadLetters';
import type { EventPosition, Projection } from '../projection';
import type { Decoded, Poison } from './decode';
import { isProgrammingError, ProjectionBugError, UnrecoverableViewError } from './errors';

export interface FoldContext<C extends TopicContract, S> {
  readonly projection: Projection<C, S>;
  readonly topic: string;
  readonly partition: number;
}

type Where = Pick<FoldContext<TopicContract, unknown>, 'topic' | 'partition'> & { readonly projection: { readonly name: string } };

/** The error that stops the view when its fold (or `reads`) is broken at `offset`. */
function broken(ctx: Where, offset: number, what: string): ProjectionBugError {
  const where = formatPosition({ topic: ctx.topic, partition: ctx.partition, offset });
  return new ProjectionBugError(
    `the fold of view ${ctx.projection.name} is broken: ${what} at ${where}; ` +
      'the view stopped there (nothing was dead-lettered or skipped): fix the fold and restart',
  );
}

/** The reason to dead-letter an event the fold (or `reads`) threw on; a programming error is thrown as a bug instead. */
function refusal(ctx: Where, step: 'apply' | 'reads', offset: number, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (isProgrammingError(e)) throw broken(ctx, offset, `${step}() threw ${(e as Error).name}: ${message}`);
  return `${REASON_PREFIXES.fold}${message}`;
}

export interface EntitiesRead<C extends TopicContract> {
  /** Every entity id the chunk's events read, once. */
  readonly ids: readonly string[];
  /** The records, with those whose `reads` refused them turned into poison. */
  readonly records: readonly Decoded<C>[];
  /** The ids each event (by offset) reads: the entities its fold may change. */
  readonly readsOf: ReadonlyMap<number, readonly string[]>;
}

export function entitiesRead<C extends TopicContract, S>(ctx: FoldContext<C, S>, records: readonly Decoded<C>[]): EntitiesRead<C> {
  const ids = new Set<string>();
  const readsOf = new Map<number, readonly string[]>();
  const out = records.map((r): Decoded<C> => {
    if (r.kind !== 'event') return r;
    try {
      const read = ctx.projection.reads(r.event);
      readsOf.set(r.offset, read);
      for (const id of read) ids.add(id);
      return r;
    } catch (e) {
      return { kind: 'poison', offset: r.offset, message: r.message, reason: refusal(ctx, 'reads', r.offset, e) };
    }
  });
  return { ids: [...ids], records: out, readsOf };
}

/** Entity states as Redis returned them (JSON, or null for none), by id. */
export function parseSnapshot<S>(view: string, ids: readonly string[], values: readonly (string | null)[]): Map<string, S | undefined> {
  const snapshot = new Map<string, S | undefined>();
  ids.forEach((id, i) => {
    const raw = values[i];
    try {
      snapshot.set(id, raw === null || raw === undefined ? undefined : (JSON.parse(raw) as S));
    } catch (e) {
      throw new UnrecoverableViewError(`view ${view}: the stored state of ${id} is not JSON (${(e as Error).message}); rebuild the view`);
    }
  });
  return snapshot;
}

export interface FoldResult<C extends TopicContract, S> {
  /** The states the chunk was folded from. */
  readonly before: ReadonlyMap<string, S | undefined>;
  /** The states after the chunk. */
  readonly after: ReadonlyMap<string, S | undefined>;
  /** Each changed entity with the offset of the last event that changed it. */
  readonly changedBy: ReadonlyMap<string, number>;
  /**
   * Each entity a traced event changed, with the offset of the last traced event that did (only
   * when `traced` was given): its change notice continues that trace, also when an untraced event
   * changed it later in the chunk.
   */
  readonly tracedBy: ReadonlyMap<string, number>;
  readonly poison: readonly Poison<C>[];
  /** occurredAt of the last event folded; null when none was. */
  readonly lastEventAt: string | null;
  /** Events folded (not poison, not passed over). */
  readonly applied: number;
  /** Events the projection said it already held (re-sent by an at-least-once source): skipped. */
  readonly resent: number;
}

/** Folds `records` (those after the checkpoint) over `before`; `traced`: the offsets of traced records. */
export function foldChunk<C extends TopicContract, S>(
  ctx: FoldContext<C, S>,
  read: EntitiesRead<C>,
  before: ReadonlyMap<string, S | undefined>,
  records: readonly Decoded<C>[],
  traced?: ReadonlySet<number>,
): FoldResult<C, S> {
  const after = new Map(before);
  const changedBy = new Map<string, number>();
  const tracedBy = new Map<string, number>();
  const poison: Poison<C>[] = [];
  let lastEventAt: string | null = null;
  let applied = 0;
  let resent = 0;
  for (const r of records) {
    if (r.kind === 'skip') continue;
    if (r.kind === 'poison') {
      poison.push(r);
      continue;
    }
    const at: EventPosition = { partition: ctx.partition, offset: r.offset, occurredAt: r.event.occurredAt };
    if (ctx.projection.alreadyApplied?.(after, r.event)) {
      resent++;
      continue;
    }
    let changes: ReadonlyMap<string, S | undefined>;
    try {
      changes = ctx.projection.apply(after, r.event, at);
    } catch (e) {
      poison.push({ kind: 'poison', offset: r.offset, message: r.message, reason: refusal(ctx, 'apply', r.offset, e) });
      continue;
    }
    if (typeof (changes as Map<string, S> | undefined)?.entries !== 'function') throw broken(ctx, r.offset, 'apply() returned no Map');
    const allowed = new Set(read.readsOf.get(r.offset) ?? []);
    for (const id of changes.keys())
      if (!allowed.has(id)) throw broken(ctx, r.offset, `apply() changed entity ${id}, which reads() did not name`);
    const isTraced = traced?.has(r.offset) === true;
    for (const [id, s] of changes) {
      after.set(id, s);
      changedBy.set(id, r.offset);
      if (isTraced) tracedBy.set(id, r.offset);
    }
    lastEventAt = r.event.occurredAt;
    applied++;
  }
  return { before, after, changedBy, tracedBy, poison, lastEventAt, applied, resent };
}
