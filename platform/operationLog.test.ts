// The log of served operations the schema checks read (operationLog.ts): its bounds (distinct
// documents pending between flushes, document size, operations kept), the window
// (REGISTRY_OPERATION_WINDOW_DAYS: nothing older is read or kept), eviction of the least
// recently served, and trimming both keys together. Against the real Redis, each test under
// its own namespace; the environment parsing and key names are pure.
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import pino from 'pino';
import { ConfigError } from './configError';
import {
  createOperationRecorder,
  DEFAULT_OPERATION_WINDOW_MS,
  OPERATION_LOG_LIMITS,
  operationLogKeys,
  operationWindowFromEnv,
  readRecentOperations,
  type OperationRecorder,
} from './operationLog';
import { uniqueName, waitFor } from '../test/support/waitFor';

const DAY = 24 * 3600_000;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ name: 'operation-log-test', level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe('operationWindowFromEnv (REGISTRY_OPERATION_WINDOW_DAYS)', () => {
  it('is 7 days unset or blank, the given whole number of days otherwise', () => {
    expect(operationWindowFromEnv({})).toBe(7 * DAY);
    expect(operationWindowFromEnv({ REGISTRY_OPERATION_WINDOW_DAYS: '  ' })).toBe(7 * DAY);
    expect(DEFAULT_OPERATION_WINDOW_MS).toBe(7 * DAY);
    expect(operationWindowFromEnv({ REGISTRY_OPERATION_WINDOW_DAYS: '1' })).toBe(DAY);
    expect(operationWindowFromEnv({ REGISTRY_OPERATION_WINDOW_DAYS: '30' })).toBe(30 * DAY);
  });

  it('refuses zero, fractions, negatives and words, naming the setting', () => {
    for (const bad of ['0', '1.5', '-2', '7d', 'week'])
      expect(() => operationWindowFromEnv({ REGISTRY_OPERATION_WINDOW_DAYS: bad })).toThrow(
        new ConfigError(`REGISTRY_OPERATION_WINDOW_DAYS="${bad}" is not a whole number of at least 1; set it like REGISTRY_OPERATION_WINDOW_DAYS=7 or unset it for the default (7)`),
      );
  });
});

describe('operationLogKeys', () => {
  it('puts both keys of a namespace under one hash tag (one Redis Cluster slot, for the trim script) and apart from other namespaces', () => {
    const a = operationLogKeys('ns-a.');
    expect(a).toEqual({ seen: '{sg:ops:ns-a.}:seen', docs: '{sg:ops:ns-a.}:docs' });
    expect(operationLogKeys()).toEqual({ seen: '{sg:ops:}:seen', docs: '{sg:ops:}:docs' });
    const b = operationLogKeys('ns-b.');
    expect([b.seen, b.docs].some((k) => k === a.seen || k === a.docs)).toBe(false);
  });
});

