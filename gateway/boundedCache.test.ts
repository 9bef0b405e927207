// Unit tests of the byte-bounded LRU, the admitted document store and the bounded operation labels.
import { parse, type DocumentNode } from 'graphql';
import { createBoundedCache, estimateDocumentBytes } from './boundedCache';
import { createAdmittedDocumentStore } from './documentStore';
import { createOperationLabels } from '../platform/operationLabels';

const bytesOf = (_key: string, value: string) => value.length;

describe('createBoundedCache', () => {
  it('evicts the least recently used entries to stay within its bytes', () => {
    const cache = createBoundedCache<string>({ name: 't', maxBytes: 100, sizeOf: bytesOf });
    cache.set('a', 'x'.repeat(10));
    cache.set('b', 'x'.repeat(10));
    expect(cache.get('a')).toBeDefined(); // a is now the most recently used
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, 'x'.repeat(10));
    expect(cache.bytes()).toBeLessThanOrEqual(100);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.entries()).toBe(10);
  });

  it('never holds more bytes than its budget, whatever is offered', () => {
    const cache = createBoundedCache<string>({ name: 't', maxBytes: 1000, sizeOf: bytesOf });
    for (let i = 0; i < 5000; i++) cache.set(`k${i}`, 'x'.repeat((i * 37) % 120));
    expect(cache.bytes()).toBeLessThanOrEqual(1000);
  });

  it('does not keep an entry over an eighth of the budget, and keeps the rest then', () => {
    const cache = createBoundedCache<string>({ name: 't', maxBytes: 80, sizeOf: bytesOf });
    cache.set('small', 'x'.repeat(5));
    cache.set('huge', 'x'.repeat(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('small')).toBe('xxxxx');
  });

  it('bounds entries too, and replacing a key does not count it twice', () => {
    const cache = createBoundedCache<string>({ name: 't', maxBytes: 1e6, maxEntries: 3, sizeOf: bytesOf });
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, k);
    expect(cache.entries()).toBe(3);
    cache.set('d', 'dd');
    expect(cache.bytes()).toBe(1 + 1 + 2);
    expect(cache.delete('d')).toBe(true);
    expect(cache.bytes()).toBe(2);
  });

  it('estimates a 90 KB document at megabytes, so few such documents fit a budget', () => {
    expect(estimateDocumentBytes(90_000)).toBeGreaterThan(5 * 2 ** 20);
  });
});

describe('createAdmittedDocumentStore', () => {
  it('keeps a document Apollo offered only once it is admitted', async () => {
    const cache = createBoundedCache<DocumentNode>({ name: 'documents', maxBytes: 2 ** 24, sizeOf: (k) => estimateDocumentBytes(k.length) });
    const documents = createAdmittedDocumentStore(cache);
    const refused = parse('{ a }');
    const accepted = parse('{ b }');
    await documents.store.set('refused', refused);
    await documents.store.set('accepted', accepted);
    documents.admit(accepted);
    expect(await documents.store.get('refused')).toBeUndefined();
    expect(await documents.store.get('accepted')).toBe(accepted);
    // A document never offered (e.g. one Apollo read from the store) is not stored again.
    documents.admit(parse('{ c }'));
    expect(cache.entries()).toBe(1);
  });
});

describe('createOperationLabels', () => {
  it('gives the first names their own label and every later one `other`, cut to 100 characters', () => {
    const labels = createOperationLabels(3);
    expect(labels.labelOf(null)).toBe('anonymous');
    expect(['A', 'B', 'C', 'D', 'A'].map((n) => labels.labelOf(n))).toEqual(['A', 'B', 'C', 'other', 'A']);
    expect(createOperationLabels().labelOf('x'.repeat(500))).toHaveLength(100);
    expect(labels.size()).toBe(3);
  });
});
