// The CDC contract of the catalog's products topic against Debezium's records: snapshot,
// insert, update, delete and tombstone, and the row images that do not match the contract.
import { CATALOG_PRODUCTS_CDC_TOPIC, ContractViolation, debeziumRecord, parseRecord } from './index';

const row = { id: 'p1', name: 'Pear', brand: null, category: 'fruit', price_cents: 120, updated_at: '2026-12-01T08:00:00.123456Z' };
const parse = (r: { key: Buffer | null; value: Buffer | null }) => parseRecord(CATALOG_PRODUCTS_CDC_TOPIC, r.key, r.value);

describe('the catalog products CDC contract', () => {
  it('turns snapshot reads, inserts and updates into ProductRowUpserted with the source position', () => {
    for (const op of ['r', 'c', 'u'] as const) {
      const e = parse(debeziumRecord({ key: { id: 'p1' }, op, after: row, lsn: 4242, txId: 7, tsMs: Date.parse('2026-12-01T08:00:01Z') }))!;
      expect(e.type).toBe('ProductRowUpserted');
      expect(e.key).toBe('{"id":"p1"}');
      expect(e.occurredAt).toBe('2026-12-01T08:00:01.000Z');
      expect(e.payload).toMatchObject({ id: 'p1', op, lsn: 4242, txId: 7, row });
    }
  });

  it('turns a delete into ProductRowDeleted and its tombstone into nothing to fold', () => {
    const e = parse(debeziumRecord({ key: { id: 'p1' }, op: 'd', before: row, lsn: 5000 }))!;
    expect(e.type).toBe('ProductRowDeleted');
    expect(e.payload).toMatchObject({ id: 'p1', op: 'd', lsn: 5000 });
    expect(parse({ key: Buffer.from('{"id":"p1"}'), value: null })).toBeNull();
  });

  it('ignores a column the contract does not read (an added column breaks no reader)', () => {
    const e = parse(debeziumRecord({ key: { id: 'p1' }, op: 'u', after: { ...row, origin: 'ES' }, lsn: 1 }))!;
    expect(e.type === 'ProductRowUpserted' && e.payload.row).toEqual(row);
  });

  it('refuses a changed type, a dropped or renamed column, naming the column and the source position', () => {
    const bad = (after: Record<string, unknown>) => () => parse(debeziumRecord({ key: { id: 'p1' }, op: 'u', after, lsn: 777, txId: 9 }));
    expect(bad({ ...row, price_cents: '1.20' })).toThrow(ContractViolation);
    expect(bad({ ...row, price_cents: '1.20' })).toThrow(/after\.price_cents: expected an integer, found the string "1\.20" \(u at catalog\.products lsn 777 txId 9\)/);
    const { brand: _b, ...noBrand } = row;
    expect(bad(noBrand)).toThrow(/after\.brand: expected the column \(dropped or renamed\?\), found no such column/);
    const { name, ...renamed } = row;
    expect(bad({ ...renamed, title: name })).toThrow(/after\.name: expected the column/);
  });

  it('refuses what is not a Debezium change', () => {
    expect(() => parse({ key: Buffer.from('{"id":"p1"}'), value: Buffer.from('{"op":"x"}') })).toThrow(/change\.op/);
    expect(() => parse({ key: null, value: Buffer.from('{}') })).toThrow(/record\.key/);
    expect(() => parse({ key: Buffer.from('{"id":"p1"}'), value: Buffer.from('nope') })).toThrow(/invalid JSON/);
  });
});
