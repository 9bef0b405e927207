// Schema membership apart from liveness, through the gateway against real Kafka and Redis: a
// subgraph's fields stay in the graph while its only instance is stopped, SIGKILLed and
// restarted (they answer SUBGRAPH_UNAVAILABLE with paths meanwhile, never a validation
// failure, and the other subgraph's fields never fail); only `subgraph remove` or a publish
// that drops fields takes fields out, and both are refused when a recently served operation
// would break. The gateway logs each of these: an instance joining and leaving, a publish, a
// removal, a refused publish or removal. Also: a view's freshness survives a restart of its process.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import pino from 'pino';
import { startGateway, type GatewayHandle } from '../gateway/server';
import { signDevToken } from '../gateway/token';
import { readRecentOperations } from '../platform/operationLog';
import { readSchemaRecords } from '../platform/registry';
import { startCustomersSubgraph } from '../subgraphs/customers';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { testGatewayConfig } from './support/gatewayConfig';
import { createNamespace } from './support/namespace';
import { freePort } from './support/subgraphProcess';
import { waitFor } from './support/waitFor';

const JWT_SECRET = 'membership-test-jwt-secret-0123456789';
const admin = signDevToken({ sub: 'admin-1', roles: ['admin'], secret: JWT_SECRET, expiresInSec: 3600 });
const ROOT = path.join(__dirname, '..');

let namespace: string;
let redis: Redis;
let customers: SubgraphHandle;
let gateway: GatewayHandle;
let loyaltyPort: number;
let loyalty: ChildProcess | null = null;
let customerId: string;

/** The gateway's log lines, parsed: its logger at info, written here instead of to stdout. */
const gatewayLog: Array<Record<string, any>> = [];
const gatewayLogger = pino({ name: 'membership-gateway', level: 'info' }, { write: (line: string) => void gatewayLog.push(JSON.parse(line)) });
const LOG = {
  joined: 'subgraph instance joined',
  left: 'subgraph instance left',
  leftAlone: 'subgraph instance left; none runs now, its fields answer SUBGRAPH_UNAVAILABLE',
  graphJoined: 'subgraph joined the graph (schema published)',
  graphLeft: 'subgraph left the graph (schema removed)',
  published: 'schema published',
  removed: 'schema removed',
  composed: 'supergraph composed',
  publishRefused: 'publish refused by the schema checks; the graph is unchanged',
  removeRefused: 'remove refused by the schema checks; the graph is unchanged',
};
const INFO = 30;
const WARN = 40;
/** The gateway's lines from index `from` on with message `msg` and (at least) these fields; matchers allowed. */
const lines = (msg: string, fields: Record<string, unknown> = {}, from = 0) =>
  gatewayLog.slice(from).filter((l) => l.msg === msg && expect.objectContaining(fields).asymmetricMatch(l));
/** Waits for the first such line (log lines of registry changes follow a Redis notice or a poll). */
async function logLine(msg: string, fields: Record<string, unknown> = {}, from = 0): Promise<Record<string, any>> {
  try {
    return await waitFor(() => lines(msg, fields, from)[0], { what: `the gateway to log "${msg}" with the expected fields`, timeoutMs: 20_000 });
  } catch (e) {
    throw new Error(`${(e as Error).message}; its lines with that message: ${JSON.stringify(lines(msg, {}, from))}`);
  }
}
const loyaltyLines = (from = 0) => gatewayLog.slice(from).filter((l) => l.subgraph === 'loyalty');

async function gw(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[] }) };
}

/** The query a client keeps sending: one subgraph's root field, the other's entity field, and the other's root field. */
const MEMBER_QUERY = `query MemberCard($id: ID!) { customer(id: $id) { id name points } topMembers { id } }`;
/** Only the customers subgraph's fields: must never fail, whatever loyalty does. */
const CUSTOMER_QUERY = `query CustomerOnly($id: ID!) { customer(id: $id) { id name } }`;

