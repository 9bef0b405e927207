// Unit tests of the edge: batch bodies (JSON array, NDJSON), the contract check of one client
// event with the token's customer id, and what a batch costs against the rate limits.
import { CLIENT_EVENTS_TOPIC, partitionForKey } from '../../schema/events';
import { parseBatchBody } from './batchBody';
import { checkClientEvent } from './edgeContract';
import { edgeDeadLetter } from './edgeDeadLetters';
import { chargesOf } from './eventIngest';

const at = '2026-03-01T10:00:00.000Z';
const base = { deviceId: 'dev-1', clientTimestamp: '2026-03-01T09:59:58.120Z', app: 'ios', appVersion: '4.2.0' };

describe('batch bodies', () => {
  it('reads a JSON array and NDJSON, a broken NDJSON line being one unreadable item', () => {
    expect(parseBatchBody('[{"a":1},{"b":2}]', 10)).toEqual({ items: [{ value: { a: 1 }, bytes: '{"a":1}' }, { value: { b: 2 }, bytes: '{"b":2}' }] });
    const nd = parseBatchBody('{"a":1}\r\n\n{oops\n{"b":2}\n', 10);
    expect('items' in nd && nd.items.map((i) => ('value' in i ? i.value : 'unreadable'))).toEqual([{ a: 1 }, 'unreadable', { b: 2 }]);
    expect(parseBatchBody('  ', 10)).toEqual({ items: [] });
  });

  it('refuses more than the maximum, and an array that is not JSON', () => {
    expect(parseBatchBody('[1,2,3]', 2)).toMatchObject({ tooMany: true, refused: expect.stringContaining('EVENTS_MAX_BATCH') });
    expect(parseBatchBody('1\n2\n3\n', 2)).toMatchObject({ tooMany: true });
    expect(parseBatchBody('[1,', 2)).toMatchObject({ refused: expect.stringContaining('not JSON') });
  });
});

describe('the contract at the edge', () => {
  it('turns a valid event into the topic\'s envelope keyed by the device when anonymous', () => {
    const r = checkClientEvent({ type: 'search', ...base, query: 'oat milk' }, { customerId: null }, at, 'e1');
    expect(r).toMatchObject({ ok: true, event: { type: 'Searched', key: 'device:dev-1', occurredAt: at, payload: { ...base, query: 'oat milk', actor: 'device:dev-1' } } });
  });

  it('takes the customer id from the token, never from the body', () => {
    const r = checkClientEvent({ type: 'product_view', ...base, productId: 'p1', customerId: 'someone-else', actor: 'customer:someone-else' }, { customerId: 'ada' }, at, 'e1');
    expect(r).toMatchObject({ ok: true, event: { key: 'customer:ada', payload: { customerId: 'ada', actor: 'customer:ada' } } });
    const anon = checkClientEvent({ type: 'app_open', ...base, customerId: 'ada' }, { customerId: null }, at, 'e2');
    expect(anon).toMatchObject({ ok: true, event: { key: 'device:dev-1' } });
    expect(anon.ok && 'customerId' in anon.event.payload).toBe(false);
  });

  it('refuses with the field, what was expected, and the app version', () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'search', ...base, query: '' }, 'query: expected a string of 1 to 200 characters'],
      [{ type: 'add_to_cart', ...base, productId: 'p1', quantity: 0 }, 'quantity: expected an integer from 1 to 99'],
      [{ type: 'add_to_cart', ...base, productId: 'p1' }, 'quantity: expected an integer'],
      [{ type: 'product_view', ...base, productId: 'p1', colour: 'red' }, 'colour: expected no such field'],
      [{ type: 'product_view', ...base, clientTimestamp: 'yesterday', productId: 'p1' }, 'clientTimestamp: expected an ISO-8601 time'],
      [{ type: 'teleport', ...base }, 'type: expected one of app_open, search, product_view, add_to_cart, remove_from_cart, found "teleport"'],
      [{ type: 'app_open', ...base, deviceId: 'x'.repeat(129) }, 'deviceId: expected a string of 1 to 128 characters'],
    ];
    for (const [value, reason] of cases) {
      const r = checkClientEvent(value, { customerId: null }, at, 'e');
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toContain(reason);
        expect(r.appVersion).toBe('4.2.0');
      }
    }
    expect(checkClientEvent([1], { customerId: null }, at, 'e')).toMatchObject({ ok: false, reason: 'event: expected an object', appVersion: null });
    // Client-controlled text is cut before it reaches an answer or a header.
    const long = checkClientEvent({ type: 'app_open', ...base, appVersion: 'v'.repeat(5000), ['k'.repeat(5000)]: 1 }, { customerId: null }, at, 'e');
    expect(!long.ok && long.reason.length <= 300 && (long.appVersion ?? '').length <= 64).toBe(true);
  });

  it('dead-letters a refusal with the runtime\'s headers, its reason and its release', () => {
    const m = edgeDeadLetter('client-events', { bytes: '{"type":"x"}', reason: 'type: expected ...', key: 'device:dev-1', app: 'ios', appVersion: '4.2.0' }, new Date(at), 'req-1', 3);
    expect(m.headers).toMatchObject({
      'dlq-reason': 'contract: [ios 4.2.0] type: expected ...',
      'dlq-edge': 'gateway',
      'dlq-source-topic': 'client-events',
      'dlq-source-partition': String(partitionForKey('device:dev-1', CLIENT_EVENTS_TOPIC.partitions)),
      'dlq-source-key': 'device:dev-1',
      'dlq-app-version': '4.2.0',
      'dlq-view': 'gateway.events',
    });
    expect(m.key).toBe('client-events:edge:req-1:3');
  });
});

it('charges each device, the customer and the address for a batch', () => {
  const items = [{ value: { deviceId: 'a' }, bytes: '' }, { value: { deviceId: 'a' }, bytes: '' }, { value: { deviceId: 'b' }, bytes: '' }, { unreadable: 'x', bytes: '' }];
  const settings = { ratePerMinute: 10, addressRatePerMinute: 100 };
  expect(chargesOf(items, { customerId: 'ada' }, '10.0.0.1', settings)).toEqual([
    { kind: 'device', id: 'a', events: 2, limit: 10 },
    { kind: 'device', id: 'b', events: 1, limit: 10 },
    { kind: 'customer', id: 'ada', events: 4, limit: 10 },
    { kind: 'address', id: '10.0.0.1', events: 4, limit: 100 },
  ]);
  expect(chargesOf([], { customerId: null }, '10.0.0.1', settings)).toEqual([]);
});
