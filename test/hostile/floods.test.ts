// Floods of distinct input, and what the gateway keeps from them: resident memory (VmRSS from
// /proc, measured after a warm-up and again after the flood) and the size of /metrics. Requests go
// a few at a time and each answer is awaited, so what is measured is retention, not queues.
//
// The acceptance figure: 1,000 distinct ~90 KB valid documents over ONE anonymous graphql-ws
// connection grow the gateway's RSS by less than 200 MB. Two document shapes:
//  (1) valid GraphQL refused by the limits (cost far over 5000, and aliases). Refused documents
//      must not be cached. Note: the literal `inventoryChanged { quantity quantity ... }` to 90 KB
//      (10,000 copies of one field) never reaches the limits with graphql 16.15: its
//      OverlappingFieldsCanBeMerged budget aborts validation ("Validation aborted."), so the shape
//      here uses distinct aliases under a list (`orderUpdated { items { ... } }`), which validates
//      and is refused by the cost limit (and the alias limit).
//  (2) valid documents within every limit, padded to ~90 KB with distinct content: a long string
//      argument, comments, and (over graphql-ws) a subscription padded with comments.
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import type { GatewayProcess } from '../support/gatewayProcess';
import { waitFor } from '../support/waitFor';
import { expectAlive, MB, pool, post, request, startHostileStack, token, type HostileStack } from './harness';
import { MAX_OPERATION_LABELS } from '../../platform/operationLabels';

let stack: HostileStack;
const gw = () => stack.gateway();
const STORE = 'flood-store-1';
const PRODUCT = 'flood-product-1';
const QUANTITY = 7;
const CONCURRENCY = 8;
const DOC_BYTES = 90_000;

beforeAll(async () => {
  stack = await startHostileStack('hostile-floods');
  // A stock level for the padded subscriptions to answer with (their current state comes first).
  const admin = { authorization: `Bearer ${token('flood-admin', 'admin')}` };
  for (const [query, variables] of [
    ['mutation($i: StoreInput!) { upsertStore(input: $i) { id } }', { i: { id: STORE, name: 'Flood corner' } }],
    ['mutation($i: ProductInput!) { upsertProduct(input: $i) { id } }', { i: { id: PRODUCT, name: 'Flood milk', category: 'dairy', priceCents: 100 } }],
    [`mutation { reportInventory(storeId: "${STORE}", productId: "${PRODUCT}", quantity: ${QUANTITY}) { quantity } }`, {}],
  ] as const) {
    const r = await post(gw(), { query, variables }, admin);
    expect(r.json.errors).toBeUndefined();
  }
});
beforeEach(async () => {
  await stack?.ensureGateway();
});
afterAll(async () => {
  await stack?.stop();
  if (measurements.length) process.stdout.write(`\nhostile floods, measured:\n  ${measurements.join('\n  ')}\n`);
});

/** What each flood measured, printed once at the end (the figures matter even when a case passes). */
const measurements: string[] = [];
const report = (line: string) => void measurements.push(line);

// ---------------------------------------------------------------------------------------------
// Documents

/** Repeats `part(k)` until the text is `bytes` long. */
const fill = (bytes: number, part: (k: number) => string) => {
  const parts: string[] = [];
  let length = 0;
  for (let k = 0; length < bytes; k++) {
    const p = part(k);
    parts.push(p);
    length += p.length;
  }
  return parts.join('');
};

