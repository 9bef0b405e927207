// Hostile input over graphql-ws (graphql-transport-ws), by class: wrong or missing subprotocols,
// wrong paths, messages that are not the protocol, protocol steps out of order, oversize frames,
// bad tokens, per-operation errors that must leave the connection open, too many operations on
// one connection, and raw TCP garbage. Raw `ws` sockets for misuse (to see exact close codes),
// graphql-ws's own client for the normal paths. Every case ends with the gateway alive.
import { createClient, type Client } from 'graphql-ws';
import jwt from 'jsonwebtoken';
import net from 'node:net';
import WebSocket from 'ws';
import { GATEWAY_TEST_JWT_SECRET } from '../support/gatewayProcess';
import { waitFor } from '../support/waitFor';
import { closeCodeIn, expectAlive, expectNothingLeaked, MAX_BODY_BYTES, rawSocket, rawTcp, settled, startHostileStack, token, upgradeRequest, type HostileStack, type RawSocket } from './harness';

const MAX_OPERATIONS = 5;
let stack: HostileStack;
const gw = () => stack.gateway();
const sockets: RawSocket[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  stack = await startHostileStack('hostile-ws', { GATEWAY_WS_MAX_OPERATIONS: String(MAX_OPERATIONS) });
});
beforeEach(async () => {
  await stack?.ensureGateway();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await stack?.stop();
});

/** A raw graphql-transport-ws socket to the current gateway, closed after the test. */
const open = (protocols: string | string[] | undefined = 'graphql-transport-ws', path = '/graphql') => {
  const s = rawSocket(gw().wsUrl.replace(/\/graphql$/, path), protocols);
  sockets.push(s);
  return s;
};

/** Subscribes `{ __typename }` on `s` and waits for its data: the connection is open and served. */
let probes = 0;
async function expectServed(s: RawSocket): Promise<void> {
  const id = `probe-${++probes}`;
  s.send({ id, type: 'subscribe', payload: { query: '{ __typename }' } });
  const next = await s.next((m) => m.id === id && (m.type === 'next' || m.type === 'error'), 'the probe query to be answered');
  expect(next).toMatchObject({ type: 'next', payload: { data: { __typename: 'Query' } } });
  expect(s.closed).toBeNull();
}

const now = () => Math.floor(Date.now() / 1000);
/** A long-lived subscription that sends nothing (no store has this id): it stays open. */
const quietSubscription = (n: number | string) => `subscription { inventoryChanged(storeId: "hostile-no-such-store-${n}") { quantity } }`;

describe('the subprotocol', () => {
  // Raw TCP, because a `ws` client that asked for a subprotocol aborts the handshake itself when the
  // server picks none, and would never see the server's close code.
  it.each([
    ['no subprotocol', null],
    ['the legacy graphql-ws', 'graphql-ws'],
    ['an unknown one', 'foo'],
    ['a near miss', 'graphql-transport-ws2'],
    ['several unknown ones', 'a, b, c'],
  ])('%s -> closed with 4406 and the gateway stays alive', async (_label, protocol) => {
    const ex = await rawTcp(gw().port, upgradeRequest(gw().port, '/graphql', protocol), { timeoutMs: 8000, stopWhen: (r) => closeCodeIn(r) !== null });
    expect({ status: ex.status, closeCode: closeCodeIn(ex.received), head: ex.received.slice(0, 160) }).toMatchObject({ status: 101, closeCode: 4406 });
    await expectAlive(gw());
  });

  it('no subprotocol, from a ws client -> 4406 and the gateway stays alive', async () => {
    const s = open([]);
    expect(await s.closeCode()).toBe(4406);
    await expectAlive(gw());
  });

  it('graphql-transport-ws among others is accepted and served', async () => {
    const s = open(['foo', 'graphql-transport-ws']);
    await s.init();
    await expectServed(s);
    await expectAlive(gw());
  });
});

describe('upgrades on another path -> HTTP 404', () => {
  it.each(['/', '/nope', '/graphql/extra', '/health', '/demo'])('%s', async (path) => {
    const s = open('graphql-transport-ws', path);
    await settled(s);
    expect({ refusedWith: s.refusedWith, opened: s.opened }).toEqual({ refusedWith: 404, opened: false });
    await expectAlive(gw());
  });
});

