// Reading dead letters back and deciding replays, with plain records (no broker): what the
// runner writes parses back, bytes show readably, counts group by reason, and a replay
// publishes each source record once and only when no view applied it.
import {
  createDeadLetterTally,
  createReplayPlanner,
  deadLetterTopicFor,
  parseDeadLetter,
  reasonGroup,
  snippet,
  type DeadLetter,
  type DeadLetterRecord,
} from './deadLetters';
import { deadLetterHeaders, deadLetterKey } from './deadLetterHeaders';

/** A dead letter as the projection runtime writes it (its headers come back from Kafka as bytes). */
function record(opts: {
  offset: number;
  sourceOffset: number;
  reason: string;
  view?: string;
  value?: Buffer | null;
  key?: string;
}): DeadLetterRecord {
  const origin = {
    topic: 'orders',
    partition: 2,
    offset: opts.sourceOffset,
    key: opts.key === undefined ? null : Buffer.from(opts.key),
    view: opts.view ?? 'orders.orders',
    reason: opts.reason,
    at: new Date('2026-01-01T00:00:09.000Z'),
  };
  const headers = Object.entries(deadLetterHeaders(origin)).map(([k, v]) => [k, Buffer.from(v as string | Buffer)]);
  return {
    topic: 'orders.dlq',
    partition: 0,
    offset: opts.offset,
    timestamp: Date.parse('2026-01-01T00:00:10Z'),
    key: Buffer.from(deadLetterKey(origin)),
    value: opts.value === undefined ? Buffer.from('{"x":1}') : opts.value,
    headers: Object.fromEntries(headers),
  };
}

const deadLetter = (r: DeadLetterRecord): DeadLetter => {
  const e = parseDeadLetter(r);
  if (e.kind !== 'deadLetter') throw new Error(e.problem);
  return e;
};

describe('parseDeadLetter', () => {
  it('reads back where the record came from, why, and its original key and bytes', () => {
    const value = Buffer.from('{not json');
    expect(parseDeadLetter(record({ offset: 7, sourceOffset: 41, reason: 'contract: record: expected a JSON event, found invalid JSON', value, key: 'o-1' }))).toEqual({
      kind: 'deadLetter',
      position: { topic: 'orders.dlq', partition: 0, offset: 7 },
      source: { topic: 'orders', partition: 2, offset: 41 },
      sourceKey: Buffer.from('o-1'),
      value,
      reason: 'contract: record: expected a JSON event, found invalid JSON',
      view: 'orders.orders',
      deadLetteredAt: '2026-01-01T00:00:09.000Z',
    });
  });

  it('keeps a missing key and value as null', () => {
    const d = deadLetter(record({ offset: 0, sourceOffset: 1, reason: 'x', value: null }));
    expect(d.sourceKey).toBeNull();
    expect(d.value).toBeNull();
  });

  it('calls a record without its source headers malformed, naming the header', () => {
    const r = record({ offset: 3, sourceOffset: 1, reason: 'x' });
    const { 'dlq-source-offset': _gone, ...headers } = r.headers;
    expect(parseDeadLetter({ ...r, headers })).toMatchObject({ kind: 'malformed', problem: 'header dlq-source-offset is missing, not an offset' });
    expect(parseDeadLetter({ ...r, headers: { ...r.headers, 'dlq-source-partition': 'two' } })).toMatchObject({
      kind: 'malformed',
      problem: 'header dlq-source-partition is "two", not a partition number',
    });
    // Without dlq-at the broker's timestamp tells when.
    const { 'dlq-at': _at, ...noAt } = r.headers;
    expect(deadLetter({ ...r, headers: noAt }).deadLetteredAt).toBe('2026-01-01T00:00:10.000Z');
  });
});

describe('snippet', () => {
  it('shows text on one line with control characters escaped, cut with what was left out', () => {
    expect(snippet(Buffer.from('{"a":\n1}\u0001'))).toBe('{"a":\\n1}\\u0001');
    expect(snippet(Buffer.from('x'.repeat(250)), 200)).toBe(`${'x'.repeat(200)}… (+50 bytes)`);
    expect(snippet(null)).toBe('(no value)');
    expect(snippet(Buffer.alloc(0))).toBe('(empty value)');
  });

  it('shows bytes that are not UTF-8 as hex', () => {
    expect(snippet(Buffer.from([0xff, 0xfe, 0x00, 0x41]))).toBe('hex ff fe 00 41');
    expect(snippet(Buffer.alloc(100, 0xff), 30)).toBe(`hex ${Array(10).fill('ff').join(' ')}… (+90 bytes)`);
  });
});

