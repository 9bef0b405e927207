// Unit tests of the event contracts: parsing, validation messages, partitioning.
import { Partitioners } from 'kafkajs';
import { CATALOG_INVENTORY_TOPIC, ContractViolation, createEvent, encodeEvent, murmur2, ORDERS_TOPIC, parseEvent, partitionForKey } from './index';

const placed = () =>
  createEvent(ORDERS_TOPIC, 'OrderPlaced', {
    orderId: 'o-1',
    customerId: 'c-1',
    storeId: 's-1',
    items: [{ productId: 'p-1', quantity: 2, unitPriceCents: 250 }],
    totalCents: 500,
  });

function violation(fn: () => unknown): ContractViolation {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return e as ContractViolation;
  }
  throw new Error('expected a ContractViolation');
}

describe('parseEvent', () => {
  it('round-trips a valid event with its type narrowed', () => {
    const e = parseEvent(ORDERS_TOPIC, encodeEvent(placed()));
    expect(e.type).toBe('OrderPlaced');
    if (e.type === 'OrderPlaced') expect(e.payload.items[0].quantity).toBe(2);
    expect(e.key).toBe('o-1');
  });

  it('rejects bytes that are not JSON', () => {
    const v = violation(() => parseEvent(ORDERS_TOPIC, Buffer.from('{nope')));
    expect(v.message).toMatch(/^record: expected a JSON event, found invalid JSON/);
  });

  it('rejects an empty record (a tombstone)', () => {
    expect(violation(() => parseEvent(ORDERS_TOPIC, null)).path).toBe('record');
  });

  it('rejects an unknown type and names the known ones', () => {
    const raw = { ...placed(), type: 'OrderTeleported' };
    const v = violation(() => parseEvent(ORDERS_TOPIC, JSON.stringify(raw)));
    expect(v.path).toBe('event.type');
    expect(v.expected).toBe('one of OrderPlaced, OrderStatusChanged, OrderEtaUpdated');
    expect(v.found).toBe('the string "OrderTeleported"');
  });

  it('names the nested field, the expectation and the value found', () => {
    const e = placed();
    const raw = { ...e, payload: { ...e.payload, items: [{ productId: 'p-1', quantity: -1, unitPriceCents: 1 }] } };
    const v = violation(() => parseEvent(ORDERS_TOPIC, JSON.stringify(raw)));
    expect(v.message).toBe('event.payload.items[0].quantity: expected an integer from 1 to 1000, found the number -1');
  });

  it('rejects unknown fields, wrong versions and a key that is not the payload key', () => {
    const e = placed();
    expect(violation(() => parseEvent(ORDERS_TOPIC, JSON.stringify({ ...e, payload: { ...e.payload, extra: 1 } }))).path).toBe(
      'event.payload.extra',
    );
    expect(violation(() => parseEvent(ORDERS_TOPIC, JSON.stringify({ ...e, version: 9 }))).path).toBe('event.version');
    expect(violation(() => parseEvent(ORDERS_TOPIC, JSON.stringify({ ...e, key: 'o-2' }))).path).toBe('event.key');
    expect(violation(() => parseEvent(ORDERS_TOPIC, JSON.stringify({ ...e, occurredAt: 'yesterday' }))).path).toBe(
      'event.occurredAt',
    );
  });

  it('refuses text with a lone UTF-16 surrogate (JSON.parse accepts "\\ud800"), naming the field', () => {
    const e = placed();
    const raw = `{"eventId":"e-1","type":"OrderPlaced","version":1,"occurredAt":"${e.occurredAt}","key":"o-1","payload":{"orderId":"o-1","customerId":"c-\\ud800","storeId":"s-1","items":[{"productId":"p-1","quantity":1,"unitPriceCents":1}],"totalCents":1}}`;
    const v = violation(() => parseEvent(ORDERS_TOPIC, raw));
    expect(v.message).toBe('event.payload.customerId: expected well-formed text, found a lone UTF-16 surrogate at character 2');
    const low = violation(() => createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: 's-1', name: 'Corner \udc00' }));
    expect(low.path).toBe('event.payload.name');
    // A proper pair (an emoji) is text.
    expect(createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId: 's-1', name: 'Corner \ud83c\udf4e' }).payload.name).toBe('Corner 🍎');
  });

  it('refuses to create an event that breaks its contract', () => {
    expect(() =>
      createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId: 's', productId: 'p', quantity: 1.5 }),
    ).toThrow(ContractViolation);
  });
});

describe('partitionForKey', () => {
  it("matches Kafka's murmur2 test vectors", () => {
    // From org.apache.kafka.common.utils.UtilsTest#testMurmur2
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [s, h] of cases) expect(murmur2(Buffer.from(s))).toBe(h);
  });

  it("agrees with kafkajs' default (Java-compatible) partitioner", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 6 }, (_, i) => ({
      partitionId: i,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    for (let i = 0; i < 500; i++) {
      const key = `order-${i}-${i * 7919}`;
      const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: 'x' } });
      expect(partitionForKey(key, 6)).toBe(expected);
    }
  });
});
