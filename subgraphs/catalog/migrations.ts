// Versioned SQL migrations of the catalog database: the files in migrations/ (NNN_name.sql), in
// order, each applied once in its own transaction and recorded in schema_migrations. Concurrent
// starters (several catalog instances) take turns on an advisory lock, so each file runs once.
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { ident } from './catalogSource';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** The migration files, by version (the file name without .sql), in order. */
export function migrationFiles(dir: string = MIGRATIONS_DIR): Array<{ version: string; file: string }> {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), file: path.join(dir, f) }));
}

/** Applies the migrations `schema` has not had yet; returns the versions applied now. */
export async function migrate(pool: Pool, schema: string, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const client = await pool.connect();
  const lock = `streamgraph-migrate:${schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${ident(schema)}.schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set((await client.query<{ version: string }>(`SELECT version FROM ${ident(schema)}.schema_migrations`)).rows.map((r) => r.version));
    const applied: string[] = [];
    for (const { version, file } of migrationFiles(dir)) {
      if (done.has(version)) continue;
      try {
        await client.query('BEGIN');
        // Files name tables without a schema: each namespace's copy lives in its own schema.
        await client.query(`SET LOCAL search_path TO ${ident(schema)}`);
        await client.query(fs.readFileSync(file, 'utf8'));
        await client.query(`INSERT INTO ${ident(schema)}.schema_migrations (version) VALUES ($1)`, [version]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`catalog migration ${version} failed: ${(e as Error).message}`);
      }
      applied.push(version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => undefined);
    client.release();
  }
}
