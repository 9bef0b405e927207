// Unit tests of the catalog folds and index scores, with plain objects (no Kafka, no Redis).
import {
  CATALOG_INVENTORY_TOPIC,
  CATALOG_PRODUCTS_CDC_TOPIC,
  createEvent,
  debeziumRecord,
  parseRecord,
  type CatalogInventoryEvent,
  type CatalogProductsCdcEvent,
} from '../../schema/events';
import { foldAll, type EventPosition } from '../runtime/projection';
import {
  foldCase,
  inventoryProjection,
  levelEntityId,
  levelScore,
  LOW_STOCK_THRESHOLD,
  productScore,
  productsProjection,
  stockStatus,
  storeEntityId,
  trigrams,
  type InventoryEntity,
  type ProductState,
} from './projection';

const at = (offset: number, occurredAt = `2026-01-01T00:00:${String(offset).padStart(2, '0')}.000Z`): EventPosition => ({
  partition: 0,
  offset,
  occurredAt,
});

let nextLsn = 1000;
/** A product row change as Debezium writes it, parsed through the CDC contract. */
const product = (productId: string, name: string, extra: { brand?: string; category?: string; priceCents?: number; t?: number; lsn?: number; op?: 'r' | 'c' | 'u' } = {}) => {
  const row = { id: productId, name, brand: extra.brand ?? null, category: extra.category ?? 'Fruit', price_cents: extra.priceCents ?? 100, updated_at: '2026-01-01T00:00:00.000000Z' };
  const rec = debeziumRecord({ key: { id: productId }, op: extra.op ?? 'u', after: row, lsn: extra.lsn ?? nextLsn++, tsMs: Date.parse(at(extra.t ?? 0).occurredAt) });
  return parseRecord(CATALOG_PRODUCTS_CDC_TOPIC, rec.key, rec.value)!;
};
const deleted = (productId: string, lsn: number) => {
  const rec = debeziumRecord({ key: { id: productId }, op: 'd', before: { id: productId }, lsn });
  return parseRecord(CATALOG_PRODUCTS_CDC_TOPIC, rec.key, rec.value)!;
};
const store = (storeId: string, name: string) => createEvent(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', { storeId, name });
const report = (storeId: string, productId: string, quantity: number, t = 0) =>
  createEvent(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId, productId, quantity }, { occurredAt: at(t).occurredAt });

function applyProducts(view: Map<string, ProductState | undefined>, e: CatalogProductsCdcEvent, offset = 0) {
  const changes = productsProjection.apply(view, e, at(offset, e.occurredAt));
  for (const id of changes.keys()) expect(productsProjection.reads(e)).toContain(id);
  return changes;
}

function applyInventory(view: Map<string, InventoryEntity | undefined>, e: CatalogInventoryEvent, offset = 0) {
  const changes = inventoryProjection.apply(view, e, at(offset, e.occurredAt));
  for (const id of changes.keys()) expect(inventoryProjection.reads(e)).toContain(id);
  for (const [id, s] of changes) view.set(id, s);
  return changes;
}

describe('stockStatus', () => {
  it('is OUT_OF_STOCK at 0, LOW_STOCK up to the threshold, IN_STOCK above it', () => {
    expect(LOW_STOCK_THRESHOLD).toBe(5);
    expect([0, 1, 5, 6, 1000].map(stockStatus)).toEqual(['OUT_OF_STOCK', 'LOW_STOCK', 'LOW_STOCK', 'IN_STOCK', 'IN_STOCK']);
  });
});