describe('messages that are not graphql-transport-ws -> 4400', () => {
  it.each<[string, boolean, unknown]>([
    ['non-JSON text before connection_init', false, 'hello'],
    ['non-JSON text after connection_ack', true, 'hello'],
    ['a binary frame', true, Buffer.from([1, 2, 3, 4])],
    ['a JSON array', true, '[]'],
    ['JSON null', true, 'null'],
    ['a JSON number', true, '42'],
    ['a message without a type', true, { id: '1' }],
    ['an unknown message type', true, { type: 'nope' }],
    ['connection_init with a payload that is not an object', false, { type: 'connection_init', payload: 'x' }],
    ['subscribe without an id', true, { type: 'subscribe', payload: { query: '{ __typename }' } }],
    ['subscribe with a numeric id', true, { id: 1, type: 'subscribe', payload: { query: '{ __typename }' } }],
    ['subscribe without a payload', true, { id: '1', type: 'subscribe' }],
    ['subscribe without payload.query', true, { id: '1', type: 'subscribe', payload: { variables: {} } }],
    ['subscribe with payload.query a number', true, { id: '1', type: 'subscribe', payload: { query: 42 } }],
    ['connection_ack from the client', true, { type: 'connection_ack' }],
    ['next from the client', true, { id: '1', type: 'next', payload: { data: {} } }],
  ])('%s', async (_label, initFirst, message) => {
    const s = open();
    if (initFirst) await s.init();
    else await settled(s);
    s.send(message);
    expect(await s.closeCode()).toBe(4400);
    await expectAlive(gw());
  });
});

describe('protocol steps out of order', () => {
  it('subscribe before connection_ack -> 4401', async () => {
    const s = open();
    await settled(s);
    s.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } });
    expect(await s.closeCode()).toBe(4401);
    await expectAlive(gw());
  });

  it('a second connection_init -> 4429', async () => {
    const s = open();
    await s.init();
    s.send({ type: 'connection_init' });
    expect(await s.closeCode()).toBe(4429);
    await expectAlive(gw());
  });

  it('a duplicate subscribe id -> 4409', async () => {
    const s = open();
    await s.init();
    s.send({ id: 'same', type: 'subscribe', payload: { query: quietSubscription('dup') } });
    s.send({ id: 'same', type: 'subscribe', payload: { query: quietSubscription('dup') } });
    expect(await s.closeCode()).toBe(4409);
    await expectAlive(gw());
  });
});

describe('frames over the limit -> 1009', () => {
  it.each([
    ['one byte over 102400', MAX_BODY_BYTES + 1],
    ['5 MB', 5 * 1024 * 1024],
  ])('%s', async (_label, bytes) => {
    const s = open();
    await s.init();
    const query = `{ __typename }`;
    const head = JSON.stringify({ id: 'big', type: 'subscribe', payload: { query, variables: { pad: '' } } });
    s.send(head.replace('"pad":""', `"pad":"${'x'.repeat(bytes - head.length)}"`));
    expect(await s.closeCode()).toBe(1009);
    await expectAlive(gw());
  });
});

describe('bad tokens in connection_init -> 4403', () => {
  it.each<[string, () => unknown]>([
    ['"Bearer x"', () => 'Bearer x'],
    ['another scheme', () => 'Basic dXNlcjpwYXNz'],
    ['expired', () => `Bearer ${jwt.sign({ sub: 'c-1', roles: ['customer'], exp: now() - 60 }, GATEWAY_TEST_JWT_SECRET)}`],
    ['badly signed', () => `Bearer ${jwt.sign({ sub: 'c-1', roles: ['admin'], exp: now() + 60 }, 'not-the-gateway-secret-0123456789abcdef')}`],
    ['unsigned (alg none)', () => `Bearer ${jwt.sign({ sub: 'c-1', roles: ['admin'], exp: now() + 60 }, '', { algorithm: 'none' })}`],
    ['12 KB of garbage', () => `Bearer ${'a'.repeat(12 * 1024)}`],
    ['a number', () => 42],
    ['an object', () => ({ token: 'x' })],
    ['an array', () => ['Bearer x']],
  ])('%s', async (_label, authorization) => {
    const s = open();
    await settled(s);
    s.send({ type: 'connection_init', payload: { authorization: authorization() } });
    expect(await s.closeCode()).toBe(4403);
    expect(s.messages.filter((m) => m.type === 'connection_ack')).toEqual([]);
    await expectAlive(gw());
  });
});

