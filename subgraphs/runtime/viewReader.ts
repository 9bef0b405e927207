// Reads a projected view from Redis: entities by id (one pipelined round trip for any
// number of ids) and index pages, always from the live generation.
import type { Cluster, Redis } from 'ioredis';
import { partitionForKey, type TopicContract } from '../../schema/events';
import { watchGeneration, type GenerationWatch } from './generation';
import { partitionKeys } from './keys';
import { createSubscriber } from '../../platform/subscriber';
import type { Projection } from './projection';
import { appliedFloor } from './requestScope';

export interface IndexPage {
  readonly ids: string[];
  /** Each id's own cursor (pass one as `after` to continue right after that member). */
  readonly cursors: string[];
  /** Pass as `after` to get the next page; null on the last page. */
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

export interface ViewReader<S> {
  /** States in the order of `ids`; undefined where an entity does not exist. */
  getMany(ids: readonly string[]): Promise<(S | undefined)[]>;
  /**
   * Members of an index ordered by (score, id), from one partition when `recordKey` names
   * the partition that holds it, else merged from all partitions.
   */
  indexPage(index: string, opts: { first: number; after?: string | null; recordKey?: string }): Promise<IndexPage>;
  /** Members of each index over all partitions (or the one holding `recordKey`), in one round trip. */
  indexSizes(indexes: readonly string[], opts?: { recordKey?: string }): Promise<number[]>;
  /** Redis round trips made so far (tests bound them). */
  roundTrips(): number;
  generation(): string;
  close(): Promise<void>;
}

export interface ViewReaderOptions<C extends TopicContract, S> {
  readonly redis: Redis | Cluster;
  readonly projection: Projection<C, S>;
  readonly topic: string;
  readonly partitions: number;
  /** Follow generation switches; false reads a fixed generation. */
  readonly generation?: string;
  /**
   * Read-your-writes: a read inside a request that saw this view apply its write found the
   * partition's checkpoint (read atomically with the entities) below that write. Waits until
   * the view has applied it again; the read is then repeated.
   */
  readonly awaitApplied?: (partition: number, offset: number, seen: number | null) => Promise<void>;
}

/** How often a read-your-writes read waits for a view that went back before it gives up. */
const BEHIND_ATTEMPTS = 3;

/** A page cursor that did not come from this index (or was tampered with). Not retriable. */
export class InvalidCursorError extends Error {
  constructor(cursor: string) {
    super(`invalid cursor ${JSON.stringify(cursor.slice(0, 60))}: pass an endCursor or edge cursor from a previous page`);
    this.name = 'InvalidCursorError';
  }
}

const encodeCursor = (score: number, id: string) => Buffer.from(JSON.stringify([score, id])).toString('base64url');
function decodeCursor(cursor: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    /* fall through to the error below */
  }
  throw new InvalidCursorError(cursor);
}

type Command = readonly [name: string, ...args: Array<string | number>];

/**
 * Runs commands on keys of many partitions in one round trip. A standalone Redis takes
 * one pipeline; a Cluster refuses pipelines across slots, so there each command goes on
 * its own (ioredis sends the commands for one node together).
 */
