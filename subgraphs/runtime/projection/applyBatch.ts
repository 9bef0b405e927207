// Step 4, write: the one atomic Redis write of a projection chunk (a Lua script): entity
// states, index changes, the partition checkpoint and freshness meta together, guarded by the
// checkpoint it was folded from, and the change notices published in the same step.
import type { Cluster, Redis } from 'ioredis';
import type { PartitionKeys } from '../keys';

/** One change to a key of the partition's slot. */
export type KeyOp =
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly op: 'del'; readonly key: string }
  | { readonly op: 'zadd'; readonly key: string; readonly score: number; readonly member: string }
  | { readonly op: 'zrem'; readonly key: string; readonly member: string };

export interface BatchWrite {
  readonly keys: PartitionKeys;
  /** The checkpoint the chunk was folded from; null when the partition had none. */
  readonly expectedCheckpoint: number | null;
  readonly newCheckpoint: number;
  readonly meta: { readonly lastEventAt: string | null; readonly appliedAt: number };
  readonly ops: readonly KeyOp[];
  readonly noticeChannel: string;
  readonly notices: readonly string[];
  readonly appliedChannel: string;
  readonly appliedMessage: string;
}

export type BatchWriteResult = { readonly ok: true } | { readonly ok: false; readonly checkpoint: number | null };

// Lua keeps this a single atomic step. KEYS: checkpoint, meta, then every key an op names.
// ARGV: expected, new checkpoint, meta, notice channel, applied channel, applied message,
// op count, ops as 4-tuples (code, key index, a, b), notice count, notices.
const SCRIPT = `
local cur = redis.call('GET', KEYS[1])
local expected = ARGV[1]
if (cur == false and expected ~= '') or (cur ~= false and cur ~= expected) then
  return {'CONFLICT', cur or ''}
end
local n = tonumber(ARGV[7])
local i = 8
for _ = 1, n do
  local code, k, a, b = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3]
  if code == 'S' then redis.call('SET', k, a)
  elseif code == 'D' then redis.call('DEL', k)
  elseif code == 'Z' then redis.call('ZADD', k, a, b)
  elseif code == 'R' then redis.call('ZREM', k, b)
  end
  i = i + 4
end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3]) end
local m = tonumber(ARGV[i])
i = i + 1
for _ = 1, m do
  redis.call('PUBLISH', ARGV[4], ARGV[i])
  i = i + 1
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {'OK', ARGV[2]}
`;

type WithApply = { sgApplyBatch(...args: (string | number)[]): Promise<[string, string]> };

function withScript(redis: Redis | Cluster): WithApply {
  const r = redis as unknown as Partial<WithApply> & (Redis | Cluster);
  if (!r.sgApplyBatch) r.defineCommand('sgApplyBatch', { lua: SCRIPT });
  return r as unknown as WithApply;
}

/** Runs the write; a conflict means another writer moved the checkpoint first: re-read and re-fold. */
export async function applyBatch(redis: Redis | Cluster, w: BatchWrite): Promise<BatchWriteResult> {
  const keys = [w.keys.checkpoint, w.keys.meta];
  const index = new Map<string, number>();
  const keyIndex = (k: string) => {
    let i = index.get(k);
    if (i === undefined) {
      keys.push(k);
      i = keys.length;
      index.set(k, i);
    }
    return i;
  };
  const opArgs: (string | number)[] = [];
  for (const op of w.ops) {
    switch (op.op) {
      case 'set':
        opArgs.push('S', keyIndex(op.key), op.value, '');
        break;
      case 'del':
        opArgs.push('D', keyIndex(op.key), '', '');
        break;
      case 'zadd':
        opArgs.push('Z', keyIndex(op.key), op.score, op.member);
        break;
      case 'zrem':
        opArgs.push('R', keyIndex(op.key), '', op.member);
        break;
    }
  }
  const args: (string | number)[] = [
    keys.length,
    ...keys,
    w.expectedCheckpoint === null ? '' : String(w.expectedCheckpoint),
    String(w.newCheckpoint),
    // A chunk of dead letters only applied nothing: the view's freshness stays what it was.
    w.meta.lastEventAt === null ? '' : JSON.stringify(w.meta),
    w.noticeChannel,
    w.appliedChannel,
    w.appliedMessage,
    w.ops.length,
    ...opArgs,
    w.notices.length,
    ...w.notices,
  ];
  const [status, cp] = await withScript(redis).sgApplyBatch(...args);
  if (status === 'OK') return { ok: true };
  return { ok: false, checkpoint: cp === '' ? null : Number(cp) };
}
