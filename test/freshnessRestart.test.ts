// A view's freshness survives a crash of its process: the customers subgraph runs as its own
// process (its real main.ts), applies a registration, is SIGKILLed and started again. The
// restarted process has applied nothing itself, yet its /ready, its /metrics and the gateway's
// extensions.freshness report the time of the last applied event, the same as before the kill:
// it is kept with the view's checkpoint in Redis, not in the process.
import Redis from 'ioredis';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { testGatewayConfig } from './support/gatewayConfig';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';
import { startSubgraphProcess, type SubgraphProcess } from './support/subgraphProcess';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'freshness-restart-jwt-secret-0123456789';
const admin = signDevToken({ sub: 'admin-1', roles: ['admin'], secret: JWT_SECRET, expiresInSec: 3600 });

let namespace: string;
let redis: Redis;
let customers: SubgraphProcess;
let gateway: GatewayHandle;

interface ViewFreshness {
  view: string;
  lag: number | null;
  lastEventAt: string | null;
}
interface ReadyBody {
  ready: boolean;
  views: Array<{ view: string; state: string; lag: number; lastEventAt: string | null }>;
}

async function gw(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[]; extensions?: { freshness?: Record<string, ViewFreshness[]> } };
}

const base = () => customers.url.replace(/\/graphql$/, '');

/** /ready's body whatever its status (503 while a view lags or starts): the views are in it either way. */
async function ready(): Promise<ReadyBody> {
  return (await (await fetch(`${base()}/ready`)).json()) as ReadyBody;
}

/** One gauge's samples from /metrics, by `view partition`. */
async function gauge(name: string): Promise<Map<string, string>> {
  const text = await (await fetch(`${base()}/metrics`)).text();
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out.set(`${labels.view} ${labels.partition}`, m[3]);
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const timesOf = (views: ReadonlyArray<{ view: string; lastEventAt: string | null }>) =>
  views.map((v) => ({ view: v.view, lastEventAt: v.lastEventAt })).sort((a, b) => a.view.localeCompare(b.view));

const CUSTOMER = `query Customer($id: ID!) { customer(id: $id) { id name } }`;

beforeAll(async () => {
  namespace = await createNamespace('freshness-restart');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  // The broker's minimum session timeout: after the SIGKILL, the restarted process's views get
  // their partitions once the dead member's session expires (6 s, not the default 30 s).
  customers = await startSubgraphProcess('customers', {
    STREAMGRAPH_NAMESPACE: namespace,
    GATEWAY_IDENTITY_SECRET: TEST_IDENTITY_SECRET,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  });
  gateway = await startGateway(testGatewayConfig({ namespace, redis, jwtSecret: JWT_SECRET, label: 'freshness-restart-gateway' }, { supergraph: { kind: 'registry', namespace, pollMs: 300 } }));
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await customers?.stop();
  redis?.disconnect();
});

it('after a SIGKILL and a restart, /ready, /metrics and the gateway report the last applied event time from before the kill', async () => {
  const startedAt = Date.now();
  const reg = await gw(`mutation { registerCustomer(input: { name: "Ada", email: "ada-fresh@example.com" }) { id } }`);
  expect(reg.errors).toBeUndefined();
  const id = reg.data.registerCustomer.id as string;

  // Before the kill: the registration is applied (read-your-writes), and all three surfaces say when.
  const read = await gw(CUSTOMER, { id });
  expect(read.data.customer).toEqual({ id, name: 'Ada' });
  const gatewayBefore = read.extensions!.freshness!.customers;
  const freshBefore = gatewayBefore.filter((v) => v.lastEventAt !== null);
  // The profiles view applied the registration; the views of topics nobody wrote to have no time.
  expect(freshBefore.map((v) => v.view)).toEqual([`${namespace}customers.profiles`]);
  const lastEventAt = freshBefore[0].lastEventAt!;
  expect(Date.parse(lastEventAt)).toBeGreaterThanOrEqual(startedAt - 1000);
  expect(Date.parse(lastEventAt)).toBeLessThanOrEqual(Date.now());

  const readyBefore = await ready();
  expect(timesOf(readyBefore.views)).toEqual(timesOf(gatewayBefore));
  const eventTimesBefore = await gauge('streamgraph_projection_last_event_timestamp_seconds');
  // One partition of the profiles view holds the registration; its gauge is that time in seconds.
  expect([...eventTimesBefore.entries()]).toEqual([[expect.stringMatching(new RegExp(`^${escapeRegExp(`${namespace}customers.profiles`)} \\d+$`)), String(Date.parse(lastEventAt) / 1000)]]);
  const appliedBefore = await gauge('streamgraph_projection_applied_events_total');
  expect([...appliedBefore.values()].reduce((a, v) => a + Number(v), 0)).toBe(1);

  // The crash, and a new process on the same port. Its start waits for its views' partitions
  // (once the dead member's session expired), so by /health it runs.
  await customers.kill();
  await customers.restart();

  const readyAfter = await waitFor(async () => {
    const r = await ready();
    return r.ready && r.views.every((v) => v.state === 'running') ? r : null;
  }, { what: 'the restarted process to be ready with its views running', timeoutMs: 30_000 });
  expect(timesOf(readyAfter.views)).toEqual(timesOf(readyBefore.views));

  // /metrics: the same event time per partition, though this process applied nothing (so it
  // was not re-learnt by applying the event again: it came with the checkpoint).
  expect(await gauge('streamgraph_projection_last_event_timestamp_seconds')).toEqual(eventTimesBefore);
  const appliedAfter = await gauge('streamgraph_projection_applied_events_total');
  expect(appliedAfter.size).toBe(appliedBefore.size);
  expect([...appliedAfter.values()].every((v) => v === '0')).toBe(true);

  // Through the gateway: the restarted instance answers, and its freshness is not null.
  const readAfter = await waitFor(async () => {
    const r = await gw(CUSTOMER, { id });
    return r.errors === undefined && r.data?.customer?.name === 'Ada' ? r : null;
  }, { what: 'the gateway to read the customer from the restarted process', timeoutMs: 30_000 });
  expect(timesOf(readAfter.extensions!.freshness!.customers)).toEqual(timesOf(gatewayBefore));
  expect(readAfter.extensions!.freshness!.customers.find((v) => v.view === `${namespace}customers.profiles`)?.lastEventAt).toBe(lastEventAt);
}, 120_000);
