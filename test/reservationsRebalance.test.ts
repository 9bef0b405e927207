// The store's inventory writer moving between catalog instances while orders compete for the
// last units (docs/reservations.md). The catalog runs as processes of one namespace, so the
// inventory view, the router and the outcome relay are each one consumer group with a member per
// instance, and each store's decisions are made by whichever instance holds its partition:
//
// 1. catalog-a and catalog-b each hold partitions of the three groups; store X is on catalog-a,
//    store Y on catalog-b, 10 loaves each. 5 orders at each store; as soon as both instances
//    have reserved at their store, catalog-a is SIGKILLed and 45 more orders go to X while X's
//    writer is dead (its partitions move to catalog-b once the broker drops catalog-a: 6 s
//    sessions). catalog-c starts at the kill: its joining rebalances every group again, around
//    the time catalog-b takes X's partitions over (before or after it: not checked).
// 2. Once catalog-b and catalog-c both hold partitions: 3 more orders at Y, decided by Y's owner
//    then (catalog-c: kafkajs' round-robin assignor orders members by id, which starts with the
//    client id, so each instance holds the same partitions in every group); it is SIGKILLed as
//    soon as it reserved, and 42 more go to Y while Y's writer is dead. The survivor takes every
//    partition.
//
// Orders go in only while their store's writer is alive and cannot have sold out (at most 8 of
// the 10 asked for), or while it is dead: the orders team's copy of availability cannot show the
// store empty while orders are still being placed, so none is refused early (OUT_OF_STOCK), and
// each of the 100 is decided by a store's writer.
// Checked: exactly 10 reserved per store, 10 CONFIRMED and 40 PARTIALLY_CONFIRMED (1 short); each
// order decided once, by the first request for it in its store's log (the router re-reads after a
// kill; the repeats change nothing), with one decision however often the outcome and
// confirmation relays repeat it; nothing dead-lettered.
import { AssignerProtocol, type Admin, type Consumer, type Kafka } from 'kafkajs';
import {
  CATALOG_INVENTORY_TOPIC,
  CATALOG_RESERVATIONS_TOPIC,
  dlqTopicName,
  ORDERS_TOPIC,
  parseRecord,
  partitionForKey,
  type CatalogInventoryEvent,
  type CatalogReservationsEvent,
  type OrdersEvent,
} from '../schema/events';
import { createLogger } from '../platform/logger';
import { inventoryProjection, isLevel, isReservation, levelEntityId, reservationEntityId, type InventoryEntity } from '../subgraphs/catalog/projection';
import { startOrdersSubgraph, type OrdersSubgraphHandle } from '../subgraphs/orders';
import { INVENTORY_ACTOR } from '../subgraphs/orders/reservationRelay';
import { createViewReader, type ViewReader } from '../subgraphs/runtime/viewReader';
import { gql, TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { publishProductChange } from './support/catalogDatabase';
import { createNamespace } from './support/namespace';
import { decided, placeConcurrently, publishStock, type Placed } from './support/reservations';
import { startSubgraphProcess, type SubgraphProcess } from './support/subgraphProcess';
import { uniqueName, waitFor } from './support/waitFor';

const LOAF = 'p-loaf';
const STOCK = 10;
const PARTITIONS = CATALOG_INVENTORY_TOPIC.partitions;

let namespace: string;
let orders: OrdersSubgraphHandle;
let admin: Admin;
let reader: ViewReader<InventoryEntity>;
let topics: TopicLog;
const catalogs = new Map<string, SubgraphProcess>();

/** A catalog instance of this namespace; its client id names its members in the consumer groups. */
async function startCatalog(clientId: string): Promise<SubgraphProcess> {
  const p = await startSubgraphProcess('catalog', {
    STREAMGRAPH_NAMESPACE: namespace,
    GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_CLIENT_ID: clientId,
  });
  catalogs.set(clientId, p);
  return p;
}

/** The consumer groups that decide and publish reservations, with the topic each reads. */
const reservationGroups = () => [
  { groupId: `${namespace}catalog.${inventoryProjection.name}`, topic: `${namespace}${CATALOG_INVENTORY_TOPIC.name}` },
  { groupId: `${namespace}catalog.reservationRouter`, topic: `${namespace}${ORDERS_TOPIC.name}` },
  { groupId: `${namespace}catalog.reservationOutcomes`, topic: `${namespace}${CATALOG_INVENTORY_TOPIC.name}` },
];

/** Each member's partitions of `topic`, by client id. */
async function assignment(groupId: string, topic: string): Promise<{ state: string; owners: Map<string, number[]> }> {
  const { groups } = await admin.describeGroups([groupId]);
  const owners = new Map<string, number[]>();
  for (const m of groups[0].members) {
    const decoded = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
    owners.set(m.clientId, [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b));
  }
  return { state: groups[0].state, owners };
}

/** Waits until every reservation group is stable with exactly `members`, each holding partitions; returns the inventory view's owners. */
async function settledOn(members: readonly string[], what: string): Promise<Map<string, number[]>> {
  return waitFor(
    async () => {
      let inventory: Map<string, number[]> | undefined;
      for (const { groupId, topic } of reservationGroups()) {
        const { state, owners } = await assignment(groupId, topic);
        const held = [...owners].map(([m, ps]) => `${m}:[${ps.join(',')}]`).join(' ');
        if (state !== 'Stable' || owners.size !== members.length || !members.every((m) => (owners.get(m)?.length ?? 0) > 0))
          throw new Error(`${groupId} is ${state} with ${held || 'no members'}`);
        inventory ??= owners;
      }
      return inventory;
    },
    { what, timeoutMs: 60_000, intervalMs: 200 },
  );
}

const ownerOf = (owners: Map<string, number[]>, partition: number) => [...owners].find(([, ps]) => ps.includes(partition))?.[0];

/** A store id whose catalog.inventory partition is one of `partitions`. */
function storeOn(partitions: readonly number[], label: string): string {
  for (let i = 0; ; i++) {
    const id = `s-${label}-${i}`;
    if (partitions.includes(partitionForKey(id, PARTITIONS))) return id;
  }
}

async function level(storeId: string) {
  const [l] = await reader.getMany([levelEntityId(storeId, LOAF)]);
  return isLevel(l) ? l : undefined;
}
const reservedAt = async (storeId: string) => (await level(storeId))?.reserved ?? 0;

interface Logged<E> {
  readonly partition: number;
  readonly offset: number;
  readonly event: E;
}
interface TopicLog {
  readonly inventory: Logged<CatalogInventoryEvent>[];
  readonly reservations: Logged<CatalogReservationsEvent>[];
  readonly orders: Logged<OrdersEvent>[];
  /** Resolves once everything written to the three topics so far has been read. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

/** Reads catalog.inventory, catalog.reservations and orders from their beginnings, for the whole test. */
async function readTopics(kafka: Kafka): Promise<TopicLog> {
  const names = { inventory: `${namespace}${CATALOG_INVENTORY_TOPIC.name}`, reservations: `${namespace}${CATALOG_RESERVATIONS_TOPIC.name}`, orders: `${namespace}${ORDERS_TOPIC.name}` };
  const log: Pick<TopicLog, 'inventory' | 'reservations' | 'orders'> = { inventory: [], reservations: [], orders: [] };
  const next = new Map<string, number>();
  const groupId = uniqueName('reservations-rebalance-reader');
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(names), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const at = { partition, offset: Number(message.offset) };
      if (topic === names.inventory) {
        const event = parseRecord(CATALOG_INVENTORY_TOPIC, message.key, message.value);
        if (event) log.inventory.push({ ...at, event });
      } else if (topic === names.reservations) {
        const event = parseRecord(CATALOG_RESERVATIONS_TOPIC, message.key, message.value);
        if (event) log.reservations.push({ ...at, event });
      } else {
        const event = parseRecord(ORDERS_TOPIC, message.key, message.value);
        if (event) log.orders.push({ ...at, event });
      }
      next.set(`${topic}:${partition}`, at.offset + 1);
    },
  });
  return {
    ...log,
    async caughtUp() {
      await waitFor(
        async () => {
          for (const topic of Object.values(names))
            for (const o of await admin.fetchTopicOffsets(topic)) if ((next.get(`${topic}:${o.partition}`) ?? 0) < Number(o.high)) return false;
          return true;
        },
        { what: 'the test to read the reservation topics to their ends', timeoutMs: 30_000, intervalMs: 100 },
      );
    },
    async close() {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    },
  };
}