/** Shape (1) over graphql-ws: a ~90 KB subscription, valid, refused by the cost limit (~1,500 aliased fields under a list of 20). */
const refusedSubscription = (i: number) => {
  const head = `subscription Op${i} { orderUpdated(id: "o-${i}") { items { `;
  return head + fill(DOC_BYTES - head.length, (k) => `f${i}_${k}_${'q'.repeat(40)}: quantity `) + '} } }';
};
/** Shape (1) over HTTP: a ~90 KB query, valid, refused by the cost limit (~1,500 aliased fields under a page of 3). */
const refusedQuery = (i: number) => {
  const head = `query Op${i} { products(first: 3) { edges { node { `;
  return head + fill(DOC_BYTES - head.length, (k) => `f${i}_${k}_${'q'.repeat(40)}: id `) + '} } } }';
};
/** Shape (2a): a valid query whose id argument is a ~90 KB string. */
const paddedArgument = (i: number) => `query Op${i} { product(id: "p-${i}-${fill(DOC_BYTES - 60, (k) => `${i}.${k}.`).slice(0, DOC_BYTES - 60)}") { id name } }`;
/** Shape (2b): a valid query followed by ~90 KB of distinct comments. */
const paddedComments = (i: number) => `query Op${i} { product(id: "p-${i}") { id name } }\n` + fill(DOC_BYTES, (k) => `# ${i} ${k} ${'c'.repeat(60)}\n`);
/** Shape (2c): a valid subscription (its first message is the current stock) followed by ~90 KB of distinct comments. */
const paddedSubscription = (i: number) =>
  `subscription Op${i} { inventoryChanged(storeId: "${STORE}", productIds: ["${PRODUCT}"]) { quantity } }\n` + fill(DOC_BYTES, (k) => `# ${i} ${k} ${'s'.repeat(60)}\n`);

// ---------------------------------------------------------------------------------------------
// Measuring

/**
 * Growth of the gateway's RSS over `before`, once it has had up to 45 s to settle: the smallest
 * growth seen, so garbage V8 has not yet given back is not counted as retention (after a flood
 * its heap can stay at its peak for 20-30 s before the idle-time GC shrinks it), while anything
 * still held after 45 s is. Returns at once when the growth is under the bound.
 */
async function settledGrowth(g: GatewayProcess, before: number, boundBytes: number): Promise<{ first: number; settled: number; afterMs: number }> {
  const started = Date.now();
  const first = g.rssBytes() - before;
  let smallest = first;
  await waitFor(
    () => {
      smallest = Math.min(smallest, g.rssBytes() - before);
      return smallest < boundBytes;
    },
    { what: 'RSS to settle under the bound', timeoutMs: 45_000, intervalMs: 500 },
  ).catch(() => undefined);
  return { first, settled: smallest, afterMs: Date.now() - started };
}
const describeGrowth = (before: number, g: { first: number; settled: number; afterMs: number }) =>
  `RSS ${Math.round(before / MB)} MB before; right after the flood +${(g.first / MB).toFixed(1)} MB, settled +${(g.settled / MB).toFixed(1)} MB (after ${(g.afterMs / 1000).toFixed(1)} s)`;

/** Stops a flood early when the gateway died or its RSS is already far past any bound (so a leak cannot take the machine down). */
const guard = (g: GatewayProcess, before: number, limitBytes: number) => {
  let n = 0;
  return () => {
    if (g.exitCode() !== null) return `the gateway process exited with ${g.exitCode()} during the flood`;
    if (++n % 25 !== 0) return null;
    let growth: number;
    try {
      growth = g.rssBytes() - before;
    } catch {
      return 'the gateway process is gone';
    }
    return growth > limitBytes ? `stopped the flood after ${n} documents: RSS had grown by ${Math.round(growth / MB)} MB` : null;
  };
};

// ---------------------------------------------------------------------------------------------
// One graphql-ws connection, many operations at once, each awaited by id

class FloodSocket {
  readonly ws: WebSocket;
  closed: { code: number; reason: string } | null = null;
  private readonly pending = new Map<string, { messages: any[]; done: (m: any) => boolean; resolve: (ms: any[]) => void; reject: (e: Error) => void }>();

