// The catalog's connector registration (ensureConnector) against the real Kafka Connect worker
// and PostgreSQL: a new connector is created, the same config again changes nothing, a changed
// config (another poll interval, as a start with CATALOG_CDC_POLL_MS changed would bring) is
// PUT, Connect then holds it, its task runs again with it and still streams from its slot. The
// connector has a name, slot and publication of its own (this file's namespace), all removed
// at the end.
import type { Consumer } from 'kafkajs';
import type { Pool } from 'pg';
import { ensureTopics } from '../../infra/topics';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import { CATALOG_PRODUCTS_CDC_TOPIC } from '../../schema/events';
import { catalogPool, productsTable, removeRunCatalogSources } from '../../test/support/catalogDatabase';
import { uniqueName, waitFor } from '../../test/support/waitFor';
import { catalogSourceFromEnv, catalogSourceNames, type CatalogSourceNames, type CatalogSourceSettings } from './catalogSource';
import { connectorConfig, connectorStatus, ensureConnector, ensurePublication, slotState } from './cdcConnector';
import { migrate } from './migrations';

let namespace: string;
let settings: CatalogSourceSettings;
let names: CatalogSourceNames;
let db: Pool;
let topic: string;
let consumer: Consumer | undefined;

beforeAll(async () => {
  namespace = `${uniqueName('cdc-connector')}.`;
  settings = catalogSourceFromEnv();
  names = catalogSourceNames(settings, namespace);
  db = catalogPool();
  // What a catalog start does before it registers the connector: the tables and the publication.
  await migrate(db, names.schema);
  await ensurePublication(db, names);
  topic = `${namespace}${CATALOG_PRODUCTS_CDC_TOPIC.name}`;
  const admin = createKafka(kafkaConfigFromEnv()).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ ...CATALOG_PRODUCTS_CDC_TOPIC, name: topic }], { warn: () => undefined });
  } finally {
    await admin.disconnect();
  }
});

afterAll(async () => {
  await consumer?.disconnect();
  // The connector first, then its slot and publication (and the schema): no WAL held after the file.
  if (namespace) await removeRunCatalogSources(namespace);
  await db?.end();
});

/** The configuration Connect holds for the connector (its REST API adds `name`). */
async function storedConfig(): Promise<Record<string, string>> {
  const res = await fetch(`${settings.connectUrl}/connectors/${encodeURIComponent(names.connector)}/config`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

/** The configurations of the connector's tasks, as Connect hands them to the tasks. */
async function taskConfigs(): Promise<Array<Record<string, string>>> {
  const res = await fetch(`${settings.connectUrl}/connectors/${encodeURIComponent(names.connector)}/tasks`);
  if (res.status !== 200) throw new Error(`tasks of ${names.connector}: HTTP ${res.status}`);
  return ((await res.json()) as Array<{ config: Record<string, string> }>).map((t) => t.config);
}

/** Until the connector and its one task run and hold the slot (what a catalog start waits for). */
async function streaming(what: string): Promise<void> {
  await waitFor(
    async () => {
      const status = await connectorStatus(settings.connectUrl, names.connector);
      const slot = await slotState(db, names.slot);
      const ok = status.state === 'RUNNING' && status.tasks.length === 1 && status.tasks[0].state === 'RUNNING' && slot?.active === true;
      if (!ok) throw new Error(`connector ${status.state}, tasks ${status.tasks.map((t) => `${t.id} ${t.state} ${t.trace?.split('\n')[0] ?? ''}`).join(', ') || 'none'}, slot ${slot ? (slot.active ? 'active' : 'inactive') : 'missing'}`);
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 200, what },
  );
}

it('creates the connector, leaves it alone given the same config, and updates it when the config changed', async () => {
  const original = connectorConfig(settings, names, namespace);
  // Nothing of this name on the worker yet: created.
  expect(await ensureConnector(settings.connectUrl, names.connector, original)).toBe(true);
  expect(await storedConfig()).toEqual({ ...original, name: names.connector });
  expect(await ensureConnector(settings.connectUrl, names.connector, original)).toBe(false);
  await streaming('the new connector to stream');

  // A start with another poll interval (CATALOG_CDC_POLL_MS): the config differs, so it is PUT.
  const pollIntervalMs = settings.pollIntervalMs + 150;
  const changed = connectorConfig({ ...settings, pollIntervalMs }, names, namespace);
  expect(changed['poll.interval.ms']).not.toBe(original['poll.interval.ms']);
  expect(await ensureConnector(settings.connectUrl, names.connector, changed)).toBe(true);
  // Connect holds the new config, the next start with it changes nothing ...
  expect(await storedConfig()).toEqual({ ...changed, name: names.connector });
  expect(await ensureConnector(settings.connectUrl, names.connector, changed)).toBe(false);
  // ... the task is reconfigured with it (Connect restarts it) and streams again from its slot.
  await waitFor(async () => (await taskConfigs()).every((c) => c['poll.interval.ms'] === String(pollIntervalMs)) || null, {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: `the task to be given poll.interval.ms ${pollIntervalMs}`,
  });
  expect(await taskConfigs()).toHaveLength(1);
  await streaming('the updated connector to stream again');

  // A row written after the update reaches the contract's topic.
  const id = `after-update-${Date.now().toString(36)}`;
  await db.query(`INSERT INTO ${productsTable(namespace)} (id, name, category, price_cents) VALUES ($1, 'Spelt flour', 'pantry', 420)`, [id]);
  const seen: unknown[] = [];
  consumer = createKafka(kafkaConfigFromEnv()).consumer({ groupId: uniqueName('cdc-connector-read') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(CATALOG_PRODUCTS_CDC_TOPIC.fromRecord!(message.key, message.value)) });
  const event = (await waitFor(() => seen.find((e) => (e as { payload?: { id?: string } } | null)?.payload?.id === id), {
    timeoutMs: 60_000,
    what: `the row ${id} on ${topic}`,
  })) as { type: string; payload: { op: string; row: Record<string, unknown> } };
  expect(event.type).toBe('ProductRowUpserted');
  expect(event.payload).toMatchObject({ op: 'c', row: { id, name: 'Spelt flour', category: 'pantry', price_cents: 420 } });
});