describe('reasons and topics', () => {
  it('groups reasons by what failed, not by the value found', () => {
    expect(reasonGroup('contract: event.payload.totalCents: expected an integer, found the string "ten"')).toBe(
      'contract: event.payload.totalCents: expected an integer',
    );
    expect(reasonGroup('contract: event.type: expected one of OrderPlaced, OrderStatusChanged, found the string "X"')).toBe(
      'contract: event.type: expected one of OrderPlaced, OrderStatusChanged',
    );
    expect(reasonGroup('record key "o-y" differs from event key "o-x"')).toBe('record key differs from event key');
    expect(reasonGroup('fold: status change for unknown order o-1')).toBe('fold: status change for unknown order o-1');
  });

  it('names the dead-letter topic from a source or dead-letter topic, in the namespace', () => {
    expect(deadLetterTopicFor('orders')).toBe('orders.dlq');
    expect(deadLetterTopicFor('orders.dlq')).toBe('orders.dlq');
    expect(deadLetterTopicFor('orders', 'ns1.')).toBe('ns1.orders.dlq');
    expect(deadLetterTopicFor('ns1.orders.dlq', 'ns1.')).toBe('ns1.orders.dlq');
  });

  it('counts dead letters by partition, reason, view and source', () => {
    const tally = createDeadLetterTally();
    tally.add(parseDeadLetter(record({ offset: 0, sourceOffset: 1, reason: 'contract: a: expected b, found c' })));
    tally.add(parseDeadLetter(record({ offset: 1, sourceOffset: 1, reason: 'contract: a: expected b, found d', view: 'customers.orders360' })));
    tally.add(parseDeadLetter(record({ offset: 2, sourceOffset: 5, reason: 'fold: boom' })));
    const { 'dlq-source-topic': _t, ...broken } = record({ offset: 3, sourceOffset: 6, reason: 'x' }).headers;
    tally.add(parseDeadLetter({ ...record({ offset: 3, sourceOffset: 6, reason: 'x' }), headers: broken }));
    expect(tally.summary()).toEqual({
      total: 4,
      partitions: [{ partition: 0, count: 4, firstOffset: 0, lastOffset: 3 }],
      reasons: [
        { reason: 'contract: a: expected b', count: 2 },
        { reason: '(not a dead letter: header dlq-source-topic is missing)', count: 1 },
        { reason: 'fold: boom', count: 1 },
      ],
      views: [
        { view: 'orders.orders', count: 2 },
        { view: 'customers.orders360', count: 1 },
      ],
      sources: [{ topic: 'orders', partition: 2, count: 3 }],
      malformed: 1,
      oldest: '2026-01-01T00:00:09.000Z',
      newest: '2026-01-01T00:00:09.000Z',
    });
  });
});

describe('createReplayPlanner', () => {
  const both = () => ['orders.orders', 'customers.orders360'];

  it('replays each source record once, however many views dead-lettered it', () => {
    const planner = createReplayPlanner({ consumersOf: both });
    const a = parseDeadLetter(record({ offset: 0, sourceOffset: 9, reason: 'contract: x', view: 'orders.orders' }));
    const b = parseDeadLetter(record({ offset: 1, sourceOffset: 9, reason: 'contract: x', view: 'customers.orders360' }));
    // The first view's dead letter waits for the other view's: until then that view may have applied it.
    expect(planner.decide(a)).toEqual({ action: 'skip', why: 'partial' });
    expect(planner.decide(b)).toMatchObject({ action: 'replay', deadLetter: { position: { offset: 0 } } });
    expect(planner.decide(b)).toEqual({ action: 'skip', why: 'duplicate' });
    expect(planner.counts()).toEqual({ replayed: 1, duplicates: 2, notMatching: 0, malformed: 0, heldBack: 0 });
  });

  it('holds back a record that some view reading its topic did not dead-letter, unless told to include it', () => {
    const only = parseDeadLetter(record({ offset: 0, sourceOffset: 3, reason: 'fold: boom', view: 'orders.orders' }));
    const planner = createReplayPlanner({ consumersOf: both });
    expect(planner.decide(only)).toEqual({ action: 'skip', why: 'partial' });
    expect(planner.heldBack()).toEqual([{ deadLetter: only, failedIn: ['orders.orders'], notIn: ['customers.orders360'] }]);
    expect(planner.counts().heldBack).toBe(1);
    expect(createReplayPlanner({ consumersOf: both, includePartial: true }).decide(only).action).toBe('replay');
    // Views not known (a topic no listed view reads): nothing to hold back for.
    expect(createReplayPlanner({ consumersOf: () => undefined }).decide(only).action).toBe('replay');
  });

  it('replays only dead letters whose reason matches, ignoring case', () => {
    const planner = createReplayPlanner({ whereReason: 'FOLD' });
    expect(planner.decide(parseDeadLetter(record({ offset: 0, sourceOffset: 1, reason: 'contract: x' })))).toEqual({ action: 'skip', why: 'not-matching' });
    expect(planner.decide(parseDeadLetter(record({ offset: 1, sourceOffset: 2, reason: 'fold: boom' }))).action).toBe('replay');
    const r = record({ offset: 2, sourceOffset: 3, reason: 'x' });
    expect(planner.decide(parseDeadLetter({ ...r, headers: {} }))).toEqual({ action: 'skip', why: 'malformed' });
    expect(planner.counts()).toEqual({ replayed: 1, duplicates: 0, notMatching: 1, malformed: 1, heldBack: 0 });
  });
});