  constructor(url: string) {
    this.ws = new WebSocket(url, 'graphql-transport-ws');
    this.ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      const p = m.id === undefined ? this.pending.get('') : this.pending.get(m.id);
      if (!p) return;
      p.messages.push(m);
      if (p.done(m)) {
        this.pending.delete(m.id ?? '');
        p.resolve(p.messages);
      }
    });
    this.ws.on('error', () => undefined);
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const p of this.pending.values()) p.reject(new Error(`the connection closed with ${code} ${String(reason)}`));
      this.pending.clear();
    });
  }

  async init(): Promise<void> {
    await waitFor(() => this.ws.readyState === WebSocket.OPEN || this.closed, { what: 'the flood socket to open', timeoutMs: 10_000 });
    const acked = this.expect('', (m) => m.type === 'connection_ack' || m.type === 'error', 10_000);
    this.ws.send(JSON.stringify({ type: 'connection_init' }));
    await acked;
  }

  /** Sends `message` (if any) and resolves with the messages for `id` up to the one `done` accepts. */
  expect(id: string, done: (m: any) => boolean, timeoutMs = 30_000, message?: unknown): Promise<any[]> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error(`the connection closed with ${this.closed.code}`));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        messages: [],
        done,
        resolve: (ms) => (clearTimeout(timer), resolve(ms)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      if (message !== undefined) this.ws.send(JSON.stringify(message));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Codes by which the gateway refuses a document (or fails on it); none may answer a document within the limits. */
const REFUSALS = ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'OPERATION_LIMIT', 'INTERNAL_SERVER_ERROR', 'TOO_MANY_SUBSCRIPTIONS'];
const errorCodes = (errors: any[] | undefined) => (errors ?? []).map((e) => e?.extensions?.code);

/** Sends document `i` of the WS flood and checks its answer; returns a description of what was wrong, or null. */
async function wsDocument(s: FloodSocket, i: number): Promise<string | null> {
  const id = `op-${i}`;
  const variant = i % 2 === 0 ? 'refused' : (['argument', 'comments', 'subscription'] as const)[((i - 1) / 2) % 3];
  const query =
    variant === 'refused' ? refusedSubscription(i) : variant === 'argument' ? paddedArgument(i) : variant === 'comments' ? paddedComments(i) : paddedSubscription(i);
  const terminal = (m: any) => m.type === 'error' || m.type === 'complete' || (variant === 'subscription' && m.type === 'next');
  let messages: any[];
  try {
    messages = await s.expect(id, terminal, 30_000, { id, type: 'subscribe', payload: { query } });
  } catch (e) {
    return `${variant} ${i}: ${(e as Error).message}`;
  }
  const last = messages[messages.length - 1];
  if (variant === 'refused') {
    const limits = last.type === 'error' ? last.payload.map((e: any) => e?.extensions?.limit) : [];
    if (last.type !== 'error' || !errorCodes(last.payload).includes('OPERATION_LIMIT') || !limits.includes('cost'))
      return `refused ${i}: expected an error with OPERATION_LIMIT (cost), got ${JSON.stringify(last).slice(0, 300)}`;
    return null;
  }
  if (variant === 'subscription') {
    if (last.type !== 'next' || last.payload?.data?.inventoryChanged?.quantity !== QUANTITY)
      return `subscription ${i}: expected the current stock first, got ${JSON.stringify(last).slice(0, 300)}`;
    s.ws.send(JSON.stringify({ id, type: 'complete' }));
    return null;
  }
  // Within every limit, so executed: whatever the catalog says about such an id, the gateway did not refuse it.
  const next = messages.find((m) => m.type === 'next');
  if (last.type !== 'complete' || !next || next.payload.data?.product !== null || errorCodes(next.payload.errors).some((c) => REFUSALS.includes(c)))
    return `${variant} ${i}: expected data { product: null } then complete, got ${JSON.stringify(messages).slice(0, 300)}`;
  return null;
}