describe('errors about one operation keep the connection open', () => {
  // Depth 4n + 1 below its root field: customer > orders > edges > node, n times, then id.
  const chain = (n: number): string => (n === 0 ? 'id' : `customer { orders(first: 1) { edges { node { ${chain(n - 1)} } } } }`);
  const aliased = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: quantity`).join(' ');
  let ofType = 'name';
  for (let i = 0; i < 30; i++) ofType = `ofType { ${ofType} }`;
  it.each<[string, string, Record<string, unknown>]>([
    ['a subscription that does not parse', 'GRAPHQL_PARSE_FAILED', { query: 'subscription { inventoryChanged(storeId: "s) { quantity } }' }],
    ['a query that does not parse', 'GRAPHQL_PARSE_FAILED', { query: '{ product(id: ' }],
    ['10,000 nested selections never closed', 'GRAPHQL_PARSE_FAILED', { query: '{ a '.repeat(10_000) }],
    ['a subscription with an unknown field', 'GRAPHQL_VALIDATION_FAILED', { query: 'subscription { inventoryChanged(storeId: "s") { nope } }' }],
    ['a query with an unknown field', 'GRAPHQL_VALIDATION_FAILED', { query: '{ nope }' }],
    ['a subscription with two root fields', 'GRAPHQL_VALIDATION_FAILED', { query: 'subscription { myOrders { id } orderUpdated(id: "o") { id } }' }],
    ['a subscription over the alias limit', 'OPERATION_LIMIT', { query: `subscription { inventoryChanged(storeId: "s") { ${aliased(31)} } }` }],
    ['a subscription over the depth limit', 'OPERATION_LIMIT', { query: `subscription { orderUpdated(id: "o") { ${chain(3)} } }` }],
    [
      'a subscription over the cost limit',
      'OPERATION_LIMIT',
      { query: `subscription { orderUpdated(id: "o") { customer { orders(first: 100) { edges { node { items { quantity product { id name } } } } } } } }` },
    ],
    ['a query over the depth limit', 'OPERATION_LIMIT', { query: `{ order(id: "x") { ${chain(3)} } }` }],
    ['100 aliased __schema', 'OPERATION_LIMIT', { query: `{ ${Array.from({ length: 100 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }` }],
    ['__type with 30 levels of ofType', 'OPERATION_LIMIT', { query: `{ __type(name: "Query") { fields { type { ${ofType} } } } }` }],
    [
      'a fragment bomb',
      'OPERATION_LIMIT',
      {
        query:
          `subscription { inventoryChanged(storeId: "s") { ...F20 } }\nfragment F0 on InventoryLevel { a: quantity b: version }\n` +
          Array.from({ length: 20 }, (_, i) => `fragment F${i + 1} on InventoryLevel { ...F${i} ...F${i} }`).join('\n'),
      },
    ],
    ['an unknown operationName', 'OPERATION_RESOLUTION_FAILURE', { query: 'subscription A { myOrders { id } }', operationName: 'B' }],
    ['two operations without operationName', 'OPERATION_RESOLUTION_FAILURE', { query: 'query A { __typename } query B { __typename }' }],
    ['a variable of the wrong type', 'BAD_USER_INPUT', { query: 'subscription($s: ID!) { inventoryChanged(storeId: $s) { quantity } }', variables: { s: { a: 1 } } }],
    ['a required variable missing', 'BAD_USER_INPUT', { query: 'subscription($s: ID!) { inventoryChanged(storeId: $s) { quantity } }', variables: {} }],
  ])('%s -> %s', async (_label, code, payload) => {
    const s = open();
    await s.init({ authorization: `Bearer ${token('hostile-customer-1', 'customer')}` });
    s.send({ id: 'op', type: 'subscribe', payload });
    const answer = await s.next((m) => m.id === 'op' && (m.type === 'error' || m.type === 'next'), 'the operation to be refused');
    // A subscription is refused with an `error` message; a query may also answer a `next` with errors.
    const errors = answer.type === 'error' ? answer.payload : answer.payload?.errors;
    expect({ type: answer.type, code: errors?.[0]?.extensions?.code, message: errors?.[0]?.message }).toMatchObject({ code });
    if (/^subscription/.test(String(payload.query))) expect(answer.type).toBe('error');
    expect(errors.map((e: any) => e.extensions?.code)).not.toContain('INTERNAL_SERVER_ERROR');
    expectNothingLeaked(JSON.stringify(answer));
    await expectServed(s);
    await expectAlive(gw());
  });
});

describe('operations per connection (GATEWAY_WS_MAX_OPERATIONS=5)', () => {
  it('the sixth open operation gets TOO_MANY_SUBSCRIPTIONS; the five stay open and the connection serves', async () => {
    const client = createClient({ url: gw().wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    clients.push(client);
    const outcomes = Array.from({ length: MAX_OPERATIONS + 1 }, () => ({ errors: null as any, completed: false, nexts: 0, dispose: () => {} }));
    outcomes.forEach((o, i) => {
      o.dispose = client.subscribe(
        { query: quietSubscription(`limit-${i}`) },
        { next: () => void o.nexts++, error: (e) => void (o.errors = e), complete: () => void (o.completed = true) },
      );
    });
    const sixth = outcomes[MAX_OPERATIONS];
    await waitFor(() => sixth.errors, { what: 'the sixth operation to be refused', timeoutMs: 10_000 });
    expect(Array.isArray(sixth.errors) ? sixth.errors[0]?.extensions?.code : sixth.errors).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(outcomes.slice(0, MAX_OPERATIONS).map((o) => ({ errors: o.errors, completed: o.completed }))).toEqual(
      Array.from({ length: MAX_OPERATIONS }, () => ({ errors: null, completed: false })),
    );
    // One of the five ends: the connection has room again and serves a query.
    outcomes[0].dispose();
    const result = await new Promise<any>((resolve, reject) => {
      let last: unknown;
      client.subscribe({ query: '{ products(first: 1) { edges { cursor } } }' }, { next: (v) => void (last = v), error: reject, complete: () => resolve(last) });
    });
    expect(result).toMatchObject({ data: { products: { edges: expect.any(Array) } } });
    await expectAlive(gw());
  });

  it('graphql-ws client: a query answers data; a customer token is accepted', async () => {
    const client = createClient({
      url: gw().wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token('hostile-customer-1', 'customer')}` },
    });
    clients.push(client);
    const result = await new Promise<any>((resolve, reject) => {
      let last: unknown;
      client.subscribe({ query: '{ me { id } products(first: 1) { edges { cursor } } }' }, { next: (v) => void (last = v), error: reject, complete: () => resolve(last) });
    });
    expect(result.data.products.edges).toEqual(expect.any(Array));
    await expectAlive(gw());
  });
});

