// Writes to the products table, the catalog's system of record. Each write also returns a
// floor for its change's log sequence number: the view has applied the write once the product's
// state carries a source LSN at or above it (read-your-writes across database -> Debezium ->
// Kafka -> view).
import type { Pool } from 'pg';
import { ident } from './catalogSource';

export interface ProductRowInput {
  readonly id: string;
  readonly name: string;
  readonly brand: string | null;
  readonly category: string;
  readonly priceCents: number;
}

export type ProductWrite =
  /** The row changed: its change's LSN is at least `lsnFloor`. */
  | { readonly changed: true; readonly lsnFloor: number }
  /** The row already held these values: nothing was written, nothing will be streamed. */
  | { readonly changed: false };

/**
 * Inserts or updates a product in one transaction. The row is locked before the WAL position
 * is read, so every earlier change of it has a smaller LSN and this one a larger or equal LSN.
 */
export async function writeProduct(pool: Pool, schema: string, p: ProductRowInput): Promise<ProductWrite> {
  const table = `${ident(schema)}.products`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const cur = await client.query<{ name: string; brand: string | null; category: string; price_cents: number }>(
      `SELECT name, brand, category, price_cents FROM ${table} WHERE id = $1 FOR UPDATE`,
      [p.id],
    );
    const row = cur.rows[0];
    if (row && row.name === p.name && row.brand === p.brand && row.category === p.category && row.price_cents === p.priceCents) {
      await client.query('COMMIT');
      return { changed: false };
    }
    const lsn = await client.query<{ lsn: string }>(`SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS lsn`);
    await client.query(
      `INSERT INTO ${table} (id, name, brand, category, price_cents, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, brand = EXCLUDED.brand, category = EXCLUDED.category,
         price_cents = EXCLUDED.price_cents, updated_at = EXCLUDED.updated_at`,
      [p.id, p.name, p.brand, p.category, p.priceCents],
    );
    await client.query('COMMIT');
    return { changed: true, lsnFloor: Number(lsn.rows[0].lsn) };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
