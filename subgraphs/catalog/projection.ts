// The catalog's views as pure folds: products (by product id) and a store's inventory
// (store records and stock levels, both kept in the store's partition), with the index
// scores that give every listing a stable, cheaply pageable order.
import { createHash } from 'node:crypto';
import {
  CATALOG_INVENTORY_TOPIC,
  CATALOG_PRODUCTS_CDC_TOPIC,
  productRecordKey,
  type CatalogInventoryEvent,
  type CatalogProductsCdcEvent,
} from '../../schema/events';
import type { IndexEntry, Projection } from '../runtime/projection';
import { applyEnd, applyNotFound, applyReport, applyRequest } from './reservations';

export const STOCK_STATUSES = ['IN_STOCK', 'LOW_STOCK', 'OUT_OF_STOCK'] as const;
export type StockStatus = (typeof STOCK_STATUSES)[number];

/** A positive quantity at or below this is LOW_STOCK (0 is OUT_OF_STOCK). */
export const LOW_STOCK_THRESHOLD = 5;

export function stockStatus(quantity: number): StockStatus {
  if (quantity <= 0) return 'OUT_OF_STOCK';
  return quantity <= LOW_STOCK_THRESHOLD ? 'LOW_STOCK' : 'IN_STOCK';
}

export interface ProductState {
  readonly id: string;
  readonly name: string;
  readonly brand: string | null;
  readonly category: string;
  readonly priceCents: number;
  /** When the product last changed (the commit time of its change in the catalog database). */
  readonly updatedAt: string;
  /** 1 for the first upsert, +1 for each upsert that changes something. */
  readonly version: number;
  /** The database log position (LSN) of the change the state holds: re-sent changes are at or below it. */
  readonly sourceLsn: number;
  /** Where that change is on the CDC topic: what a write's consistency token names. */
  readonly position: { readonly partition: number; readonly offset: number };
}

export interface StoreState {
  readonly kind: 'store';
  readonly id: string;
  readonly name: string;
}

export interface InventoryLevelState {
  readonly kind: 'level';
  readonly storeId: string;
  readonly productId: string;
  /** On hand, as the store last reported it, less what deliveries took since. */
  readonly quantity: number;
  /** Units held for orders placed and not yet delivered or canceled. */
  readonly reserved: number;
  /** What a new order can still reserve: quantity - reserved, never negative; 0 while outSinceReport. */
  readonly available: number;
  /** Follows `available`. */
  readonly status: StockStatus;
  /** When the level last changed (the event's occurredAt). */
  readonly updatedAt: string;
  /** 1 for the first change, +1 for each change a reader sees (quantity, reserved, available, not found). */
  readonly version: number;
  /** When the store last reported the level; null when only a not-found report made it. */
  readonly reportedAt: string | null;
  /** Times of the latest not-found reports (at most NOT_FOUND_MEMORY), newest last. */
  readonly notFound: readonly string[];
  /** A shopper did not find it since the last report: out of stock until the next one. */
  readonly outSinceReport: boolean;
  /** Units reserved since the last report: the demand behind likelihoodInStock. */
  readonly reservedSinceReport: number;
}

/**
 * One order's reservation at its store, kept in the store's partition: the decision (per item,
 * the units held) is made once, by the first request, and never changes except to let go of an
 * item not found; `state` says whether the units are still held.
 */
export interface ReservationState {
  readonly kind: 'reservation';
  readonly storeId: string;
  readonly orderId: string;
  readonly customerId: string;
  readonly totalCents: number;
  readonly items: ReadonlyArray<{ readonly productId: string; readonly quantity: number; readonly reserved: number }>;
  readonly state: 'HELD' | 'RELEASED' | 'CONSUMED';
  readonly decidedAt: string;
  /** Where the deciding request is on catalog.inventory. */
  readonly position: { readonly partition: number; readonly offset: number };
}

/** An entity of the inventory view: a store, one product's stock level in one store, or an order's reservation there. */
export type InventoryEntity = StoreState | InventoryLevelState | ReservationState;

export const isLevel = (e: InventoryEntity | undefined | null): e is InventoryLevelState => e?.kind === 'level';
export const isStore = (e: InventoryEntity | undefined | null): e is StoreState => e?.kind === 'store';
export const isReservation = (e: InventoryEntity | undefined | null): e is ReservationState => e?.kind === 'reservation';