describe('productsProjection', () => {
  it('creates a product at version 1 and bumps the version only when something changes', () => {
    const view = new Map<string, ProductState | undefined>();
    const first = applyProducts(view, product('p-1', 'Gala Apple', { t: 1, lsn: 500, op: 'c' }), 7);
    expect(first.get('p-1')).toEqual({
      id: 'p-1',
      name: 'Gala Apple',
      brand: null,
      category: 'Fruit',
      priceCents: 100,
      updatedAt: '2026-01-01T00:00:01.000Z',
      version: 1,
      sourceLsn: 500,
      position: { partition: 0, offset: 7 },
    });
    view.set('p-1', first.get('p-1'));
    expect(applyProducts(view, product('p-1', 'Gala Apple', { t: 2 })).size).toBe(0);
    const second = applyProducts(view, product('p-1', 'Gala Apple', { brand: 'Orchard', priceCents: 120, t: 3 }));
    expect(second.get('p-1')).toMatchObject({ brand: 'Orchard', priceCents: 120, version: 2, updatedAt: '2026-01-01T00:00:03.000Z' });
  });

  it('folds a log to the last state of each product', () => {
    const log = [product('a', 'Kiwi'), product('b', 'Lime'), product('a', 'Kiwi gold', { priceCents: 300 })];
    const view = foldAll(productsProjection, log.map((event, i) => ({ event, at: at(i) })));
    expect([...view.keys()].sort()).toEqual(['a', 'b']);
    expect(view.get('a')).toMatchObject({ name: 'Kiwi gold', priceCents: 300, version: 2 });
  });

  it('deletes a product on a delete change', () => {
    const log = [product('a', 'Kiwi', { lsn: 10 }), product('b', 'Lime', { lsn: 11 }), deleted('a', 12)];
    const view = foldAll(productsProjection, log.map((event, i) => ({ event, at: at(i) })));
    expect([...view.keys()]).toEqual(['b']);
  });

  it('knows a change re-sent after a connector crash by its LSN (at or below the state\'s)', () => {
    const view = new Map<string, ProductState | undefined>();
    const first = applyProducts(view, product('p', 'Pear', { lsn: 100, priceCents: 1 }));
    view.set('p', first.get('p'));
    const second = applyProducts(view, product('p', 'Pear', { lsn: 200, priceCents: 2 }));
    view.set('p', second.get('p'));
    expect(productsProjection.alreadyApplied!(view, product('p', 'Pear', { lsn: 100, priceCents: 1 }))).toBe(true);
    expect(productsProjection.alreadyApplied!(view, product('p', 'Pear', { lsn: 200, priceCents: 2 }))).toBe(true);
    expect(productsProjection.alreadyApplied!(view, product('p', 'Pear', { lsn: 201, priceCents: 3 }))).toBe(false);
    expect(productsProjection.alreadyApplied!(view, product('q', 'Quince', { lsn: 1 }))).toBe(false);
  });

  it('indexes every product in all, its folded category and each trigram of its name, with one score', () => {
    const s: ProductState = { id: 'p', name: 'Pineapple', brand: null, category: ' Tropical Fruit', priceCents: 1, updatedAt: '', version: 1, sourceLsn: 1, position: { partition: 0, offset: 0 } };
    const entries = productsProjection.indexes!('p', s);
    const names = entries.map((e) => e.index);
    expect(names).toEqual(expect.arrayContaining(['all', 'category:tropical fruit', 'tri:pin', 'tri:app', 'tri:ple']));
    expect(names.filter((n) => n.startsWith('tri:'))).toHaveLength(7);
    expect(new Set(entries.map((e) => e.score))).toEqual(new Set([productScore('p', 'Pineapple')]));
  });
});

describe('productScore', () => {
  const sortByScore = (names: string[]) =>
    names.map((n, i) => ({ n, s: productScore(`id-${i}`, n) })).sort((a, b) => a.s - b.s).map((x) => x.n);

  it('orders by name, ignoring case and accents, with separators before letters and digits before letters', () => {
    const expected = ['7 Up', 'A b', 'Ab', 'apple', 'Bánana', 'banana split', 'Cherry', 'éclair', 'Zucchini'];
    const shuffled = [...expected].reverse();
    expect(sortByScore(shuffled)).toEqual(expected);
  });

  it('is an exact integer score for the largest name prefix', () => {
    const top = productScore('x', 'zzzzzzzzzzzz');
    expect(Number.isSafeInteger(top)).toBe(true);
    expect(top).toBeGreaterThan(productScore('x', 'zzzzzzzy'));
  });

  it('splits products with the same name prefix into small tie groups', () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const score = productScore(`p-${i}`, `Organic bananas ${i}`);
      counts.set(score, (counts.get(score) ?? 0) + 1);
    }
    expect(counts.size).toBeGreaterThan(1000);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(10);
  });
});

describe('levelScore', () => {
  it('is a deterministic 48-bit integer that does not depend on anything but the product id', () => {
    const scores = Array.from({ length: 10_000 }, (_, i) => levelScore(`p-${i}`));
    expect(scores.every((s) => Number.isSafeInteger(s) && s >= 0 && s < 2 ** 48)).toBe(true);
    expect(new Set(scores).size).toBe(scores.length);
    expect(levelScore('p-1')).toBe(scores[1]);
  });
});

