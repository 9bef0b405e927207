// Change data capture records as Debezium writes them (JSON converter without schemas): a key
// holding the row's primary key, a value that is an envelope { op, before, after, source, ts_ms }
// with op r (snapshot read), c, u or d, and a tombstone (null value) after each delete. This
// module reads and checks that envelope; a table's own contract (e.g. catalogProductsCdc.ts)
// checks the row images and turns them into its events.
import { ContractViolation, describe, type Check } from './validate';
import { describedAs, jsonSchemaOf } from './jsonSchema';

export const CDC_OPS = ['r', 'c', 'u', 'd'] as const;
export type CdcOp = (typeof CDC_OPS)[number];

/** Where a change comes from in the database: what dead letters and re-sent checks name. */
export interface CdcSource {
  /** The log sequence number of the change: per row, later changes have larger ones. */
  readonly lsn: number;
  readonly txId: number | null;
  /** Commit time (snapshot time for `r`), ms since the epoch. */
  readonly tsMs: number;
  readonly snapshot: boolean;
  /** `<schema>.<table>` */
  readonly table: string;
}

export interface CdcChange {
  /** The record key as it is on the log (its bytes decide the partition). */
  readonly recordKey: string;
  /** The parsed key: the row's primary key columns. */
  readonly key: Readonly<Record<string, unknown>>;
  readonly op: CdcOp;
  readonly before: Readonly<Record<string, unknown>> | null;
  readonly after: Readonly<Record<string, unknown>> | null;
  readonly source: CdcSource;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function json(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ContractViolation(what, 'JSON', `invalid JSON (${(e as Error).message})`);
  }
}

/** How a change's position reads in a reason: `public.products lsn 24023128 txId 767`. */
export function formatSource(s: Pick<CdcSource, 'table' | 'lsn' | 'txId'>): string {
  return `${s.table} lsn ${s.lsn}${s.txId === null ? '' : ` txId ${s.txId}`}`;
}

/** Reads a Debezium record; null for a tombstone. Throws ContractViolation for anything else that is not a change. */
export function parseCdcRecord(keyBytes: Buffer | null, valueBytes: Buffer | null): CdcChange | null {
  if (keyBytes === null || keyBytes.length === 0) throw new ContractViolation('record.key', 'the row key as JSON', 'no key');
  const recordKey = keyBytes.toString('utf8');
  const key = json(keyBytes, 'record.key');
  if (!isObject(key)) throw new ContractViolation('record.key', 'an object of key columns', describe(key));
  if (valueBytes === null || valueBytes.length === 0) return null;
  const value = json(valueBytes, 'change');
  if (!isObject(value)) throw new ContractViolation('change', 'a Debezium change envelope', describe(value));
  const op = value.op;
  if (typeof op !== 'string' || !(CDC_OPS as readonly string[]).includes(op))
    throw new ContractViolation('change.op', `one of ${CDC_OPS.join(', ')}`, describe(op));
  const src = value.source;
  if (!isObject(src)) throw new ContractViolation('change.source', 'an object', describe(src));
  const lsn = src.lsn;
  if (typeof lsn !== 'number' || !Number.isSafeInteger(lsn) || lsn < 0)
    throw new ContractViolation('change.source.lsn', 'a log sequence number', describe(lsn));
  const tsMs = src.ts_ms;
  if (typeof tsMs !== 'number' || !Number.isFinite(tsMs)) throw new ContractViolation('change.source.ts_ms', 'a time in ms', describe(tsMs));
  const txId = typeof src.txId === 'number' ? src.txId : null;
  const table = `${String(src.schema ?? '?')}.${String(src.table ?? '?')}`;
  // Debezium says "true", "last", "first", "incremental" or "false" (older versions a boolean).
  const snapshot = src.snapshot !== undefined && src.snapshot !== null && src.snapshot !== false && src.snapshot !== 'false';
  const image = (field: 'before' | 'after') => {
    const v = value[field];
    if (v === null || v === undefined) return null;
    if (!isObject(v)) throw new ContractViolation(`change.${field}`, 'a row image', describe(v));
    return v;
  };
  return { recordKey, key, op: op as CdcOp, before: image('before'), after: image('after'), source: { lsn, txId, tsMs, snapshot, table } };
}

/**
 * A row image check: each listed column must be present (a dropped or renamed column is a
 * violation even when the column may be null); columns it does not list are ignored, so adding
 * a column to the table breaks no reader.
 */
export function rowImage<T extends object>(columns: { [K in keyof T]: Check<T[K]> }): Check<T> {
  // Every listed column is required; other columns are allowed (additionalProperties).
  const schema = { type: 'object', properties: Object.fromEntries(Object.entries(columns).map(([c, check]) => [c, jsonSchemaOf(check)])), required: Object.keys(columns), additionalProperties: true } as const;
  return describedAs<Check<T>>((v, path) => {
    if (!isObject(v)) throw new ContractViolation(path, 'a row image', describe(v));
    const out: Record<string, unknown> = {};
    for (const [column, check] of Object.entries(columns) as [string, Check<unknown>][]) {
      if (!Object.prototype.hasOwnProperty.call(v, column))
        throw new ContractViolation(`${path}.${column}`, 'the column (dropped or renamed?)', 'no such column');
      out[column] = check(v[column], `${path}.${column}`);
    }
    return out as T;
  }, schema);
}

/** A column that may hold NULL (read as null). */
export const nullable =
  <T>(check: Check<T>): Check<T | null> =>
  describedAs<Check<T | null>>((v, path) =>
    v === null ? null : check(v, path), { anyOf: [jsonSchemaOf(check), { type: 'null' }] });

/**
 * A change record exactly as Debezium's JSON converter (schemas off) writes it: for tests,
 * benchmarks and tools that need one without a database.
 */
export function debeziumRecord(c: {
  readonly key: Readonly<Record<string, unknown>>;
  readonly op: CdcOp;
  readonly before?: Readonly<Record<string, unknown>> | null;
  readonly after?: Readonly<Record<string, unknown>> | null;
  readonly lsn: number;
  readonly txId?: number;
  readonly tsMs?: number;
  readonly table?: string;
}): { key: Buffer; value: Buffer } {
  const [schema, table] = (c.table ?? 'catalog.products').split('.');
  const tsMs = c.tsMs ?? Date.now();
  const value = {
    before: c.before ?? null,
    after: c.after ?? null,
    source: {
      version: '3.6.1.Final',
      connector: 'postgresql',
      name: schema,
      ts_ms: tsMs,
      snapshot: c.op === 'r' ? 'true' : 'false',
      db: 'catalog',
      sequence: JSON.stringify([null, String(c.lsn)]),
      schema,
      table,
      txId: c.txId ?? 1,
      lsn: c.lsn,
      xmin: null,
    },
    transaction: null,
    op: c.op,
    ts_ms: tsMs,
  };
  return { key: Buffer.from(JSON.stringify(c.key)), value: Buffer.from(JSON.stringify(value)) };
}
