// Reads whole test views back from Redis and compares them with an independent fold.
import type Redis from 'ioredis';
import { ORDERS_TOPIC, type OrdersEvent } from '../../schema/events';
import { partitionKeys } from '../../subgraphs/runtime/keys';
import { foldAll, type EventPosition, type Projection } from '../../subgraphs/runtime/projection';
import { createViewReader } from '../../subgraphs/runtime/viewReader';

/** Reads every entity the truth names (plus reports extras) from the live generation. */
export async function readView<S>(
  redis: Redis,
  projection: Projection<typeof ORDERS_TOPIC, S>,
  topic: string,
  partitions: number,
  ids: readonly string[],
): Promise<Map<string, S>> {
  const reader = await createViewReader({ redis, projection, topic, partitions });
  try {
    const states = await reader.getMany(ids);
    const out = new Map<string, S>();
    ids.forEach((id, i) => {
      const s = states[i];
      if (s !== undefined) out.set(id, s);
    });
    return out;
  } finally {
    await reader.close();
  }
}

/**
 * The truth for a view: for keyed views a plain fold in log order; for spread views the
 * per-partition folds combined, as the runtime stores them.
 */
export function truthOf<S>(
  projection: Projection<typeof ORDERS_TOPIC, S>,
  log: ReadonlyArray<{ event: OrdersEvent; at: EventPosition }>,
): Map<string, S> {
  const sorted = [...log].sort((a, b) => a.at.partition - b.at.partition || a.at.offset - b.at.offset);
  if (!projection.combine) return foldAll(projection, sorted);
  const partitions = [...new Set(sorted.map((e) => e.at.partition))];
  const parts = partitions.map((p) => foldAll(projection, sorted.filter((e) => e.at.partition === p)));
  const out = new Map<string, S>();
  const ids = new Set(parts.flatMap((m) => [...m.keys()]));
  for (const id of ids) out.set(id, projection.combine(parts.flatMap((m) => (m.has(id) ? [m.get(id)!] : []))));
  return out;
}

/** Sum of the checkpoints + 1 over partitions: how many records a view has passed. */
export async function appliedCount(redis: Redis, view: string, topic: string, partitions: number, gen = 'g0'): Promise<number> {
  let n = 0;
  for (let p = 0; p < partitions; p++) {
    const cp = await redis.get(partitionKeys(view, gen, topic, p).checkpoint);
    if (cp !== null) n += Number(cp) + 1;
  }
  return n;
}