/**
 * The decisions a store's log implies, folded here independently of the catalog: the report sets
 * the stock, and the first request for an order (in the partition's log order) takes what is
 * left; a later request for the same order (the router re-read it) changes nothing.
 */
function decisionsInLog(storeId: string) {
  const partition = partitionForKey(storeId, PARTITIONS);
  const records = topics.inventory.filter((r) => r.partition === partition && r.event.payload.storeId === storeId).sort((a, b) => a.offset - b.offset);
  const first = new Map<string, { reserved: number; offset: number }>();
  let available: number | null = null;
  let repeats = 0;
  for (const { event: e, offset } of records) {
    if (e.type === 'InventoryReported') available = e.payload.quantity - [...first.values()].reduce((a, d) => a + d.reserved, 0);
    if (e.type !== 'ReservationRequested') continue;
    if (available === null) throw new Error(`${storeId}: a request at offset ${offset} before the stock report`);
    if (first.has(e.payload.orderId)) {
      repeats++;
      continue;
    }
    const reserved = Math.min(e.payload.items[0].quantity, available);
    available -= reserved;
    first.set(e.payload.orderId, { reserved, offset });
  }
  return { partition, first, repeats };
}

beforeAll(async () => {
  // Short: the catalog's replication slot name, built from the namespace, has 63 characters at most.
  namespace = await createNamespace('res-rebalance');
  // All settled before going on, so afterAll stops whatever did start.
  const starts = await Promise.allSettled([
    startOrdersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0, sessionTimeoutMs: 6000, logger: createLogger('reservations-rebalance', process.env.LOG_LEVEL ?? 'warn') }).then((o) => (orders = o)),
    startCatalog('catalog-a'),
    startCatalog('catalog-b'),
  ]);
  for (const s of starts) if (s.status === 'rejected') throw s.reason;
  admin = orders.runtime.kafka.admin();
  await admin.connect();
  topics = await readTopics(orders.runtime.kafka);
  reader = await createViewReader({
    redis: orders.runtime.redis,
    projection: { ...inventoryProjection, name: `${namespace}${inventoryProjection.name}` },
    topic: `${namespace}${CATALOG_INVENTORY_TOPIC.name}`,
    partitions: PARTITIONS,
  });
  const at = await publishProductChange(orders.runtime.kafka, namespace, { productId: LOAF, name: 'Sourdough loaf', category: 'bakery', priceCents: 450 });
  await orders.views.prices.handle.waitFor(at.partition, at.offset, 30_000);
}, 120_000);