describe('the recorder and the reader against Redis', () => {
  let redis: Redis;
  const namespaces: string[] = [];
  const recorders: OperationRecorder[] = [];

  /** A namespace of this test's own, and a recorder on it that flushes only when told (or closed). */
  function setup(opts: { windowMs?: number; flushMs?: number } = {}) {
    const namespace = `${uniqueName('oplog')}.`;
    namespaces.push(namespace);
    const { logger, lines } = capturedLogger();
    const recorder = createOperationRecorder(redis, { namespace, logger, flushMs: opts.flushMs ?? 3600_000, windowMs: opts.windowMs });
    recorders.push(recorder);
    return { namespace, keys: operationLogKeys(namespace), recorder, lines };
  }
  const serve = (recorder: OperationRecorder, text: string, name: string | null = null) => recorder.record(sha(text), name, text);

  /** Operations another gateway served earlier, written as the recorder writes them. */
  async function seed(keys: { seen: string; docs: string }, ops: ReadonlyArray<{ text: string; name?: string; at: number }>) {
    const p = redis.pipeline();
    for (const o of ops) {
      p.zadd(keys.seen, o.at, sha(o.text));
      p.hset(keys.docs, sha(o.text), JSON.stringify({ name: o.name ?? null, text: o.text }));
    }
    await p.exec();
  }

  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    await Promise.all(recorders.map((r) => r.close()));
    for (const ns of namespaces) {
      const k = operationLogKeys(ns);
      await redis.del(k.seen, k.docs);
    }
    redis.disconnect();
  });

  it('writes what was served at the flush with its name, text and time, once per document, most recent first', async () => {
    const { namespace, keys, recorder } = setup();
    const t0 = Date.now();
    serve(recorder, 'query A { a }', 'A');
    serve(recorder, 'query A { a }', 'A');
    serve(recorder, '{ b }');
    expect(await redis.exists(keys.seen, keys.docs)).toBe(0); // nothing before the flush
    await recorder.flush();
    const t1 = Date.now();
    const ops = await readRecentOperations(redis, namespace);
    expect(ops.map((o) => ({ hash: o.hash, name: o.name, text: o.text }))).toEqual(
      expect.arrayContaining([
        { hash: sha('query A { a }'), name: 'A', text: 'query A { a }' },
        { hash: sha('{ b }'), name: null, text: '{ b }' },
      ]),
    );
    expect(ops).toHaveLength(2);
    for (const o of ops) expect(o.lastSeen >= t0 && o.lastSeen <= t1).toBe(true);
    expect(recorder.dropped()).toBe(0);

    // Served again after the clock has moved past that flush: its time moves up and it comes
    // first, still one document each.
    await seed(keys, [{ text: 'query Old { old }', name: 'Old', at: t0 - 60_000 }]);
    await waitFor(() => Date.now() > t1, { what: 'the clock to pass the first flush', intervalMs: 1 });
    serve(recorder, '{ b }');
    await recorder.flush();
    const again = await readRecentOperations(redis, namespace);
    expect(again.map((o) => o.name ?? o.text)).toEqual(['{ b }', 'A', 'Old']);
    expect(again[0].lastSeen).toBeGreaterThan(t1);
    expect(again[1].lastSeen).toBe(ops.find((o) => o.name === 'A')!.lastSeen);
    expect(await redis.hlen(keys.docs)).toBe(3);
  });

  it('flushes on its own every flushMs, and close() writes what is still pending', async () => {
    const timed = setup({ flushMs: 50 });
    serve(timed.recorder, 'query Timed { t }', 'Timed');
    await waitFor(async () => (await readRecentOperations(redis, timed.namespace)).length > 0, { what: 'the timer to flush', timeoutMs: 10_000 });
    expect((await readRecentOperations(redis, timed.namespace)).map((o) => o.name)).toEqual(['Timed']);

    const closing = setup();
    serve(closing.recorder, 'query AtClose { c }', 'AtClose');
    await closing.recorder.close();
    expect((await readRecentOperations(redis, closing.namespace)).map((o) => o.name)).toEqual(['AtClose']);
  });

  it(`keeps documents of up to ${OPERATION_LOG_LIMITS.maxDocumentBytes} bytes (UTF-8) and counts larger ones as dropped`, async () => {
    const { namespace, recorder } = setup();
    const max = OPERATION_LOG_LIMITS.maxDocumentBytes;
    const pad = (bytes: number, prefix: string) => `${prefix}${' '.repeat(bytes - Buffer.byteLength(prefix) - 1)}}`;
    const atLimit = pad(max, 'query AtLimit { a ');
    const overByOne = pad(max + 1, 'query OverByOne { a ');
    // Under the limit in characters, over it in bytes: "é" is two.
    const wide = `query Wide { a(s: "${'é'.repeat(max / 2)}") }`;
    expect(Buffer.byteLength(atLimit)).toBe(max);
    expect(Buffer.byteLength(overByOne)).toBe(max + 1);
    expect(wide.length).toBeLessThan(max);
    expect(Buffer.byteLength(wide)).toBeGreaterThan(max);

    serve(recorder, atLimit, 'AtLimit');
    serve(recorder, overByOne, 'OverByOne');
    serve(recorder, wide, 'Wide');
    expect(recorder.dropped()).toBe(2);
    await recorder.flush();
    const ops = await readRecentOperations(redis, namespace);
    expect(ops.map((o) => o.name)).toEqual(['AtLimit']);
    expect(ops[0].text).toBe(atLimit);
  });

  it(`holds at most ${OPERATION_LOG_LIMITS.maxPending} distinct documents between flushes; repeats cost nothing; the next interval starts empty`, async () => {
    const { namespace, keys, recorder } = setup();
    const max = OPERATION_LOG_LIMITS.maxPending;
    for (let i = 0; i < max; i++) serve(recorder, `query Q${i} { f${i} }`, `Q${i}`);
    // The same documents again: already pending, neither kept twice nor dropped.
    for (let i = 0; i < max; i++) serve(recorder, `query Q${i} { f${i} }`, `Q${i}`);
    expect(recorder.dropped()).toBe(0);
    serve(recorder, 'query OneTooMany { x }', 'OneTooMany');
    serve(recorder, 'query TwoTooMany { y }', 'TwoTooMany');
    expect(recorder.dropped()).toBe(2);
    await recorder.flush();
    expect(await redis.zcard(keys.seen)).toBe(max);
    expect(await redis.hlen(keys.docs)).toBe(max);
    const names = new Set((await readRecentOperations(redis, namespace)).map((o) => o.name));
    expect(names.has('OneTooMany') || names.has('TwoTooMany')).toBe(false);

    // After the flush there is room again; the count of dropped ones stays.
    serve(recorder, 'query OneTooMany { x }', 'OneTooMany');
    await recorder.flush();
    expect((await readRecentOperations(redis, namespace)).some((o) => o.name === 'OneTooMany')).toBe(true);
    expect(recorder.dropped()).toBe(2);
  });

  it('reads nothing served longer ago than the window (REGISTRY_OPERATION_WINDOW_DAYS), and the next flush deletes it from both keys', async () => {
    const windowMs = operationWindowFromEnv({ REGISTRY_OPERATION_WINDOW_DAYS: '2' });
    const { namespace, keys, recorder } = setup({ windowMs });
    const now = Date.now();
    await seed(keys, [
      { text: 'query Yesterday { y }', name: 'Yesterday', at: now - 1 * DAY },
      { text: 'query ThreeDaysAgo { t }', name: 'ThreeDaysAgo', at: now - 3 * DAY },
      { text: 'query JustOutside { j }', name: 'JustOutside', at: now - windowMs - 1 },
    ]);
    // The reader: the window's edge counts as inside, a millisecond before it does not.
    expect((await readRecentOperations(redis, namespace, windowMs, now)).map((o) => o.name)).toEqual(['Yesterday']);
    expect((await readRecentOperations(redis, namespace, windowMs, now - 1)).map((o) => o.name)).toEqual(['Yesterday', 'JustOutside']);
    // With the default window of 7 days all three are recent.
    expect((await readRecentOperations(redis, namespace, DEFAULT_OPERATION_WINDOW_MS, now)).map((o) => o.name)).toEqual(['Yesterday', 'JustOutside', 'ThreeDaysAgo']);

    // The recorder's next flush trims what fell out of its window: index and documents.
    serve(recorder, 'query Now { n }', 'Now');
    await recorder.flush();
    expect((await redis.zrange(keys.seen, 0, -1)).sort()).toEqual([sha('query Yesterday { y }'), sha('query Now { n }')].sort());
    expect(Object.keys(await redis.hgetall(keys.docs)).sort()).toEqual([sha('query Yesterday { y }'), sha('query Now { n }')].sort());
    expect((await readRecentOperations(redis, namespace, DEFAULT_OPERATION_WINDOW_MS)).map((o) => o.name)).toEqual(['Now', 'Yesterday']);
  });

  it(`keeps at most ${OPERATION_LOG_LIMITS.maxOperations} operations: the least recently served go first, and one served again stays`, async () => {
    const { namespace, keys, recorder } = setup();
    const max = OPERATION_LOG_LIMITS.maxOperations;
    const now = Date.now();
    const text = (i: number) => `query Kept${i} { k${i} }`;
    // Full: Kept0 served longest ago, Kept{max-1} most recently, all within the window.
    await seed(keys, Array.from({ length: max }, (_, i) => ({ text: text(i), name: `Kept${i}`, at: now - 600_000 + i })));
    expect(await redis.zcard(keys.seen)).toBe(max);

    // Kept0 is served again and two new ones come: three slots needed, two are new, so the two
    // least recently served now (Kept1, Kept2) go; Kept0 stays, with its document unchanged.
    serve(recorder, text(0), 'Kept0');
    serve(recorder, 'query New1 { n1 }', 'New1');
    serve(recorder, 'query New2 { n2 }', 'New2');
    await recorder.flush();
    expect(await redis.zcard(keys.seen)).toBe(max);
    expect(await redis.hlen(keys.docs)).toBe(max);
    for (const gone of [1, 2]) {
      expect(await redis.zscore(keys.seen, sha(text(gone)))).toBeNull();
      expect(await redis.hexists(keys.docs, sha(text(gone)))).toBe(0);
    }
    expect(await redis.zscore(keys.seen, sha(text(3)))).toBe(String(now - 600_000 + 3));
    const ops = await readRecentOperations(redis, namespace);
    expect(ops).toHaveLength(max);
    expect(ops.slice(0, 3).map((o) => o.name).sort()).toEqual(['Kept0', 'New1', 'New2']);
    expect(ops.find((o) => o.name === 'Kept0')?.text).toBe(text(0));
    expect(ops[ops.length - 1].name).toBe('Kept3');
  });

  it('trims the window first and evicts only what is still over the bound', async () => {
    const { namespace, keys, recorder } = setup({ windowMs: DAY });
    const max = OPERATION_LOG_LIMITS.maxOperations;
    const now = Date.now();
    // Two outside the window (older than all the rest) plus max - 1 recent ones: one over the bound after one new.
    await seed(keys, [
      { text: 'query Stale1 { s1 }', name: 'Stale1', at: now - 2 * DAY },
      { text: 'query Stale2 { s2 }', name: 'Stale2', at: now - 2 * DAY + 1 },
      ...Array.from({ length: max - 1 }, (_, i) => ({ text: `query R${i} { r${i} }`, name: `R${i}`, at: now - 600_000 + i })),
    ]);
    serve(recorder, 'query Fresh { f }', 'Fresh');
    serve(recorder, 'query Fresh2 { f2 }', 'Fresh2');
    await recorder.flush();
    // max + 2 + 1: the two stale ones go for the window, then R0 for the bound.
    expect(await redis.zcard(keys.seen)).toBe(max);
    expect(await redis.hlen(keys.docs)).toBe(max);
    const names = new Set((await readRecentOperations(redis, namespace, DAY)).map((o) => o.name));
    expect(names.has('Stale1') || names.has('Stale2') || names.has('R0')).toBe(false);
    expect(names.has('R1') && names.has('Fresh') && names.has('Fresh2')).toBe(true);
  });

  it('a Redis that does not answer costs the flush its operations and a warning, never an exception', async () => {
    const { logger, lines } = capturedLogger();
    // Nobody listens on port 1; no offline queue, so the command fails at once.
    const down = new Redis({ port: 1, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined); // the refused connection; the flush's failure is what is tested
    try {
      const recorder = createOperationRecorder(down, { logger, flushMs: 3600_000 });
      recorder.record(sha('{ a }'), null, '{ a }');
      recorder.record(sha('{ b }'), null, '{ b }');
      await expect(recorder.flush()).resolves.toBeUndefined();
      expect(lines.filter((l) => l.msg === 'recording served operations failed')).toEqual([
        expect.objectContaining({ level: 40, operations: 2, err: expect.any(String) }),
      ]);
      // What failed is not retried: the next flush has nothing to write.
      await recorder.close();
      expect(lines.filter((l) => l.msg === 'recording served operations failed')).toHaveLength(1);
    } finally {
      down.disconnect();
    }
  });
});