describe('floods', () => {
  // The control for the /metrics bound below: it means something only if operations are counted
  // by name at all (README: "/metrics (operations by name, ...)").
  it('control: a valid named operation is counted under its name in /metrics', async () => {
    const name = `Control_${Date.now().toString(36)}`;
    const r = await post(gw(), { query: `query ${name} { __typename }`, operationName: name });
    expect(r.status).toBe(200);
    const lines = (await request(gw(), '/metrics')).text.split('\n').filter((l) => l.startsWith('streamgraph_gateway_request_duration_seconds_count'));
    expect(lines.filter((l) => l.includes(`operation="${name}"`))).toEqual([expect.stringContaining(`operation="${name}"`)]);
  });

  it('once the named series are at their cap, 2,000 requests with made-up operation names grow /metrics by less than a few KB', async () => {
    const g = gw();
    const metricsBytes = async () => Buffer.byteLength((await request(g, '/metrics')).text);
    const run = (i: number, kind: number) => {
      const tag = `${i}_${Math.random().toString(36).slice(2, 8)}`;
      // (a) a name the document does not have; (b) a valid single operation whose name varies, named in the request or only in the document.
      if (kind === 0) return post(g, { query: 'query Real { __typename }', operationName: `madeUp_${tag}` });
      if (kind === 1) return post(g, { query: `query Op_${tag} { __typename }`, operationName: `Op_${tag}` });
      return post(g, { query: `query Named_${tag} { __typename }` });
    };
    // Warm-up: every kind once (outcome labels, label sets), then distinct valid names past the
    // cap of named series, so what follows measures whether /metrics keeps growing.
    for (let k = 0; k < 3; k++) await run(90_000 + k, k);
    await pool(MAX_OPERATION_LABELS + 10, CONCURRENCY, async (i) => void (await run(100_000 + i, 1)));
    const before = await metricsBytes();
    const statuses = new Map<string, number>();
    await pool(2000, CONCURRENCY, async (i) => {
      const kind = i % 2 === 0 ? 0 : i % 4 === 1 ? 1 : 2;
      const r = await run(i, kind);
      const key = `${kind === 0 ? 'made-up name' : 'varying name'} -> ${r.status} ${r.code ?? 'data'}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    });
    const grownKB = ((await metricsBytes()) - before) / 1024;
    report(`/metrics: ${(before / 1024).toFixed(1)} KB before, grew ${grownKB.toFixed(1)} KB over 2,000 requests`);
    expect(Object.fromEntries(statuses)).toEqual({ 'made-up name -> 400 OPERATION_RESOLUTION_FAILURE': 1000, 'varying name -> 200 data': 1000 });
    expect(grownKB).toBeLessThan(8);
    const named = new Set(
      [...(await request(g, '/metrics')).text.matchAll(/^streamgraph_gateway_request_duration_seconds_count\{[^}]*operation="([^"]*)"/gm)].map((m) => m[1]),
    );
    expect(named.size).toBeLessThanOrEqual(MAX_OPERATION_LABELS + 3); // + anonymous, invalid, other
    expect(named.has('other')).toBe(true);
    await expectAlive(g);
  });

  it('500 distinct persisted-query registrations: bounded memory, alive, and answering', async () => {
    const g = gw();
    const doc = (i: number) => `query Apq${i}_${Date.now()} { __typename }\n` + fill(2000, (k) => `# ${i} ${k} ${'p'.repeat(40)}\n`);
    const register = async (query: string) => {
      const sha256Hash = createHash('sha256').update(query).digest('hex');
      const r = await post(g, { query, extensions: { persistedQuery: { version: 1, sha256Hash } } });
      return { r, sha256Hash };
    };
    for (let i = 0; i < 20; i++) await register(doc(-1 - i));
    const before = g.rssBytes();
    const failures: string[] = [];
    let last = '';
    await pool(
      500,
      CONCURRENCY,
      async (i) => {
        const { r, sha256Hash } = await register(doc(i));
        if (r.status !== 200 || r.json?.data?.__typename !== 'Query') failures.push(`${i}: ${r.status} ${r.text.slice(0, 200)}`);
        last = sha256Hash;
      },
      guard(g, before, 450 * MB),
    );
    expect(failures.slice(0, 5)).toEqual([]);
    // The hash alone now answers (or, if the store dropped it, Apollo's "not found" asks the client to register again).
    const byHash = await post(g, { extensions: { persistedQuery: { version: 1, sha256Hash: last } } });
    expect(byHash.status).toBe(200);
    if (byHash.code !== 'PERSISTED_QUERY_NOT_FOUND') expect(byHash.json.data).toEqual({ __typename: 'Query' });
    const growth = await settledGrowth(g, before, 150 * MB);
    report(`500 APQ registrations: ${describeGrowth(before, growth)}`);
    expect(growth.settled / MB).toBeLessThan(150);
    await expectAlive(g);
  });

  it('300 distinct ~90 KB documents over HTTP grow RSS by less than 200 MB (the graphql-ws acceptance bound)', async () => {
    const g = gw();
    const send = async (i: number) => {
      const variant = i % 3 === 0 ? 'refused' : i % 3 === 1 ? 'argument' : 'comments';
      const query = variant === 'refused' ? refusedQuery(i) : variant === 'argument' ? paddedArgument(i) : paddedComments(i);
      const r = await post(g, { query });
      if (variant === 'refused') return r.status === 400 && r.code === 'OPERATION_LIMIT' ? null : `refused ${i}: ${r.status} ${r.text.slice(0, 200)}`;
      return r.status === 200 && r.json?.data?.product === null && !errorCodes(r.json.errors).some((c) => REFUSALS.includes(c))
        ? null
        : `${variant} ${i}: ${r.status} ${r.text.slice(0, 200)}`;
    };
    for (let i = 0; i < 30; i++) await send(1_000_000 + i);
    const before = g.rssBytes();
    const failures: string[] = [];
    await pool(
      300,
      CONCURRENCY,
      async (i) => {
        const wrong = await send(i);
        if (wrong) failures.push(wrong);
      },
      guard(g, before, 450 * MB),
    );
    expect(failures.slice(0, 5)).toEqual([]);
    const growth = await settledGrowth(g, before, 200 * MB);
    report(`300 documents of ~90 KB over HTTP: ${describeGrowth(before, growth)}`);
    expect(growth.settled / MB).toBeLessThan(200);
    await expectAlive(g);
  });

  it('1,000 distinct ~90 KB documents over ONE anonymous graphql-ws connection grow RSS by less than 200 MB', async () => {
    const g = gw();
    const s = new FloodSocket(g.wsUrl);
    try {
      await s.init();
      // Warm-up with documents of every shape that the flood will not repeat.
      for (let i = 0; i < 24; i++) expect(await wsDocument(s, 2_000_000 + i)).toBeNull();
      const before = g.rssBytes();
      const failures: string[] = [];
      await pool(
        1000,
        CONCURRENCY,
        async (i) => {
          const wrong = await wsDocument(s, i);
          if (wrong) failures.push(wrong);
          if (s.closed) throw new Error(`the flood connection closed with ${s.closed.code} ${s.closed.reason} after document ${i}`);
        },
        guard(g, before, 600 * MB),
      );
      expect({ failures: failures.length, first: failures.slice(0, 5) }).toEqual({ failures: 0, first: [] });
      const growth = await settledGrowth(g, before, 200 * MB);
      report(`1,000 documents of ~90 KB on one graphql-ws connection: ${describeGrowth(before, growth)}`);
      expect(growth.settled / MB).toBeLessThan(200);
      // The same connection still serves.
      const probe = await s.expect('probe', (m) => m.type === 'complete' || m.type === 'error', 10_000, { id: 'probe', type: 'subscribe', payload: { query: '{ __typename }' } });
      expect(probe[0]).toMatchObject({ type: 'next', payload: { data: { __typename: 'Query' } } });
      await expectAlive(g);
    } finally {
      s.close();
    }
  });
  it('after the floods, every cache keyed by client input reports its bytes on /metrics, within its budget', async () => {
    const text = (await request(gw(), '/metrics')).text;
    const gauge = (name: string) =>
      new Map([...text.matchAll(new RegExp(`^${name}\\{[^}]*cache="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));
    const bytes = gauge('streamgraph_gateway_cache_bytes');
    const max = gauge('streamgraph_gateway_cache_max_bytes');
    expect([...bytes.keys()].sort()).toEqual(['documents', 'persisted_queries', 'query_plans', 'subscription_documents', 'subscription_plans']);
    for (const [cache, held] of bytes) expect({ cache, within: held <= max.get(cache)! }).toEqual({ cache, within: true });
    // The floods sent valid documents: something was cached, and bounded.
    expect(bytes.get('documents')).toBeGreaterThan(0);
    expect(bytes.get('persisted_queries')).toBeGreaterThan(0);
  });
});
