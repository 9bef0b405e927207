// Which declared topic tells a new subgraph that an entity of another team exists: the
// contract whose records are keyed by the entity's id and which has event types named for it
// (`ProductUpserted` on `catalog.products`). Found from the declarations, never from a list
// here, so when the owner moves the entity to another topic (a CDC feed, say) the scaffold
// follows its contract.
import * as events from '../../schema/events';
import { ContractViolation, debeziumRecord, validateEvent } from '../../schema/events';
import type { TopicContract } from '../../schema/events';
import type { SubgraphDeclaration } from '../../subgraphs/runtime/declaration';
import { declaredTopics } from '../declarations';
import type { ExtendedNames } from './names';

/** The topic whose events say which entities of a type exist, as the scaffold imports it. */
export interface Carrier {
  readonly contract: TopicContract;
  /** Its export from schema/events (`CATALOG_PRODUCTS_TOPIC`). */
  readonly exportName: string;
  /** The payload field holding the entity's id (`productId`). */
  readonly idField: string;
  /**
   * Whether that field is the record key: then a lookup reads one partition. Otherwise (a CDC
   * topic keyed by Debezium's key, say) one entity's records still share a partition, but which
   * one the id alone does not say, so a lookup asks every partition.
   */
  readonly keyedById: boolean;
  /** Event types that make an entity known (`ProductUpserted`). */
  readonly creates: readonly string[];
  /** Event types that make it unknown again (`ProductDeleted`, `ProductRowDeleted`). */
  readonly deletes: readonly string[];
  /**
   * A payload of `creates[0]` the contract accepts, for the generated test; null when none
   * could be built, or when the topic's records are written by another system in its own
   * format (`fromRecord`), so an envelope published by a test would not be read.
   */
  readonly sample: Record<string, unknown> | null;
  /**
   * For a topic of Debezium changes (its contract reads them with `fromRecord`): a row image
   * whose change (`debeziumRecord`, op c, keyed by `idField`) the contract turns into one of
   * `creates`, so the generated tests can write a change as the owner's database would. Null
   * otherwise.
   */
  readonly debeziumRow: Record<string, unknown> | null;
}

/** Event types of `contract` named for `type`: the type's name followed by a capital (`ProductUpserted`, `ProductRowDeleted`). */
const eventsOf = (contract: TopicContract, type: string) =>
  Object.keys(contract.events).filter((t) => t.startsWith(type) && /^[A-Z]/.test(t.slice(type.length)));
const DELETION = /(Deleted|Removed)$/;

/**
 * The carrier of `ext`, or why there is none (the subgraph is then generated without the
 * existence check): a declared topic with event types named for the type whose payload names
 * the entity by its id. Among several, the one a subgraph that resolves the type folds wins
 * (its owner serves the type from it), then the one such a subgraph owns, then one keyed by the id.
 */
export function findCarrier(ext: ExtendedNames, resolvedBy: readonly string[], declarations: readonly SubgraphDeclaration[]): Carrier | string {
  const idFields = [ext.idField, ext.keyField];
  const candidates = declaredTopics(declarations).flatMap((contract) => {
    const named = eventsOf(contract, ext.type);
    const creates = named.filter((e) => !DELETION.test(e));
    if (!creates.length) return [];
    const probe = probePayload(contract, creates[0]);
    const idField = idFields.find((f) => f === contract.keyedBy) ?? idFields.find((f) => probe.fields.has(f));
    return idField ? [{ contract, creates, deletes: named.filter((e) => DELETION.test(e)), idField, probe }] : [];
  });
  if (!candidates.length)
    return `no declared topic carries ${ext.type} (event types named ${ext.type}… whose payload holds ${idFields.join(' or ')})`;
  const owners = declarations.filter((d) => resolvedBy.includes(d.name));
  const folded = new Set(owners.flatMap((d) => Object.values(d.views).map((v) => v.topic.name)));
  const rank = (c: (typeof candidates)[number]) =>
    (folded.has(c.contract.name) ? 0 : 4) + (resolvedBy.includes(c.contract.owner) ? 0 : 2) + (c.contract.keyedBy === c.idField ? 0 : 1);
  const best = [...candidates].sort((a, b) => rank(a) - rank(b))[0];
  const { contract } = best;
  // The new subgraph may import schema/events but no other subgraph's folder.
  const exportName = Object.entries(events).find(
    ([, v]) => typeof v === 'object' && v !== null && (v as Partial<TopicContract>).name === contract.name && 'events' in v,
  )?.[0];
  if (!exportName)
    return `${contract.name} carries ${ext.type}, but its contract is not exported from schema/events (it is the ${contract.owner} subgraph's own), and a subgraph imports no other subgraph's folder; once it is promoted into schema/events, scaffold again or add the view by hand`;
  const ownFormat = typeof (contract as { fromRecord?: unknown }).fromRecord === 'function';
  return {
    contract,
    exportName,
    idField: best.idField,
    keyedById: contract.keyedBy === best.idField,
    creates: best.creates,
    deletes: best.deletes,
    sample: ownFormat ? null : best.probe.sample,
    debeziumRow: ownFormat ? probeDebeziumRow(contract, best.creates, best.idField) : null,
  };
}

