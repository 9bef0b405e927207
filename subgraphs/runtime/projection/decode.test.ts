// Decode and validate: events, records passed over by their type header, contract violations.
import { encodeEvent } from '../../../schema/events';
import { eventRecord, placed, projection, record, statusChanged } from '../../../test/fixtures/projectionSteps';
import { createDecoder } from './decode';

const decode = createDecoder(projection);

it('decodes a valid record into its event', () => {
  const e = placed('o-1');
  expect(decode(eventRecord(7, e))).toMatchObject({ kind: 'event', offset: 7, event: e });
});

it('turns contract violations and key mismatches into poison with the reason', () => {
  expect(decode(record(1, Buffer.from('{not json'), 'o-1'))).toMatchObject({
    kind: 'poison',
    offset: 1,
    reason: expect.stringMatching(/^contract: record: expected a JSON event, found invalid JSON/),
  });
  expect(decode(record(2, null, 'o-1'))).toMatchObject({ kind: 'poison', reason: expect.stringMatching(/^contract: .*empty value/) });
  expect(decode(record(3, encodeEvent(placed('o-1')), 'o-2'))).toEqual(
    expect.objectContaining({ kind: 'poison', reason: 'record key "o-2" differs from event key "o-1"' }),
  );
  expect(decode(record(4, encodeEvent(placed('o-1')), null))).toMatchObject({ reason: 'record key null differs from event key "o-1"' });
});

it('passes over the types a fold ignores by their header, unparsed, and parses records without the header', () => {
  const placedOnly = createDecoder({ ...projection, types: ['OrderPlaced'] });
  expect(placedOnly(record(5, Buffer.from('{not json'), 'o-1', { 'event-type': 'OrderStatusChanged' }))).toMatchObject({ kind: 'skip', offset: 5 });
  expect(placedOnly(eventRecord(6, statusChanged('o-1')))).toMatchObject({ kind: 'skip' });
  expect(placedOnly(eventRecord(7, placed('o-1')))).toMatchObject({ kind: 'event' });
  expect(placedOnly(record(8, Buffer.from('{not json'), 'o-1'))).toMatchObject({ kind: 'poison' });
  // Without a types list every record is parsed, whatever its header says.
  expect(decode(record(9, Buffer.from('{not json'), 'o-1', { 'event-type': 'OrderStatusChanged' }))).toMatchObject({ kind: 'poison' });
});
