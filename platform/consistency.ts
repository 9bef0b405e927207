// Consistency tokens: where a mutation's events were written (topic, partition, offset).
// A later request that carries one waits, bounded, until the views it reads have applied
// those positions, so a client reads its own writes across subgraphs.

/** Where a produced record was written: what read-your-writes and consistency tokens wait for. */
export interface WrittenAt {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The header a client (through the gateway) sends a token back in. */
export const CONSISTENCY_HEADER = 'x-consistency-token';

/** Highest offset per topic-partition: waiting for it covers every earlier write. */
export function mergePositions(positions: readonly WrittenAt[]): WrittenAt[] {
  const top = new Map<string, WrittenAt>();
  for (const p of positions) {
    const k = `${p.topic}\u0000${p.partition}`;
    const cur = top.get(k);
    if (!cur || cur.offset < p.offset) top.set(k, p);
  }
  return [...top.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

export function encodeConsistencyToken(positions: readonly WrittenAt[]): string {
  return Buffer.from(JSON.stringify(mergePositions(positions).map((p) => [p.topic, p.partition, p.offset]))).toString('base64url');
}

/** Parses a token; anything malformed is an error the caller reports as BAD_USER_INPUT. */
export function decodeConsistencyToken(token: string): WrittenAt[] {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`${CONSISTENCY_HEADER} is not a token this gateway issued`);
  }
  if (!Array.isArray(raw) || raw.length > 1000) throw new Error(`${CONSISTENCY_HEADER} is not a token this gateway issued`);
  return raw.map((p) => {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || !Number.isInteger(p[1]) || !Number.isInteger(p[2]))
      throw new Error(`${CONSISTENCY_HEADER} is not a token this gateway issued`);
    return { topic: p[0], partition: p[1], offset: p[2] };
  });
}
