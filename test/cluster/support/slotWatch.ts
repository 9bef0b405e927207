// Watches every command the Redis Cluster's masters execute (MONITOR) and reports each one that
// names keys in more than one hash slot: a Lua script, a multi-key command or a MULTI block. On
// a cluster such a command fails with CROSSSLOT, or, split by a client into one command per
// node, is no longer atomic; either breaks a projection's "entities with their checkpoint".
import Redis from 'ioredis';

export interface SlotWatch {
  /** Multi-key commands and transactions seen so far, by command name. */
  counts(): Record<string, number>;
  /** Each command or transaction whose keys were in several slots. */
  splits(): string[];
  stop(): Promise<void>;
}

const ALL_ARGS_ARE_KEYS = new Set(['mget', 'del', 'unlink', 'exists', 'touch', 'watch', 'sinter', 'sunion', 'sdiff']);
const FIRST_TWO_ARE_KEYS = new Set(['rename', 'renamenx', 'smove', 'lmove', 'rpoplpush', 'copy']);
const SCRIPTS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);
const NO_KEY = new Set(['multi', 'exec', 'discard', 'ping', 'select', 'client', 'info', 'cluster', 'script', 'publish', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'readonly', 'auth', 'hello', 'command', 'scan', 'dbsize', 'memory', 'config', 'time', 'monitor', 'echo']);

export async function watchSlots(masters: readonly number[]): Promise<SlotWatch> {
  const counts: Record<string, number> = {};
  const splits: string[] = [];
  const transactions = new Map<string, { slots: Set<number>; commands: string[] }>();
  const monitors = await Promise.all(
    masters.map(async (port) => {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
      client.on('error', () => undefined);
      await client.connect();
      const monitor = await client.monitor();
      monitor.on('error', () => undefined);
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        // Commands a Lua script runs are checked as the script's keys.
        if (source === 'lua' || args.length === 0) return;
        const name = args[0]!.toLowerCase();
        const tx = transactions.get(`${port}/${source}`);
        if (name === 'multi') return void transactions.set(`${port}/${source}`, { slots: new Set(), commands: [] });
        if (name === 'exec' || name === 'discard') {
          transactions.delete(`${port}/${source}`);
          if (tx && tx.commands.length > 1) {
            counts.multi = (counts.multi ?? 0) + 1;
            if (tx.slots.size > 1) splits.push(`MULTI { ${tx.commands.join('; ')} } on ${port}: slots ${[...tx.slots].join(', ')}`);
          }
          return;
        }
        const keys = keysOf(name, args);
        if (tx) {
          for (const k of keys) tx.slots.add(keySlot(k));
          if (tx.commands.length < 6) tx.commands.push(`${name} ${keys.join(' ')}`);
          return;
        }
        if (keys.length < 2) return;
        counts[name] = (counts[name] ?? 0) + 1;
        const slots = new Set(keys.map(keySlot));
        if (slots.size > 1) splits.push(`${name} ${keys.join(' ')} on ${port}: slots ${[...slots].join(', ')}`);
      });
      return { client, monitor };
    }),
  );
  return {
    counts: () => ({ ...counts }),
    splits: () => [...splits],
    async stop() {
      for (const { client, monitor } of monitors) {
        monitor.disconnect();
        client.disconnect();
      }
    },
  };
}

function keysOf(name: string, args: string[]): string[] {
  if (SCRIPTS.has(name)) return args.slice(3, 3 + Number(args[2] ?? 0));
  if (ALL_ARGS_ARE_KEYS.has(name)) return args.slice(1);
  if (name === 'mset' || name === 'msetnx') return args.slice(1).filter((_, i) => i % 2 === 0);
  if (FIRST_TWO_ARE_KEYS.has(name)) return args.slice(1, 3);
  if (NO_KEY.has(name)) return [];
  return args.length > 1 ? [args[1]!] : [];
}

/** Redis Cluster's slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key, mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