// Ids may contain ':' (the contract allows any 1-128 characters), so each part is
// URI-encoded: `inv:<store>:<product>` then splits back unambiguously.
const enc = encodeURIComponent;

export const storeEntityId = (storeId: string) => `store:${enc(storeId)}`;
export const levelEntityId = (storeId: string, productId: string) => `inv:${enc(storeId)}:${enc(productId)}`;
export const reservationEntityId = (storeId: string, orderId: string) => `res:${enc(storeId)}:${enc(orderId)}`;
/** The prefix every level entity of a store starts with. */
export const levelEntityPrefix = (storeId: string) => `inv:${enc(storeId)}:`;
/** A store's stock levels, optionally only those with one status. */
export const storeIndex = (storeId: string, status?: StockStatus) =>
  status ? `store:${enc(storeId)}:status:${status}` : `store:${enc(storeId)}`;

/** The store id an inventory entity belongs to (its record key), or null for a foreign id. */
export function storeIdOfEntity(entityId: string): string | null {
  const [kind, store] = entityId.split(':');
  if ((kind !== 'store' && kind !== 'inv' && kind !== 'res') || store === undefined) return null;
  return decodeURIComponent(store);
}

/** Whether an id can be stored: URI encoding refuses lone surrogates. */
export function isEncodableId(id: string): boolean {
  try {
    enc(id);
    return true;
  } catch {
    return false;
  }
}

// ---- index scores -------------------------------------------------------------------

/**
 * Case folding for search and category matching: per character, so that folding a
 * substring always gives a substring of the folded whole (whole-string lowercasing is
 * context-dependent, e.g. the Greek final sigma).
 */
export const foldCase = (s: string) => Array.from(s, (c) => c.toLowerCase()).join('');

const hashOf = (s: string) => createHash('sha256').update(s, 'utf8').digest();

// Product order: by name, case- and accent-insensitively, on its first NAME_SYMBOLS letters
// and digits (runs of anything else count as one separator, which sorts before letters),
// then in a fixed order given by a hash of the id. The hash bits split products with the same
// name prefix (think "organic ...") into 2^HASH_BITS groups: the runtime's pager reads every
// member tied with a cursor's score, so ties must stay small. 38^8 * 2^11 < 2^53: exact in a
// Redis score.
const NAME_SYMBOLS = 8;
const SYMBOL_BASE = 38; // 0 pad, 1 separator, 2-11 digits, 12-37 letters
const HASH_BITS = 11;

function nameSymbols(name: string): number[] {
  const plain = foldCase(name.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''));
  const out: number[] = [];
  for (const c of plain) {
    if (out.length === NAME_SYMBOLS) break;
    let s = 1;
    if (c >= '0' && c <= '9') s = 2 + c.charCodeAt(0) - 48;
    else if (c >= 'a' && c <= 'z') s = 12 + c.charCodeAt(0) - 97;
    if (s === 1 && (out.length === 0 || out[out.length - 1] === 1)) continue;
    out.push(s);
  }
  while (out.length < NAME_SYMBOLS) out.push(0);
  return out;
}

/** A product's score in every product index: name order first, then a fixed per-id order. */
export function productScore(id: string, name: string): number {
  const prefix = nameSymbols(name).reduce((a, s) => a * SYMBOL_BASE + s, 0);
  return prefix * 2 ** HASH_BITS + (hashOf(id).readUInt16BE(0) & (2 ** HASH_BITS - 1));
}

/**
 * A stock level's score in its store's indexes: 48 bits of a hash of the product id. The
 * inventory view knows no product names, so the order is fixed but not meaningful; it never
 * changes when a quantity does, so pages stay stable while stock moves.
 */
export function levelScore(productId: string): number {
  return hashOf(productId).readUIntBE(0, 6);
}

/**
 * Distinct trigrams of a folded name. Each product is a member of `tri:<t>` for each: a
 * search reads the smallest index among its query's trigrams and checks the full substring,
 * so it examines products sharing the rarest trigram instead of the whole catalog.
 */
export function trigrams(text: string): string[] {
  const cps = Array.from(foldCase(text));
  const out = new Set<string>();
  for (let i = 0; i + 3 <= cps.length; i++) out.add(cps.slice(i, i + 3).join(''));
  return [...out];
}

export const ALL_PRODUCTS_INDEX = 'all';
export const categoryIndex = (category: string) => `category:${foldCase(category.trim())}`;
export const trigramIndex = (trigram: string) => `tri:${trigram}`;

// ---- the folds ----------------------------------------------------------------------

