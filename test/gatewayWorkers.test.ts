// Several gateway workers on one port (GATEWAY_WORKERS=2, gateway/main.ts as its own process
// in front of the real subgraphs): both serve queries and subscriptions, /metrics adds up every
// worker's, and a worker killed mid-run is replaced while the other keeps its clients.
import { spawnSync } from 'node:child_process';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startHostileStack, token, type HostileStack } from './hostile/harness';
import { waitFor } from './support/waitFor';

let stack: HostileStack;
const clients: Client[] = [];
const STORE = 'store-workers';
const PRODUCT = 'prod-workers';

/** The gateway primary's worker processes now. */
const workerPids = (): number[] =>
  spawnSync('ps', ['-o', 'pid=', '--ppid', String(stack.gateway().pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);

async function call(query: string, variables: Record<string, unknown> = {}, bearer?: string) {
  // A new connection per call: the kernel hands connections to the workers in turn.
  const res = await fetch(stack.gateway().url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[] }) };
}

const report = (quantity: number) =>
  call(`mutation($q: Int!) { reportInventory(storeId: "${STORE}", productId: "${PRODUCT}", quantity: $q) { quantity } }`, { q: quantity }, token(STORE, 'store'));

function follow() {
  const c = createClient({ url: stack.gateway().wsUrl, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
  clients.push(c);
  const quantities: number[] = [];
  const state = { closed: false };
  c.on('closed', () => (state.closed = true));
  c.subscribe(
    { query: `subscription { inventoryChanged(storeId: "${STORE}", productIds: ["${PRODUCT}"]) { quantity } }` },
    { next: (v) => void quantities.push((v.data as { inventoryChanged: { quantity: number } }).inventoryChanged.quantity), error: () => undefined, complete: () => undefined },
  );
  return { quantities, state };
}

beforeAll(async () => {
  stack = await startHostileStack('workers', { GATEWAY_WORKERS: '2' });
  await waitFor(() => workerPids().length === 2, { what: 'two workers', timeoutMs: 120_000 });
  const admin = token('admin-1', 'admin');
  expect((await call(`mutation { upsertStore(input: { id: "${STORE}", name: "Workers" }) { id } }`, {}, admin)).errors).toBeUndefined();
  expect((await call(`mutation { upsertProduct(input: { id: "${PRODUCT}", name: "Oats", category: "dry", priceCents: 300 }) { id } }`, {}, admin)).errors).toBeUndefined();
  await waitFor(async () => (await report(10)).data?.reportInventory?.quantity === 10, { what: 'the first inventory report' });
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await stack?.stop();
});

it('serves queries from both workers, and /metrics adds up every worker’s requests', async () => {
  for (let i = 0; i < 30; i++) expect((await call('query WorkersProbe { __typename }')).data).toEqual({ __typename: 'Query' });
  // Whichever worker answers the scrape, it reports both workers' requests.
  for (let scrape = 0; scrape < 4; scrape++) {
    const text = await (await fetch(`${stack.gateway().baseUrl}/metrics`, { headers: { connection: 'close' } })).text();
    const count = text.match(/^streamgraph_gateway_request_duration_seconds_count\{operation="WorkersProbe",outcome="ok"[^}]*\} (\d+)$/m);
    expect(Number(count?.[1])).toBe(30);
  }
});

it('keeps the clients of the surviving worker when the other is killed, and replaces it', async () => {
  const followers = Array.from({ length: 8 }, () => follow());
  await waitFor(() => followers.every((f) => f.quantities.length >= 1), { what: 'every follower’s current level' });
  const [victim, survivor] = workerPids();
  process.kill(victim!, 'SIGKILL');
  await waitFor(() => followers.some((f) => f.state.closed), { what: 'the killed worker’s clients to be disconnected' });
  const kept = followers.filter((f) => !f.state.closed);
  expect(kept.length).toBeGreaterThan(0);
  expect(kept.length).toBeLessThan(followers.length);

  await waitFor(async () => (await report(11)).data?.reportInventory?.quantity === 11, { what: 'the report through the surviving worker' });
  await waitFor(() => kept.every((f) => f.quantities.at(-1) === 11), { what: 'the surviving clients to see the change' });
  expect(kept.every((f) => !f.state.closed)).toBe(true);

  // The primary starts a replacement; new clients are served again by two workers.
  await waitFor(() => workerPids().length === 2 && !workerPids().includes(victim!), { what: 'a replacement worker' });
  expect(workerPids()).toContain(survivor);
  const late = Array.from({ length: 4 }, () => follow());
  await waitFor(() => late.every((f) => f.quantities.at(-1) === 11), { what: 'new clients to get the current level' });
  expect(stack.gateway().exitCode()).toBeNull();
});