const SAMPLE_TIME = '2026-01-01T00:00:00.000Z';

/** A value the failed expectation accepts, or undefined when the scaffold cannot tell. */
function sampleValue(expected: string): unknown {
  if (expected === 'an object') return {};
  if (expected === 'an array') return [];
  if (expected === 'an ISO-8601 time') return SAMPLE_TIME;
  if (expected === 'an integer') return 0;
  if (expected === 'a string') return 'x';
  let m = /^a string of (\d+) to \d+ characters$/.exec(expected);
  if (m) return 'x'.repeat(Math.max(1, Number(m[1])));
  m = /^an integer from (-?\d+) to/.exec(expected);
  if (m) return Number(m[1]);
  m = /^one of ([^,]+)/.exec(expected);
  if (m) return m[1];
  m = /^an array of (\d+) to \d+ items$/.exec(expected);
  if (m) return Array.from({ length: Number(m[1]) }, () => ({}));
  return undefined;
}

/** Sets `path` (`payload.items[0].productId`) in `root`; false when the path is not one to follow. */
function setPath(root: Record<string, unknown>, path: string, value: unknown): boolean {
  const steps = [...path.replace(/^payload/, '').matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]));
  if (!steps.length) return false;
  let at: any = root;
  for (const step of steps.slice(0, -1)) {
    if (typeof at !== 'object' || at === null) return false;
    at = at[step];
  }
  if (typeof at !== 'object' || at === null) return false;
  at[steps[steps.length - 1]] = value;
  return true;
}

/**
 * A payload the contract accepts, found by asking its check: each violation names a path and
 * what it expected, and a value that satisfies it is filled in. Only required fields appear.
 * `fields` are the top-level fields the check asked for, even when no payload was found.
 */
export function probePayload(contract: TopicContract, type: string): { sample: Record<string, unknown> | null; fields: Set<string> } {
  const check = contract.events[type].payload;
  const payload: Record<string, unknown> = { [contract.keyedBy]: 'sample' };
  const fields = new Set<string>([contract.keyedBy]);
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      check(payload, 'payload');
      return { sample: payload, fields };
    } catch (e) {
      if (!(e instanceof ContractViolation)) return { sample: null, fields };
      const top = /^payload\.([^.[]+)/.exec(e.path);
      if (top) fields.add(top[1]);
      const value = sampleValue(e.expected);
      if (value === undefined || !setPath(payload, e.path, value)) return { sample: null, fields };
    }
  }
  return { sample: null, fields };
}

/**
 * A row image the contract accepts as a Debezium insert, found like probePayload: each
 * violation of `after.<column>` says what the column expects. Null when the contract does not
 * read Debezium changes, or asks for something the probe cannot tell.
 */
export function probeDebeziumRow(contract: TopicContract, creates: readonly string[], keyColumn: string): Record<string, unknown> | null {
  const fromRecord = (contract as { fromRecord?: (key: Buffer | null, value: Buffer | null) => unknown }).fromRecord;
  if (typeof fromRecord !== 'function') return null;
  const id = 'sample';
  const row: Record<string, unknown> = { [keyColumn]: id };
  for (let attempt = 0; attempt < 100; attempt++) {
    const record = debeziumRecord({ key: { [keyColumn]: id }, op: 'c', lsn: 1, after: row });
    try {
      const event = validateEvent(contract, fromRecord(record.key, record.value));
      return creates.includes(event.type) ? row : null;
    } catch (e) {
      if (!(e instanceof ContractViolation)) return null;
      const column = /^after\.([^.[]+)$/.exec(e.path)?.[1];
      // A missing column is reported as missing first; null lets its own check say what it wants.
      const value = e.expected.startsWith('the column') ? null : sampleValue(e.expected);
      if (column === undefined || value === undefined || (value === null && column in row)) return null;
      row[column] = value;
    }
  }
  return null;
}