describe('raw TCP garbage to the port', () => {
  const random = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
  const tlsHello = Buffer.from('16030100a5010000a10303' + '00'.repeat(32) + '0000200a0a', 'hex');
  it.each<[string, Buffer | string]>([
    ['64 KB of random bytes', random(64 * 1024)],
    ['a TLS ClientHello', tlsHello],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['an unknown method', 'FOO /graphql HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['an HTTP/0.9 request', 'GET /graphql\r\n\r\n'],
    ['a head that never ends', 'GET /graphql HTTP/1.1\r\nhost: x\r\n'],
    ['1,000 NUL bytes', Buffer.alloc(1000)],
    ['a 100 KB request line', `GET /${'a'.repeat(100 * 1024)} HTTP/1.1\r\n\r\n`],
    ['an upgrade with a bad Sec-WebSocket-Version', upgradeRequest(0, '/graphql', 'graphql-transport-ws', { 'sec-websocket-version': '7' })],
    ['an upgrade without a key', upgradeRequest(0, '/graphql', 'graphql-transport-ws', { 'sec-websocket-key': '' })],
    ['an upgrade then garbage frames', upgradeRequest(0, '/graphql', 'graphql-transport-ws') + 'garbage that is not a frame'],
    ['a content-length and a chunked body at once', 'POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a negative content-length', 'POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n'],
  ])('%s -> the gateway stays alive (and answers 4xx if at all)', async (_label, bytes) => {
    const ex = await rawTcp(gw().port, bytes, { timeoutMs: 1500 });
    if (ex.status !== null && ex.status !== 101) expect(ex.status).toBeGreaterThanOrEqual(400);
    if (ex.status !== null) expect(ex.status).toBeLessThan(500);
    expectNothingLeaked(ex.received);
    await expectAlive(gw());
  });

  it('200 connections opened and dropped at once -> alive', async () => {
    await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<void>((resolve) => {
            const c = net.connect(gw().port, '127.0.0.1', () => c.destroy());
            c.on('close', () => resolve());
            c.on('error', () => undefined);
          }),
      ),
    );
    await expectAlive(gw());
  });
});

afterAll(() => {
  // Say so when the gateway process had to be replaced: each replacement is a crash a case caused.
  if (stack?.deaths.length) console.warn(`hostile ws: the gateway process died ${stack.deaths.length} time(s):\n${stack.deaths.map((d) => `exit ${d.exitCode}: ${d.output.split('\n').slice(-8).join('\n')}`).join('\n---\n')}`);
});
