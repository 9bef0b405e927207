// Catalog sources of interrupted test runs: global setup drops the connectors, replication
// slots, publications and schemas of runs that started long ago (their teardown never ran), and
// leaves those of runs that may still be going on beside it.
import { Client } from 'pg';
import { catalogSourceFromEnv } from '../subgraphs/catalog/catalogSource';
import { abandonedRunIds, ABANDONED_RUN_AGE_MS, removeAbandonedRunSources } from './support/catalogDatabase';

const HOUR = 60 * 60 * 1000;

it('names the runs older than the age limit, from connector, slot, publication and schema names', () => {
  const now = Date.UTC(2026, 11, 1, 12);
  const old = (now - 4 * HOUR).toString(36);
  const young = (now - 1 * HOUR).toString(36);
  expect(
    abandonedRunIds(
      [`t-${old}-products-x-catalog-products-cdc`, `t_${old}_products_x_catalog`, `t_${old}_chaos_catalog_cdc`, `t-${young}-orders-y-catalog-products-cdc`, `t_${young}_y_catalog`, 'catalog_products_cdc', 'public', 't-notarun', 't-local-bench-cdc-1-catalog-products-cdc', 't_local_bench_cdc_1_catalog'],
      now,
    ),
  ).toEqual([old]);
  expect(abandonedRunIds([`t_${old}_x`], now, 5 * HOUR)).toEqual([]);
});

it('drops an interrupted run’s slot, publication and schema and keeps a young run’s', async () => {
  const db = new Client({ connectionString: catalogSourceFromEnv().databaseUrl });
  await db.connect();
  const old = (Date.now() - ABANDONED_RUN_AGE_MS - HOUR).toString(36);
  const young = (Date.now() - 60_000).toString(36);
  const names = (run: string) => ({ slot: `t_${run}_abandoned_slot`, pub: `t_${run}_abandoned_pub`, schema: `t_${run}_abandoned_catalog` });
  const present = async (run: string) => {
    const n = names(run);
    const r = await db.query<{ slots: string; pubs: string; schemas: string }>(
      `SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) AS slots,
              (SELECT count(*) FROM pg_publication WHERE pubname = $2) AS pubs,
              (SELECT count(*) FROM pg_namespace WHERE nspname = $3) AS schemas`,
      [n.slot, n.pub, n.schema],
    );
    return [Number(r.rows[0].slots), Number(r.rows[0].pubs), Number(r.rows[0].schemas)];
  };
  try {
    for (const run of [old, young]) {
      const n = names(run);
      await db.query('SELECT pg_create_logical_replication_slot($1, $2)', [n.slot, 'pgoutput']);
      await db.query(`CREATE SCHEMA "${n.schema}"`);
      await db.query(`CREATE TABLE "${n.schema}".products (id text PRIMARY KEY)`);
      await db.query(`CREATE PUBLICATION "${n.pub}" FOR TABLE "${n.schema}".products`);
    }
    expect([await present(old), await present(young)]).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(await removeAbandonedRunSources()).toContain(old);
    expect([await present(old), await present(young)]).toEqual([[0, 0, 0], [1, 1, 1]]);
  } finally {
    const n = names(young);
    await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [n.slot]);
    await db.query(`DROP PUBLICATION IF EXISTS "${n.pub}"`);
    await db.query(`DROP SCHEMA IF EXISTS "${n.schema}" CASCADE`);
    await db.end();
  }
});