async function runAll(redis: Redis | Cluster, commands: readonly Command[]): Promise<unknown[]> {
  if ('nodes' in redis && typeof redis.nodes === 'function')
    return Promise.all(commands.map(([name, ...args]) => redis.call(name, ...args)));
  const pipeline = redis.pipeline();
  for (const [name, ...args] of commands) pipeline.call(name, ...args);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

export async function createViewReader<C extends TopicContract, S>(opts: ViewReaderOptions<C, S>): Promise<ViewReader<S>> {
  const { redis, projection, topic, partitions } = opts;
  const view = projection.name;
  let subscriber: Redis | Cluster | null = null;
  let generation: GenerationWatch;
  if (opts.generation) {
    const gen = opts.generation;
    generation = { current: () => gen, refresh: async () => gen, onChange: () => () => undefined, close: async () => undefined };
  } else {
    subscriber = await createSubscriber(redis);
    generation = await watchGeneration(redis, subscriber, view);
  }
  let trips = 0;
  const allPartitions = Array.from({ length: partitions }, (_, p) => p);

  type Behind = { partition: number; offset: number; seen: number | null };
  async function readMany(ids: readonly string[]): Promise<{ states: (S | undefined)[]; behind: Behind[] }> {
    if (ids.length === 0) return { states: [], behind: [] };
    const gen = generation.current();
    // Group ids by the partition(s) that hold them: one MGET per partition slot, all pipelined.
    const byPartition = new Map<number, string[]>();
    for (const id of new Set(ids)) {
      const key = projection.recordKeyOf(id);
      for (const p of key === null ? allPartitions : [partitionForKey(key, partitions)]) {
        const list = byPartition.get(p) ?? [];
        list.push(id);
        byPartition.set(p, list);
      }
    }
    const order = [...byPartition.entries()];
    // The checkpoint shares the entities' slot, so one MGET says which write the states hold.
    const floor = opts.awaitApplied ? appliedFloor(view) : null;
    trips++;
    const results = await runAll(
      redis,
      order.map(([p, list]) => {
        const keys = partitionKeys(view, gen, topic, p);
        const entities = list.map((id) => keys.entity(id));
        return floor?.has(p) ? (['mget', keys.checkpoint, ...entities] as const) : (['mget', ...entities] as const);
      }),
    );
    const parts = new Map<string, S[]>();
    const behind: Behind[] = [];
    order.forEach(([p, list], i) => {
      let values = results[i] as (string | null)[];
      const must = floor?.get(p);
      if (must !== undefined) {
        const seen = values[0] === null ? null : Number(values[0]);
        if (seen === null || seen < must) behind.push({ partition: p, offset: must, seen });
        values = values.slice(1);
      }
      list.forEach((id, j) => {
        const v = values[j];
        if (v === null) return;
        const arr = parts.get(id) ?? [];
        arr.push(JSON.parse(v) as S);
        parts.set(id, arr);
      });
    });
    const states = ids.map((id) => {
      const found = parts.get(id);
      if (!found) return undefined;
      if (projection.recordKeyOf(id) !== null) return found[0];
      if (!projection.combine) throw new Error(`view ${view} spreads ${id} over partitions but has no combine()`);
      return projection.combine(found);
    });
    return { states, behind };
  }

  return {
    roundTrips: () => trips,
    generation: () => generation.current(),
    async getMany(ids) {
      for (let attempt = 1; ; attempt++) {
        const read = await readMany(ids);
        if (read.behind.length === 0 || !opts.awaitApplied || attempt >= BEHIND_ATTEMPTS) return read.states;
        await Promise.all(read.behind.map((b) => opts.awaitApplied!(b.partition, b.offset, b.seen)));
      }
    },
    async indexPage(index, { first, after, recordKey }) {
      const gen = generation.current();
      const from = after ? decodeCursor(after) : null;
      const targets = recordKey === undefined ? allPartitions : [partitionForKey(recordKey, partitions)];
      const commands: Command[] = [];
      for (const p of targets) {
        const key = partitionKeys(view, gen, topic, p).index(index);
        if (from) {
          // Members tied with the cursor's score come back in member order; ties are rare
          // (scores are times or prices), so reading them whole is cheap.
          commands.push(['zrange', key, from[0], from[0], 'BYSCORE', 'WITHSCORES']);
          commands.push(['zrange', key, `(${from[0]}`, '+inf', 'BYSCORE', 'LIMIT', 0, first + 1, 'WITHSCORES']);
        } else {
          commands.push(['zrange', key, '-inf', '+inf', 'BYSCORE', 'LIMIT', 0, first + 1, 'WITHSCORES']);
        }
      }
      trips++;
      const all: Array<[number, string]> = [];
      for (const flat of (await runAll(redis, commands)) as string[][])
        for (let i = 0; i < flat.length; i += 2) all.push([Number(flat[i + 1]), flat[i]]);
      all.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      const rest = from ? all.filter(([s, id]) => s > from[0] || (s === from[0] && id > from[1])) : all;
      const page = rest.slice(0, first);
      const lastItem = page[page.length - 1];
      return {
        ids: page.map(([, id]) => id),
        cursors: page.map(([score, id]) => encodeCursor(score, id)),
        hasNextPage: rest.length > first,
        endCursor: lastItem ? encodeCursor(lastItem[0], lastItem[1]) : null,
      };
    },
    async indexSizes(indexes, opts = {}) {
      if (indexes.length === 0) return [];
      const gen = generation.current();
      const targets = opts.recordKey === undefined ? allPartitions : [partitionForKey(opts.recordKey, partitions)];
      trips++;
      const counts = (await runAll(
        redis,
        indexes.flatMap((index) => targets.map((p) => ['zcard', partitionKeys(view, gen, topic, p).index(index)] as const)),
      )) as number[];
      return indexes.map((_, i) => counts.slice(i * targets.length, (i + 1) * targets.length).reduce((a, n) => a + Number(n), 0));
    },
    async close() {
      await generation.close();
      subscriber?.disconnect();
    },
  };
}