describe('trigrams and case folding', () => {
  it('gives every substring of a name only trigrams of that name', () => {
    const name = 'ΟΔΟΣΑ İstanbul Pineapple';
    const all = new Set(trigrams(name));
    for (const q of ['ΟΣΑ', 'stan', 'APPLE', 'l pi', 'İST']) {
      expect(foldCase(name).includes(foldCase(q))).toBe(true);
      for (const t of trigrams(q)) expect(all.has(t)).toBe(true);
    }
  });

  it('folds per character, where whole-string lowercasing would miss a substring', () => {
    // The Greek final sigma: 'ΟΣ' alone lowercases to 'ος', inside 'ΟΔΟΣΑ' to 'οσ'.
    expect('ΟΔΟΣΑ'.toLowerCase().includes('ΟΣ'.toLowerCase())).toBe(false);
    expect(foldCase('ΟΔΟΣΑ').includes(foldCase('ΟΣ'))).toBe(true);
  });

  it('has none for names shorter than three characters', () => {
    expect(trigrams('Ab')).toEqual([]);
  });
});

describe('inventoryProjection', () => {
  it('keeps stores and levels in the store partition, even for ids with colons', () => {
    expect(inventoryProjection.recordKeyOf(storeEntityId('s:1'))).toBe('s:1');
    expect(inventoryProjection.recordKeyOf(levelEntityId('s:1', 'p:2'))).toBe('s:1');
    expect(levelEntityId('s:1', 'p')).not.toBe(levelEntityId('s', '1:p'));
  });

  it('creates and renames stores, ignoring an upsert that changes nothing', () => {
    const view = new Map<string, InventoryEntity | undefined>();
    expect(applyInventory(view, store('s-1', 'Main St')).get(storeEntityId('s-1'))).toEqual({ kind: 'store', id: 's-1', name: 'Main St' });
    expect(applyInventory(view, store('s-1', 'Main St')).size).toBe(0);
    expect(applyInventory(view, store('s-1', 'Main Street')).get(storeEntityId('s-1'))).toMatchObject({ name: 'Main Street' });
  });

  it('versions a level per change of its quantity, with status and the time of the change', () => {
    const view = new Map<string, InventoryEntity | undefined>();
    const id = levelEntityId('s-1', 'p-1');
    expect(applyInventory(view, report('s-1', 'p-1', 10, 1)).get(id)).toEqual({
      kind: 'level',
      storeId: 's-1',
      productId: 'p-1',
      quantity: 10,
      reserved: 0,
      available: 10,
      status: 'IN_STOCK',
      updatedAt: '2026-01-01T00:00:01.000Z',
      version: 1,
      reportedAt: '2026-01-01T00:00:01.000Z',
      notFound: [],
      outSinceReport: false,
      reservedSinceReport: 0,
    });
    expect(applyInventory(view, report('s-1', 'p-1', 10, 2)).size).toBe(0);
    expect(applyInventory(view, report('s-1', 'p-1', 3, 3)).get(id)).toMatchObject({ quantity: 3, status: 'LOW_STOCK', version: 2, updatedAt: '2026-01-01T00:00:03.000Z' });
    expect(applyInventory(view, report('s-1', 'p-1', 0, 4)).get(id)).toMatchObject({ status: 'OUT_OF_STOCK', version: 3 });
    // Another store's level of the same product is its own entity.
    expect(applyInventory(view, report('s-2', 'p-1', 1, 5)).get(levelEntityId('s-2', 'p-1'))).toMatchObject({ version: 1 });
  });

  it("indexes a level in its store's index and its store-and-status index, and stores in none", () => {
    const view = new Map<string, InventoryEntity | undefined>();
    const level = applyInventory(view, report('s-1', 'p-1', 2)).get(levelEntityId('s-1', 'p-1'))!;
    const score = levelScore('p-1');
    expect(inventoryProjection.indexes!(levelEntityId('s-1', 'p-1'), level)).toEqual([
      { index: 'store:s-1', score },
      { index: 'store:s-1:status:LOW_STOCK', score },
    ]);
    expect(inventoryProjection.indexes!(storeEntityId('s-1'), { kind: 'store', id: 's-1', name: 'x' })).toEqual([]);
  });
});
