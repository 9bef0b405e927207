// An LRU cache bounded in bytes and entries, for everything the gateway keeps that is keyed by
// client input (parsed documents, subscription plans). A client can send endless distinct
// inputs; only a bound in bytes stops large ones from exhausting memory, since one 90 KB
// document parses into megabytes of AST.

export interface BoundedCacheOptions<V> {
  /** Named in metrics (`cache` label) and logs. */
  readonly name: string;
  /** Estimated bytes all entries may hold together. */
  readonly maxBytes: number;
  /** Entries held at most, whatever their size. @default Infinity */
  readonly maxEntries?: number;
  /** Estimated bytes one entry holds (key and value); an estimate over the real size is safe. */
  readonly sizeOf: (key: string, value: V) => number;
}

export interface BoundedCache<V> {
  readonly name: string;
  readonly maxBytes: number;
  get(key: string): V | undefined;
  /** Keeps the value unless it alone is over an eighth of the budget (it would only evict the rest). */
  set(key: string, value: V): void;
  delete(key: string): boolean;
  clear(): void;
  /** Estimated bytes held now. */
  bytes(): number;
  entries(): number;
}

export function createBoundedCache<V>(opts: BoundedCacheOptions<V>): BoundedCache<V> {
  // Map keeps insertion order: a hit re-inserts, so the first key is the least recently used.
  const map = new Map<string, { value: V; size: number }>();
  const maxEntries = opts.maxEntries ?? Number.POSITIVE_INFINITY;
  const maxEntryBytes = opts.maxBytes / 8;
  let bytes = 0;

  const remove = (key: string): boolean => {
    const entry = map.get(key);
    if (!entry) return false;
    map.delete(key);
    bytes -= entry.size;
    return true;
  };

  return {
    name: opts.name,
    maxBytes: opts.maxBytes,
    get(key) {
      const entry = map.get(key);
      if (!entry) return undefined;
      map.delete(key);
      map.set(key, entry);
      return entry.value;
    },
    set(key, value) {
      remove(key);
      const size = opts.sizeOf(key, value);
      if (size > maxEntryBytes) return;
      while (map.size > 0 && (bytes + size > opts.maxBytes || map.size >= maxEntries)) remove(map.keys().next().value as string);
      map.set(key, { value, size });
      bytes += size;
    },
    delete: remove,
    clear() {
      map.clear();
      bytes = 0;
    },
    bytes: () => bytes,
    entries: () => map.size,
  };
}

/**
 * Heap bytes a parsed document (with locations) is estimated to take per byte of its text.
 * Measured on graphql 16: a selection-heavy document takes about 57 bytes of heap per byte
 * of text; comments and long strings take far less, so this overestimates them, which is safe.
 */
export const DOCUMENT_BYTES_PER_TEXT_BYTE = 64;

/** The estimate of a cached parsed document keyed by its text (or its hash plus the text's length). */
export const estimateDocumentBytes = (textLength: number): number => 200 + textLength * DOCUMENT_BYTES_PER_TEXT_BYTE;