async function startLoyalty() {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures/loyaltySubgraph.ts')], {
    env: { ...process.env, LOYALTY_PORT: String(loyaltyPort), STREAMGRAPH_NAMESPACE: namespace, LOYALTY_MEMBERS: customerId },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  loyalty = proc;
  await waitFor(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${loyaltyPort}/health`)).ok;
    } catch {
      return false;
    }
  }, { what: 'the loyalty subgraph process', timeoutMs: 60_000 });
}

async function stopLoyalty(signal: 'SIGTERM' | 'SIGKILL') {
  const proc = loyalty;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  await exited;
}

const liveLoyalty = () => {
  const s = gateway.supergraphState();
  return s.phase === 'composed' && s.subgraphs.includes('loyalty') && !s.unavailable.includes('loyalty');
};

function expectFull(r: Awaited<ReturnType<typeof gw>>) {
  expect(r.errors).toBeUndefined();
  expect(r.data.customer).toEqual({ id: customerId, name: 'Ada', points: customerId.length * 10 });
  expect(r.data.topMembers).toEqual([{ id: customerId }]);
}

/** Partial data: customers' fields present, loyalty's null with SUBGRAPH_UNAVAILABLE at their paths. */
function expectPartial(r: Awaited<ReturnType<typeof gw>>) {
  expect(r.status).toBe(200);
  expect(r.data.customer).toEqual({ id: customerId, name: 'Ada', points: null });
  expect(r.data.topMembers).toBeNull();
  const errors = r.errors!;
  expect(errors.every((e) => e.extensions?.code === 'SUBGRAPH_UNAVAILABLE' && e.extensions?.serviceName === 'loyalty')).toBe(true);
  expect(errors.map((e) => e.path).sort()).toEqual([['customer', 'points'], ['topMembers']].sort());
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/subgraph.ts'), ...args], {
      env: { ...process.env, STREAMGRAPH_NAMESPACE: namespace },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  namespace = await createNamespace('membership');
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  customers = await startCustomersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port: await freePort() });
  gateway = await startGateway(
    testGatewayConfig(
      { namespace, redis, jwtSecret: JWT_SECRET, label: 'membership-gateway' },
      { supergraph: { kind: 'registry', namespace, pollMs: 300, absenceWindowMs: 12_000, operationFlushMs: 200 }, logger: gatewayLogger },
    ),
  );
  const reg = await gw(`mutation { registerCustomer(input: { name: "Ada", email: "ada@example.com" }) { id } }`);
  customerId = reg.data.registerCustomer.id;
  loyaltyPort = await freePort();
  await startLoyalty();
  await waitFor(liveLoyalty, { what: 'loyalty in the graph with a live instance' });
}, 120_000);

afterAll(async () => {
  await stopLoyalty('SIGKILL');
  await gateway?.close();
  await customers?.close();
  redis?.disconnect();
});

describe('a subgraph that stops, crashes and restarts stays in the graph', () => {
  it('answers partial data with SUBGRAPH_UNAVAILABLE and paths during the outage, full data after, and never fails the other subgraph', async () => {
    expectFull(await gw(MEMBER_QUERY, { id: customerId }));
    // Loyalty's first start, as the gateway logged it: the instance joined, that instance
    // published the schema, and the subgraph joined the graph.
    const first = await logLine(LOG.joined, { level: INFO, subgraph: 'loyalty', url: `http://127.0.0.1:${loyaltyPort}/graphql`, instance: expect.any(String) });
    await logLine(LOG.published, { level: INFO, subgraph: 'loyalty', by: first.instance });
    await logLine(LOG.graphJoined, { level: INFO, subgraph: 'loyalty' });
    await logLine(LOG.composed, { level: INFO, subgraphs: ['customers', 'loyalty'] });
    const startMark = gatewayLog.length;

    // Clients keep querying throughout; the customers-only query must never fail, and no
    // query may fail validation.
    let running = true;
    const failures: unknown[] = [];
    let served = 0;
    const load = (async () => {
      while (running) {
        const [own, mixed] = await Promise.all([gw(CUSTOMER_QUERY, { id: customerId }), gw(MEMBER_QUERY, { id: customerId })]);
        if (own.errors || own.data?.customer?.name !== 'Ada') failures.push({ query: 'CustomerOnly', own });
        if (mixed.status !== 200 || mixed.errors?.some((e) => e.extensions?.code !== 'SUBGRAPH_UNAVAILABLE') || mixed.data?.customer?.name !== 'Ada')
          failures.push({ query: 'MemberCard', mixed });
        served++;
      }
    })();

    // A clean stop: the instance deregisters, the schema stays. The gateway warns that no
    // instance runs and what that means.
    let mark = gatewayLog.length;
    await stopLoyalty('SIGTERM');
    await waitFor(() => !liveLoyalty(), { what: 'the gateway to see no loyalty instance' });
    await logLine(LOG.leftAlone, { level: WARN, subgraph: 'loyalty', instance: first.instance, why: 'deregistered' }, mark);
    const state = gateway.supergraphState();
    expect(state.phase === 'composed' && state.subgraphs).toContain('loyalty');
    expectPartial(await gw(MEMBER_QUERY, { id: customerId }));

    mark = gatewayLog.length;
    await startLoyalty();
    await waitFor(liveLoyalty, { what: 'the restarted instance' });
    const second = await logLine(LOG.joined, { level: INFO, subgraph: 'loyalty', url: `http://127.0.0.1:${loyaltyPort}/graphql` }, mark);
    expect(second.instance).not.toBe(first.instance);
    await waitFor(async () => (await gw(MEMBER_QUERY, { id: customerId })).errors === undefined, { what: 'full data after the restart' });
    expectFull(await gw(MEMBER_QUERY, { id: customerId }));

    // A crash: no goodbye. The first request finds the connection refused and routes around it.
    mark = gatewayLog.length;
    await stopLoyalty('SIGKILL');
    expectPartial(await gw(MEMBER_QUERY, { id: customerId }));
    // Past the absence window its fields are still in the graph.
    await waitFor(() => !liveLoyalty(), { what: 'the instance to expire' });
    expectPartial(await gw(MEMBER_QUERY, { id: customerId }));
    // Its heartbeats stopped: the same warning, with that reason.
    await logLine(LOG.leftAlone, { level: WARN, subgraph: 'loyalty', instance: second.instance, why: 'heartbeats stopped' }, mark);
    expect(lines(LOG.left, { subgraph: 'loyalty' }, mark)).toEqual([]);

    mark = gatewayLog.length;
    await startLoyalty();
    await waitFor(async () => (await gw(MEMBER_QUERY, { id: customerId })).errors === undefined, { what: 'full data after the crash' });
    expectFull(await gw(MEMBER_QUERY, { id: customerId }));
    const third = await logLine(LOG.joined, { level: INFO, subgraph: 'loyalty' }, mark);
    expect([first.instance, second.instance]).not.toContain(third.instance);

    await waitFor(() => served > 20, { what: 'load during the outages' });
    running = false;
    await load;
    expect(failures).toEqual([]);
    // Stops and restarts change instances only: loyalty never left the graph, and a restart with
    // the published schema is no publish (the first restart was long enough ago to have shown one).
    const membership = loyaltyLines(startMark).filter((l) => [LOG.published, LOG.removed, LOG.graphJoined, LOG.graphLeft].includes(l.msg));
    expect(membership).toEqual([]);
  }, 120_000);
});