const same = <T>(a: T | undefined, b: T) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);

/**
 * Products by id, folded from the catalog database's changes (Debezium, at least once).
 * Indexes `all`, `category:<folded category>` and `tri:<trigram>`, all scored by productScore.
 */
export const productsProjection: Projection<typeof CATALOG_PRODUCTS_CDC_TOPIC, ProductState> = {
  name: 'catalog.products',
  topic: CATALOG_PRODUCTS_CDC_TOPIC,
  reads: (e: CatalogProductsCdcEvent) => [e.payload.id],
  // Debezium keys records by the row's key as JSON; its bytes decide the partition.
  recordKeyOf: productRecordKey,
  // After a connector crash Debezium re-sends the changes since its last flushed offset: a row's
  // changes have growing LSNs, so one at or below the state's is one the view already holds.
  alreadyApplied: (view, e) => {
    const cur = view.get(e.payload.id);
    return cur !== undefined && typeof cur.sourceLsn === 'number' && e.payload.lsn <= cur.sourceLsn;
  },
  apply(view, e, at) {
    const p = e.payload;
    if (p.op === 'd') return new Map([[p.id, undefined]]);
    const cur = view.get(p.id);
    const r = p.row;
    const fields = { name: r.name, brand: r.brand, category: r.category, priceCents: r.price_cents };
    // A change that touches no field the graph shows (an upsert of the same values) keeps the version.
    if (cur && same({ name: cur.name, brand: cur.brand, category: cur.category, priceCents: cur.priceCents }, fields))
      return new Map();
    const next: ProductState = {
      id: p.id,
      ...fields,
      updatedAt: e.occurredAt,
      version: (cur?.version ?? 0) + 1,
      sourceLsn: p.lsn,
      position: { partition: at.partition, offset: at.offset },
    };
    return new Map([[p.id, next]]);
  },
  indexes(id, s): IndexEntry[] {
    const score = productScore(id, s.name);
    return [
      { index: ALL_PRODUCTS_INDEX, score },
      { index: categoryIndex(s.category), score },
      ...trigrams(s.name).map((t) => ({ index: trigramIndex(t), score })),
    ];
  },
};

/**
 * Stores, stock levels and reservations, all living in their store's partition (the topic is
 * keyed by store id), so a store's page or a subscription's current state reads one partition,
 * and one consumer decides every reservation of a store, in log order (docs/reservations.md).
 */
export const inventoryProjection: Projection<typeof CATALOG_INVENTORY_TOPIC, InventoryEntity> = {
  name: 'catalog.inventory',
  topic: CATALOG_INVENTORY_TOPIC,
  reads: (e: CatalogInventoryEvent) => {
    switch (e.type) {
      case 'StoreUpserted':
        return [storeEntityId(e.payload.storeId)];
      case 'InventoryReported':
        return [levelEntityId(e.payload.storeId, e.payload.productId)];
      case 'ReservationRequested':
        return [reservationEntityId(e.payload.storeId, e.payload.orderId), ...new Set(e.payload.items.map((i) => levelEntityId(e.payload.storeId, i.productId)))];
      case 'ReservationEnded':
        return [reservationEntityId(e.payload.storeId, e.payload.orderId), ...new Set(e.payload.productIds.map((p) => levelEntityId(e.payload.storeId, p)))];
      case 'ItemNotFoundReported':
        return [reservationEntityId(e.payload.storeId, e.payload.orderId), levelEntityId(e.payload.storeId, e.payload.productId)];
    }
  },
  recordKeyOf: (id) => storeIdOfEntity(id) ?? id,
  apply(view, e, at) {
    switch (e.type) {
      case 'StoreUpserted': {
        const id = storeEntityId(e.payload.storeId);
        const next: StoreState = { kind: 'store', id: e.payload.storeId, name: e.payload.name };
        return same(view.get(id), next) ? new Map() : new Map([[id, next]]);
      }
      case 'InventoryReported':
        return applyReport(view, e);
      case 'ReservationRequested':
        return applyRequest(view, e, at);
      case 'ReservationEnded':
        return applyEnd(view, e, at);
      case 'ItemNotFoundReported':
        return applyNotFound(view, e);
    }
  },
  indexes(_id, s): IndexEntry[] {
    if (!isLevel(s)) return [];
    const score = levelScore(s.productId);
    return [
      { index: storeIndex(s.storeId), score },
      { index: storeIndex(s.storeId, s.status), score },
    ];
  },
};