afterAll(async () => {
  await Promise.all([...catalogs.values()].map((c) => c.stop()));
  await topics?.close();
  await reader?.close();
  await admin?.disconnect();
  await orders?.close();
});

it('two instances, one SIGKILLed and a third joining and SIGKILLed in turn: 50 orders for 10 loaves at each of two stores, each decided once, 10 reserved', async () => {
  const started = Date.now();
  const first = await settledOn(['catalog-a', 'catalog-b'], 'catalog-a and catalog-b to hold partitions of the inventory view, the router and the outcome relay');
  const X = storeOn(first.get('catalog-a')!, 'x');
  const Y = storeOn(first.get('catalog-b')!, 'y');
  await Promise.all([publishStock(orders.runtime.kafka, namespace, X, { [LOAF]: STOCK }), publishStock(orders.runtime.kafka, namespace, Y, { [LOAF]: STOCK })]);
  await waitFor(async () => (await level(X))?.quantity === STOCK && (await level(Y))?.quantity === STOCK, { what: 'the writers to apply both reports' });
  await waitFor(async () => (await orders.views.stores.reader.getMany([X, Y])).every(Boolean), { what: 'the orders view to know both stores' });

  // 1. Both instances decide; catalog-a dies with X's orders in flight, catalog-c joins.
  const firstX = placeConcurrently(orders.url, X, LOAF, 5, 'rebalance-x1');
  const firstY = placeConcurrently(orders.url, Y, LOAF, 5, 'rebalance-y1');
  await waitFor(async () => (await reservedAt(X)) > 0 && (await reservedAt(Y)) > 0, { what: 'catalog-a and catalog-b to reserve at their stores', intervalMs: 5, timeoutMs: 30_000 });
  await catalogs.get('catalog-a')!.kill();
  const killedA = Date.now();
  const joining = startCatalog('catalog-c');
  const placedX: Placed[] = [...(await firstX), ...(await placeConcurrently(orders.url, X, LOAF, 45, 'rebalance-x2'))];
  const placedXMs = Date.now() - killedA;
  const placedY: Placed[] = [...(await firstY)];
  await joining;
  const second = await settledOn(['catalog-b', 'catalog-c'], 'catalog-b and catalog-c to hold partitions after catalog-a died and catalog-c joined');
  const settledMs = Date.now() - killedA;

  // 2. Y's owner now decides a few, and dies with the rest of Y's orders in flight.
  const yOwner = ownerOf(second, partitionForKey(Y, PARTITIONS))!;
  const survivor = yOwner === 'catalog-b' ? 'catalog-c' : 'catalog-b';
  await waitFor(async () => (await reservedAt(Y)) === 5, { what: "Y's first 5 orders to be reserved", timeoutMs: 30_000 });
  const secondY = placeConcurrently(orders.url, Y, LOAF, 3, 'rebalance-y2');
  await waitFor(async () => (await reservedAt(Y)) > 5, { what: `${yOwner} to reserve at Y`, intervalMs: 5, timeoutMs: 30_000 });
  await catalogs.get(yOwner)!.kill();
  const killedOwner = Date.now();
  placedY.push(...(await secondY), ...(await placeConcurrently(orders.url, Y, LOAF, 42, 'rebalance-y3')));
  const placedYMs = Date.now() - killedOwner;

  // Not one refused or failed: each was placed while its store's copy still showed loaves.
  expect([...placedX, ...placedY].filter((p) => p.result.errors).map((p) => p.result.errors)).toEqual([]);
  const idsX = placedX.map((p) => p.result.data!.placeOrder.id as string);
  const idsY = placedY.map((p) => p.result.data!.placeOrder.id as string);
  expect([idsX.length, idsY.length]).toEqual([50, 50]);

  await settledOn([survivor], `${survivor} to hold every partition`);
  await waitFor(async () => (await reservedAt(X)) === STOCK && (await reservedAt(Y)) === STOCK, { what: '10 reserved at each store', timeoutMs: 60_000 });
  const all = await decided(orders.url, [...idsX, ...idsY], 60_000);
  const decidedMs = Date.now() - killedOwner;
  await topics.caughtUp();

  const survivorUrl = catalogs.get(survivor)!.url;
  const stats: Record<string, unknown> = {};
  for (const [store, ids] of [
    [X, idsX],
    [Y, idsY],
  ] as const) {
    const mine = all.filter((o) => ids.includes(o.id));
    // Exactly 10 held, 10 orders CONFIRMED and 40 short by their one unit.
    expect(mine.reduce((a, o) => a + (o.items[0].reserved ?? 0), 0)).toBe(STOCK);
    expect(mine.filter((o) => o.status === 'CONFIRMED')).toHaveLength(STOCK);
    for (const o of mine) {
      if (o.status === 'CONFIRMED') expect(o.items[0]).toMatchObject({ reserved: 1, short: 0 });
      else expect([o.status, o.items[0].reserved, o.items[0].short]).toEqual(['PARTIALLY_CONFIRMED', 0, 1]);
    }
    const { quantity, reserved, available } = (await level(store))!;
    expect({ quantity, reserved, available }).toEqual({ quantity: STOCK, reserved: STOCK, available: 0 });
    const api = await gql(survivorUrl, `query($s: ID!) { product(id: "${LOAF}") { availability(storeId: $s) { quantity reserved available } } }`, { s: store });
    expect(api.data?.product?.availability).toEqual({ quantity: STOCK, reserved: STOCK, available: 0 });

    // Each order was decided by the first request for it in the store's log, whichever instance
    // folded it: the orders' outcomes are those of folding the log here.
    const log = decisionsInLog(store);
    expect([...log.first.keys()].sort()).toEqual([...ids].sort());
    const fromLog = (id: string) => log.first.get(id)!.reserved;
    expect(mine.filter((o) => o.items[0].reserved !== fromLog(o.id)).map((o) => o.id)).toEqual([]);

    // The writer recorded one decision per order, at that first request.
    const entities = await reader.getMany(ids.map((id) => reservationEntityId(store, id)));
    const recorded = entities.map((r, i) =>
      isReservation(r) ? { state: r.state, reserved: r.items[0].reserved, position: { partition: r.position.partition, offset: r.position.offset } } : { missing: ids[i] },
    );
    expect(recorded).toEqual(ids.map((id) => ({ state: 'HELD', reserved: fromLog(id), position: { partition: log.partition, offset: log.first.get(id)!.offset } })));

    // The outcome relay may write a decision more than once (a kill between its write and its
    // commit), and the confirmation relay may repeat it onto orders: always the same decision.
    const outcomes = new Map<string, string[]>();
    for (const { event: e } of topics.reservations)
      if (e.type === 'ReservationDecided' && e.payload.storeId === store) outcomes.set(e.payload.orderId, [...(outcomes.get(e.payload.orderId) ?? []), JSON.stringify(e.payload.items)]);
    const confirmations = new Map<string, string[]>();
    for (const { event: e } of topics.orders)
      if (e.type === 'OrderStatusChanged' && e.payload.by === INVENTORY_ACTOR && e.payload.storeId === store)
        confirmations.set(e.payload.orderId, [...(confirmations.get(e.payload.orderId) ?? []), `${e.payload.to} ${JSON.stringify(e.payload.reservation)}`]);
    for (const id of ids) {
      const decision = [{ productId: LOAF, quantity: 1, reserved: fromLog(id) }];
      expect([id, [...new Set(outcomes.get(id))]]).toEqual([id, [JSON.stringify(decision)]]);
      expect([id, [...new Set(confirmations.get(id))]]).toEqual([id, [`${fromLog(id) === 1 ? 'CONFIRMED' : 'PARTIALLY_CONFIRMED'} ${JSON.stringify(decision)}`]]);
    }
    const count = (m: Map<string, string[]>) => [...m.values()].reduce((a, v) => a + v.length, 0);
    stats[store] = { partition: log.partition, requests: log.first.size + log.repeats, repeatedRequests: log.repeats, outcomes: count(outcomes), confirmations: count(confirmations) };
  }

  // Nothing dead-lettered on the way.
  for (const topic of [CATALOG_INVENTORY_TOPIC, CATALOG_RESERVATIONS_TOPIC, ORDERS_TOPIC]) {
    const ends = await admin.fetchTopicOffsets(dlqTopicName(`${namespace}${topic.name}`));
    expect([topic.name, ends.reduce((a, o) => a + Number(o.high), 0)]).toEqual([topic.name, 0]);
  }
  console.log(
    `reservations rebalance: X on catalog-a, Y on catalog-b then ${yOwner}, survivor ${survivor}; X's 45 placed ${placedXMs} ms after catalog-a's kill, ` +
      `b+c settled after ${settledMs} ms; Y's 42 placed ${placedYMs} ms after ${yOwner}'s kill, all decided after ${decidedMs} ms; test body ${Date.now() - started} ms; ${JSON.stringify(stats)}`,
  );
}, 180_000);