describe('only a checked publish or removal changes the graph', () => {
  it('refuses a publish that drops a field a recent operation uses, naming the operation; --force publishes it', async () => {
    await gw(MEMBER_QUERY, { id: customerId });
    await waitFor(async () => (await readRecentOperations(redis, namespace)).some((o) => o.name === 'MemberCard'), { what: 'MemberCard recorded as served' });
    const sdl = path.join(os.tmpdir(), `${namespace}loyalty.graphql`);
    fs.writeFileSync(sdl, `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { topMembers: [Customer] }
type Customer @key(fields: "id") { id: ID! }`);
    const url = `http://127.0.0.1:${loyaltyPort}/graphql`;

    const mark = gatewayLog.length;
    const dry = await cli(['publish', 'loyalty', '--sdl', sdl, '--url', url, '--dry-run']);
    expect(dry.code).toBe(1);
    const refused = await cli(['publish', 'loyalty', '--sdl', sdl, '--url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/publish refused \(breaking\)/);
    expect(refused.stderr).toMatch(/operation MemberCard .*would fail: .*points/);
    // Refused: the graph still has the field. The gateway warns who was refused what, and why.
    expect((await gw(MEMBER_QUERY, { id: customerId })).errors).toBeUndefined();
    await logLine(LOG.publishRefused, {
      level: WARN,
      subgraph: 'loyalty',
      by: 'cli',
      action: 'publish',
      problems: [expect.stringMatching(/^operation MemberCard \(last served .*\) would fail: .*points/)],
    }, mark);
    // Once: a dry run is not announced.
    expect(lines(LOG.publishRefused, {}, mark)).toHaveLength(1);
    expect(loyaltyLines(mark).filter((l) => l.msg === LOG.published)).toEqual([]);

    const forced = await cli(['publish', 'loyalty', '--sdl', sdl, '--url', url, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/forced past: operation MemberCard/);
    await waitFor(async () => (await gw(MEMBER_QUERY, { id: customerId })).errors?.[0]?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED', {
      what: 'points to leave the graph',
    });
    // The forced publish, logged with who published; the graph recomposed with loyalty still in
    // it (a changed schema, not a subgraph joining).
    await logLine(LOG.published, { level: INFO, subgraph: 'loyalty', by: 'cli' }, mark);
    await logLine(LOG.composed, { level: INFO, subgraphs: ['customers', 'loyalty'] }, mark);
    expect(lines(LOG.graphJoined, {}, mark)).toEqual([]);
    // The rest of loyalty is still there.
    expect((await gw(`{ topMembers { id } }`)).data.topMembers).toEqual([{ id: customerId }]);
  }, 60_000);

  it('remove is refused while operations use the subgraph, takes its fields out with --force, and a restarted instance does not bring it back', async () => {
    const mark = gatewayLog.length;
    await gw(`query TopMembers { topMembers { id } }`);
    await waitFor(async () => (await readRecentOperations(redis, namespace)).some((o) => o.name === 'TopMembers'), { what: 'TopMembers recorded as served' });
    const refused = await cli(['remove', 'loyalty']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/operation TopMembers/);
    await logLine(LOG.removeRefused, {
      level: WARN,
      subgraph: 'loyalty',
      by: 'cli',
      action: 'remove',
      problems: expect.arrayContaining([expect.stringMatching(/^operation TopMembers \(last served .*\) would fail/)]),
    }, mark);
    expect(lines(LOG.removed, {}, mark)).toEqual([]);

    const removed = await cli(['remove', 'loyalty', '--force']);
    expect(removed.code).toBe(0);
    await waitFor(() => {
      const s = gateway.supergraphState();
      return s.phase === 'composed' && !s.subgraphs.includes('loyalty');
    }, { what: 'loyalty to leave the graph' });
    expect((await gw(`{ topMembers { id } }`)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    await logLine(LOG.removed, { level: INFO, subgraph: 'loyalty', by: 'cli' }, mark);
    await logLine(LOG.graphLeft, { level: INFO, subgraph: 'loyalty' }, mark);
    await logLine(LOG.composed, { level: INFO, subgraphs: ['customers'] }, mark);

    // An instance of a subgraph out of the graph leaving is news, not a warning: no fields depend on it.
    const stopMark = gatewayLog.length;
    await stopLoyalty('SIGTERM');
    await logLine(LOG.left, { level: INFO, subgraph: 'loyalty', why: 'deregistered' }, stopMark);
    expect(lines(LOG.leftAlone, {}, stopMark)).toEqual([]);
    await startLoyalty();
    await logLine(LOG.joined, { level: INFO, subgraph: 'loyalty' }, stopMark);
    expect((await readSchemaRecords(redis, namespace)).get('loyalty')?.kind).toBe('removed');
    const list = await cli(['list']);
    expect(list.stdout).toMatch(/loyalty {2}removed/);
    expect(list.stdout).toMatch(/customers {2}published/);
  }, 60_000);
});

describe('freshness', () => {
  it('a restarted subgraph reports the last applied event time kept with the checkpoint, not null', async () => {
    await waitFor(() => customers.runtime.freshness().some((v) => v.lastEventAt !== null), { what: 'customers to have applied an event' });
    const before = customers.runtime.freshness();
    const port = await freePort();
    await customers.close();
    customers = await startCustomersSubgraph({ namespace, identitySecret: TEST_IDENTITY_SECRET, port });
    await waitFor(() => customers.runtime.freshness().some((v) => v.lastEventAt !== null), { what: 'freshness after the restart' });
    const after = customers.runtime.freshness();
    for (const v of before.filter((b) => b.lastEventAt !== null)) expect(after.find((a) => a.view === v.view)?.lastEventAt).toBe(v.lastEventAt);
  }, 60_000);
});
