// Fold and operations, pure: the entities read, refused events as poison, broken folds as bugs,
// and the key operations and notices of a folded chunk.
import { eventRecord, placed, projection, record, statusChanged } from '../../../test/fixtures/projectionSteps';
import { partitionKeys } from '../keys';
import type { OrderState } from '../../../test/fixtures/orderViews';
import { createDecoder } from './decode';
import { ProjectionBugError, UnrecoverableViewError } from './errors';
import { entitiesRead, foldChunk, parseSnapshot, type FoldContext } from './fold';
import { chunkOperations, noticeMessages } from './operations';

type P = typeof projection;
const ctx = (p: P): FoldContext<P['topic'], OrderState> => ({ projection: p, topic: 'orders', partition: 2 });
const keys = partitionKeys('orders-test', 'g0', 'orders', 2);

function fold(p: P, records: ReturnType<typeof eventRecord>[], before = new Map<string, OrderState | undefined>()) {
  const c = ctx(p);
  const read = entitiesRead(c, records.map(createDecoder(p)));
  return { read, folded: foldChunk(c, read, before, read.records) };
}

it('folds events over the states read, dead-letters the events the fold refuses, and passes poison through', () => {
  const poison = record(12, Buffer.from('{not json'), 'o-9');
  const last = statusChanged('o-1');
  const { read, folded } = fold(projection, [eventRecord(10, placed('o-1')), eventRecord(11, statusChanged('o-2')), poison, eventRecord(13, last)]);
  expect(read.ids).toEqual(['o-1', 'o-2']);
  expect(folded.applied).toBe(2);
  expect(folded.poison.map((p) => [p.offset, p.reason])).toEqual([
    [11, 'fold: status change for unknown order o-2'],
    [12, expect.stringMatching(/^contract: /)],
  ]);
  expect(folded.after.get('o-1')).toMatchObject({ status: 'PICKING', version: 2, lastOffset: 13 });
  expect([...folded.changedBy]).toEqual([['o-1', 13]]);
  expect(folded.lastEventAt).toBe(last.occurredAt);
});

it('names, for each entity a traced event changed, the last traced event that did, also when an untraced one changed it after', () => {
  const c = ctx(projection);
  const read = entitiesRead(c, [eventRecord(10, placed('o-1')), eventRecord(11, placed('o-2')), eventRecord(12, statusChanged('o-1'))].map(createDecoder(projection)));
  const folded = foldChunk(c, read, new Map(), read.records, new Set([10]));
  expect([...folded.changedBy]).toEqual([['o-1', 12], ['o-2', 11]]);
  expect([...folded.tracedBy]).toEqual([['o-1', 10]]);
  expect([...foldChunk(c, read, new Map(), read.records).tracedBy]).toEqual([]);
});

it('stops on a fold that is broken instead of dead-lettering: a TypeError, or a change reads() did not name', () => {
  const typeError: P = { ...projection, apply: () => (undefined as unknown as { x: { y: number } }).x.y as never };
  expect(() => fold(typeError, [eventRecord(10, placed('o-1'))])).toThrow(ProjectionBugError);
  expect(() => fold(typeError, [eventRecord(10, placed('o-1'))])).toThrow(
    /^the fold of view orders-test is broken: apply\(\) threw TypeError: Cannot read properties of undefined \(reading 'x'\) at orders\[2\]@10; the view stopped there/,
  );
  const outOfBounds: P = { ...projection, apply: () => new Map([['o-other', undefined]]) };
  expect(() => fold(outOfBounds, [eventRecord(10, placed('o-1'))])).toThrow(/apply\(\) changed entity o-other, which reads\(\) did not name at orders\[2\]@10/);
  const brokenReads: P = { ...projection, reads: () => null as unknown as string[] };
  expect(() => fold(brokenReads, [eventRecord(10, placed('o-1'))])).toThrow(/reads\(\) threw TypeError/);
  // reads() refusing an event (a plain Error) dead-letters it, like the fold.
  const refusingReads: P = { ...projection, reads: () => { throw new Error('no such order'); } };
  expect(fold(refusingReads, [eventRecord(10, placed('o-1'))]).folded.poison.map((p) => p.reason)).toEqual(['fold: no such order']);
});

