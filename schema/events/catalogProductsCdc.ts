// The contract of the catalog's change data capture topic: Debezium's changes of the catalog
// database's `products` table (the system of record for products), as events. Each record is
// checked twice over: the Debezium envelope (cdc.ts), then the row image against the columns
// the views need. A row image that does not match (a dropped or renamed column, a changed
// type) is a ContractViolation naming the column and the change's source position, so the
// runtime dead-letters it and the partition goes on.
import { defineTopic } from './contract';
import { formatSource, nullable, parseCdcRecord, rowImage } from './cdc';
import type { EventOf } from './envelope';
import { ContractViolation, int, isoTime, obj, oneOf, optional, str } from './validate';

const id = str({ min: 1, max: 128 });

/** The columns of `products` the contract reads (migrations: subgraphs/catalog/migrations). */
export type ProductRow = {
  readonly id: string;
  readonly name: string;
  readonly brand: string | null;
  readonly category: string;
  readonly price_cents: number;
  readonly updated_at: string;
};

const productRow = rowImage<ProductRow>({
  id,
  name: str({ max: 300 }),
  brand: nullable(str({ max: 200 })),
  category: str({ max: 100 }),
  price_cents: int({ min: 0, max: 1_000_000_000 }),
  updated_at: isoTime(),
});

/** The record key Debezium writes for a product: its bytes decide the partition. */
export const productRecordKey = (productId: string) => JSON.stringify({ id: productId });

const position = { recordKey: str({ max: 400 }), id, lsn: int({ min: 0 }), txId: optional(int({ min: 0 })) };

export const CATALOG_PRODUCTS_CDC_TOPIC = defineTopic({
  name: 'catalog.products.cdc',
  // Kept forever like every shared topic: views are rebuilt by replaying it.
  partitions: 6,
  cleanupPolicy: 'delete',
  retentionMs: -1,
  keyedBy: 'recordKey',
  owner: 'catalog',
  events: {
    /** A row as it is after an insert (`c`), an update (`u`) or as the snapshot read it (`r`). */
    ProductRowUpserted: { version: 1, payload: obj({ ...position, op: oneOf(['r', 'c', 'u'] as const), row: productRow }) },
    ProductRowDeleted: { version: 1, payload: obj({ ...position, op: oneOf(['d'] as const) }) },
  },
  fromRecord(key, value) {
    const change = parseCdcRecord(key, value);
    if (change === null) return null;
    const at = formatSource(change.source);
    const productId = change.key.id;
    if (typeof productId !== 'string') throw new ContractViolation('record.key.id', 'the product id', `${JSON.stringify(change.key)} (${at})`);
    const common = {
      recordKey: change.recordKey,
      id: productId,
      lsn: change.source.lsn,
      ...(change.source.txId === null ? {} : { txId: change.source.txId }),
    };
    const envelope = (type: string, payload: Record<string, unknown>) => ({
      eventId: `${change.source.lsn}:${change.op}:${change.recordKey}`.slice(0, 128),
      type,
      version: 1,
      occurredAt: new Date(change.source.tsMs).toISOString(),
      key: change.recordKey,
      payload,
    });
    if (change.op === 'd') return envelope('ProductRowDeleted', { ...common, op: 'd' });
    let row: ProductRow;
    try {
      row = productRow(change.after, 'after');
    } catch (e) {
      // The reason names the column and where the change is in the database.
      if (e instanceof ContractViolation) throw new ContractViolation(e.path, e.expected, `${e.found} (${change.op} at ${at})`);
      throw e;
    }
    if (row.id !== productId) throw new ContractViolation('after.id', `the key's id ${JSON.stringify(productId)}`, `${JSON.stringify(row.id)} (${at})`);
    return envelope('ProductRowUpserted', { ...common, op: change.op, row });
  },
});

export type CatalogProductsCdcEvent = EventOf<typeof CATALOG_PRODUCTS_CDC_TOPIC>;