it('reads stored states, and refuses to go on from one that is not JSON', () => {
  expect(parseSnapshot('v', ['a', 'b'], ['{"n":1}', null])).toEqual(new Map([['a', { n: 1 }], ['b', undefined]]));
  expect(() => parseSnapshot('v', ['a'], ['{broken'])).toThrow(UnrecoverableViewError);
});

it('turns changes into set, delete and index operations, with one notice per changed entity', () => {
  const before = new Map([['o-2', { customerId: 'c-1', status: 'PLACED', version: 1, totalCents: 1, items: 1, placedAt: '2026-01-01T00:00:00.000Z', lastOffset: 1 }]]);
  const deleting: P = { ...projection, apply: (view, e, at) => (e.type === 'OrderStatusChanged' ? new Map([[e.payload.orderId, undefined]]) : projection.apply(view, e, at)) };
  const { folded } = fold(deleting, [eventRecord(10, placed('o-1')), eventRecord(11, statusChanged('o-2')), eventRecord(12, placed('o-2'))], before);
  const { ops, notices } = chunkOperations(deleting, keys, folded);
  const o1 = JSON.stringify(folded.after.get('o-1'));
  const o2 = JSON.stringify(folded.after.get('o-2'));
  expect(ops).toEqual([
    { op: 'set', key: keys.entity('o-1'), value: o1 },
    { op: 'zadd', key: keys.index('customer:c-1'), score: Date.parse(folded.after.get('o-1')!.placedAt), member: 'o-1' },
    { op: 'set', key: keys.entity('o-2'), value: o2 },
    { op: 'zadd', key: keys.index('customer:c-1'), score: Date.parse(folded.after.get('o-2')!.placedAt), member: 'o-2' },
  ]);
  expect(notices.map((n) => JSON.parse(n))).toEqual([
    { id: 'o-1', offset: 10, state: JSON.parse(o1) },
    { id: 'o-2', offset: 12, state: JSON.parse(o2) },
  ]);
  expect(JSON.parse(noticeMessages('v', 'g0', 2, notices)[0])).toEqual({ view: 'v', gen: 'g0', partition: 2, changes: notices.map((n) => JSON.parse(n)) });
  expect(noticeMessages('v', 'g0', 2, [])).toEqual([]);
});

it('writes nothing for an entity whose state did not change, deletes and unindexes a removed one', () => {
  const state = { customerId: 'c-1', status: 'PLACED', version: 1, totalCents: 1, items: 1, placedAt: '2026-01-01T00:00:00.000Z', lastOffset: 1 };
  const before = new Map([['a', state], ['b', state]]);
  const after = new Map<string, typeof state | undefined>([['a', { ...state }], ['b', undefined]]);
  const quiet: P = { ...projection, notify: false };
  expect(chunkOperations(quiet, keys, { before, after, changedBy: new Map([['a', 1], ['b', 2]]) })).toEqual({
    ops: [
      { op: 'del', key: keys.entity('b') },
      { op: 'zrem', key: keys.index('customer:c-1'), member: 'b' },
    ],
    notices: [],
  });
  const bigint = new Map([['a', { n: 1n } as never]]);
  expect(() => chunkOperations(projection, keys, { before: new Map(), after: bigint, changedBy: new Map([['a', 1]]) })).toThrow(
    /the fold of view orders-test is broken: the state of a does not serialize/,
  );
});

it('skips and counts the events the projection says it already holds (re-sent by an at-least-once source)', () => {
  // Re-sent: an OrderPlaced for an order the view already has.
  const resending: P = { ...projection, alreadyApplied: (view, e) => e.type === 'OrderPlaced' && view.get(e.payload.orderId) !== undefined };
  const first = fold(resending, [eventRecord(10, placed('o-1'))]);
  expect(first.folded).toMatchObject({ applied: 1, resent: 0 });
  const again = fold(resending, [eventRecord(11, placed('o-1')), eventRecord(12, statusChanged('o-1'))], new Map(first.folded.after));
  expect(again.folded).toMatchObject({ applied: 1, resent: 1 });
  expect(again.folded.after.get('o-1')).toMatchObject({ status: 'PICKING', version: 2 });
  expect([...again.folded.changedBy]).toEqual([['o-1', 12]]);
});
