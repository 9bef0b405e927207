// Hostile input over HTTP, by class: bodies too large (declared, sent, streamed), envelopes that
// are not GraphQL requests, documents that do not parse or validate, operations over the limits
// (fragment bombs and introspection included), operations that cannot be resolved, persisted-query
// misuse, bad headers, wrong methods and paths. Every case checks the status and error code, that
// nothing internal leaked, and that the gateway process is still alive afterwards.
import { createHash } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import jwt from 'jsonwebtoken';
import { GATEWAY_TEST_JWT_SECRET } from '../support/gatewayProcess';
import {
  drained,
  expectAlive,
  expectNothingLeaked,
  expectRefusal,
  MAX_BODY_BYTES,
  MB,
  post,
  rawTcp,
  request,
  startHostileStack,
  token,
  type HostileStack,
} from './harness';

let stack: HostileStack;
const gw = () => stack.gateway();

beforeAll(async () => {
  stack = await startHostileStack('hostile-http');
});
beforeEach(async () => {
  await stack?.ensureGateway();
});
afterAll(async () => {
  await stack?.stop();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const base64url = (text: string) => Buffer.from(text).toString('base64url');
/** A JSON request body of exactly `bytes` bytes (a valid GraphQL request padded in a variable). */
const bodyOfSize = (bytes: number) => {
  const head = '{"query":"{ __typename }","variables":{"pad":"';
  const tail = '"}}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
};

describe('bodies over GATEWAY_MAX_BODY_BYTES', () => {
  it.each([
    ['one byte over the limit', MAX_BODY_BYTES + 1],
    ['twice the limit', 2 * MAX_BODY_BYTES],
    ['1 MB', MB],
  ])('%s -> 413 REQUEST_TOO_LARGE', async (_label, bytes) => {
    const body = bodyOfSize(bytes);
    expect(Buffer.byteLength(body)).toBe(bytes);
    const res = await post(gw(), body);
    expectRefusal(res, 413, 'REQUEST_TOO_LARGE');
    await expectAlive(gw());
  });

  it('a body of exactly the limit is read (not refused for its size)', async () => {
    const res = await post(gw(), bodyOfSize(MAX_BODY_BYTES));
    expect({ status: res.status, data: res.json?.data }).toEqual({ status: 200, data: { __typename: 'Query' } });
    await expectAlive(gw());
  });

  it('a declared Content-Length of 1 GB -> 413 promptly, without the body being sent', async () => {
    const head =
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` + `content-length: ${1024 ** 3}\r\n\r\n{"query":"{ __typename }"`;
    const ex = await rawTcp(gw().port, head, { timeoutMs: 10_000, stopWhen: (r) => r.includes('\r\n\r\n') && r.includes('}') });
    expect({ status: ex.status, within3s: ex.statusAfterMs !== null && ex.statusAfterMs < 3000, head: ex.received.slice(0, 200) }).toMatchObject({
      status: 413,
      within3s: true,
    });
    expect(ex.received).toContain('REQUEST_TOO_LARGE');
    expectNothingLeaked(ex.received);
    await expectAlive(gw());
  });

  // Streamed five times: a server that cuts the connection while the client is still sending
  // can reset it before the client has read the 413, and then the answer is lost.
  it('a chunked body streamed towards 50 MB -> a 413 within a few seconds, never a hang, memory bounded (5 streams)', async () => {
    const before = gw().rssBytes();
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const chunkHead = `${chunk.length.toString(16)}\r\n`;
    const outcomes = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      let sent = 0;
      const ex = await rawTcp(
        gw().port,
        async (socket, stopped) => {
          socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`);
          while (sent < 50 * MB && !stopped()) {
            const more = socket.write(chunkHead) && socket.write(chunk) && socket.write('\r\n');
            sent += chunk.length;
            if (!more) await drained(socket);
          }
          if (!stopped()) socket.write('0\r\n\r\n');
        },
        { timeoutMs: 15_000, stopWhen: (r) => /\r\n\r\n[\s\S]*\}/.test(r) },
      );
      outcomes.push({
        status: ex.status,
        answeredWithin5s: ex.statusAfterMs !== null && ex.statusAfterMs < 5000,
        code: /REQUEST_TOO_LARGE/.test(ex.received) ? 'REQUEST_TOO_LARGE' : null,
        sentMB: Math.round(sent / MB),
        error: ex.error,
      });
      expectNothingLeaked(ex.received);
      await expectAlive(gw());
    }
    expect(outcomes).toEqual(outcomes.map((o) => ({ ...o, status: 413, answeredWithin5s: true, code: 'REQUEST_TOO_LARGE' })));
    expect((gw().rssBytes() - before) / MB).toBeLessThan(100);
  });
});

describe('envelopes that are not a GraphQL request -> 400 BAD_REQUEST', () => {
  it.each([
    ['not JSON (truncated)', '{"query": "{ __typename }"'],
    ['not JSON (binary junk)', '\u0000\u0001\u0002\u00ff garbage'],
    ['an empty body', ''],
    ['a JSON array (a batch)', '[{"query":"{ __typename }"}]'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['JSON true', 'true'],
    ['a JSON string', '"{ __typename }"'],
    ['an empty object', '{}'],
    ['query missing', '{"variables":{}}'],
    ['query null', '{"query":null}'],
    ['query an empty string', '{"query":""}'],
    ['query a number', '{"query":42}'],
    ['query an array', '{"query":["{ __typename }"]}'],
    ['query an object', '{"query":{"kind":"Document","definitions":[]}}'],
    ['variables an array', '{"query":"{ __typename }","variables":[1,2]}'],
    ['variables a string', '{"query":"{ __typename }","variables":"{}"}'],
    ['variables a number', '{"query":"{ __typename }","variables":7}'],
    ['extensions a number', '{"query":"{ __typename }","extensions":7}'],
    ['extensions an array', '{"query":"{ __typename }","extensions":[]}'],
    ['extensions a string', '{"query":"{ __typename }","extensions":"{}"}'],
    ['operationName a number', '{"query":"{ __typename }","operationName":1}'],
  ])('%s', async (_label, body) => {
    const res = await post(gw(), body);
    expectRefusal(res, 400, 'BAD_REQUEST');
    await expectAlive(gw());
  });
});

describe('documents that do not parse -> 400 GRAPHQL_PARSE_FAILED', () => {
  it.each([
    ['an unterminated string', '{ product(id: "abc) { id } }'],
    ['10,000 nested `{`', '{'.repeat(10_000)],
    ['10,000 nested selections never closed', '{ a '.repeat(10_000)],
    ['a huge single token (a 90 KB name as the document)', 'a'.repeat(90_000)],
    ['a huge single token (a 90 KB unterminated string)', `{ product(id: "${'x'.repeat(90_000)}`],
    ['a huge number token as the document', '9'.repeat(90_000)],
    ['only a comment', '# nothing here'],
    ['a control character', '{ __typename \u0007 }'],
    ['a lone surrogate in a string literal', '{ product(id: "\ud800") { id } }'],
    ['an unbalanced brace', '{ __typename } }'],
  ])('%s', async (_label, query) => {
    const res = await post(gw(), { query });
    expectRefusal(res, 400, 'GRAPHQL_PARSE_FAILED');
    await expectAlive(gw());
  });
});

describe('documents that do not validate -> 400 GRAPHQL_VALIDATION_FAILED', () => {
  it.each([
    ['an unknown root field', '{ nope }'],
    ['an unknown nested field', '{ product(id: "p") { nope } }'],
    ['an unknown argument', '{ product(idd: "p") { id } }'],
    ['a missing required argument', '{ product { id } }'],
    ['an object literal for an ID', '{ product(id: { a: 1 }) { id } }'],
    ['an Int literal over 2^31', '{ products(first: 2147483648) { edges { cursor } } }'],
    ['a selection on a leaf', '{ product(id: "p") { id { x } } }'],
    ['an object without a selection', '{ product(id: "p") }'],
    ['an undefined variable', '{ product(id: $x) { id } }'],
    ['an unknown fragment', '{ ...Nope }'],
    ['a fragment cycle', 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'],
    ['an unknown directive', '{ __typename @nope }'],
    ['two root fields in a subscription', 'subscription { myOrders { id } orderUpdated(id: "o") { id } }'],
    ['two anonymous operations', '{ __typename } { __typename }'],
    ['two hundred unknown fields', `{ ${Array.from({ length: 200 }, (_, i) => `nope${i}`).join(' ')} }`],
  ])('%s', async (_label, query) => {
    const res = await post(gw(), { query });
    expectRefusal(res, 400, 'GRAPHQL_VALIDATION_FAILED');
    await expectAlive(gw());
  });
});

describe('variables of the wrong type -> 400 BAD_USER_INPUT', () => {
  const product = 'query($id: ID!) { product(id: $id) { id } }';
  const upsert = 'mutation($input: ProductInput!) { upsertProduct(input: $input) { id } }';
  it.each([
    ['an object for an ID', product, { id: { a: 1 } }],
    ['a boolean for an ID', product, { id: true }],
    ['a required variable missing', product, {}],
    ['a required variable null', product, { id: null }],
    ['an unknown enum value', 'query($s: StockStatus) { store(id: "s") { inventory(first: 1, status: $s) { edges { cursor } } } }', { s: 'NOPE' }],
    ['an Int over 2^31 in an input object', upsert, { input: { name: 'n', category: 'c', priceCents: 2 ** 31 } }],
    ['a float for an Int in an input object', upsert, { input: { name: 'n', category: 'c', priceCents: 1.5 } }],
    ['an unknown input field', upsert, { input: { name: 'n', category: 'c', priceCents: 1, nope: 1 } }],
    ['a required input field missing', upsert, { input: { name: 'n' } }],
    ['a deeply nested array for a String', upsert, { input: { name: JSON.parse('['.repeat(500) + ']'.repeat(500)), category: 'c', priceCents: 1 } }],
  ])('%s', async (_label, query, variables) => {
    const res = await post(gw(), { query, variables }, { authorization: `Bearer ${token('admin-1', 'admin')}` });
    expectRefusal(res, 400, 'BAD_USER_INPUT');
    await expectAlive(gw());
  });
});

/** `n` fragments, each spreading the previous one twice: the operation expands 2^n times. */
const fragmentBomb = (n: number, base: string, on = 'Query') =>
  `query { ...F${n} }\nfragment F0 on ${on} { ${base} }\n` +
  Array.from({ length: n }, (_, i) => `fragment F${i + 1} on ${on} { ...F${i} ...F${i} }`).join('\n');

describe('operations over the limits -> 400 OPERATION_LIMIT', () => {
  const admin = () => ({ authorization: `Bearer ${token('admin-1', 'admin')}` });
  it.each([
    [
      'depth 14',
      'depth',
      `{ order(id: "x") { customer { orders(first: 1) { edges { node { customer { orders(first: 1) { edges { node { customer { orders(first: 1) { edges { node { id } } } } } } } } } } } } } }`,
      {},
    ],
    ['31 aliases', 'aliases', `{ ${Array.from({ length: 31 }, (_, i) => `p${i}: product(id: "p") { id }`).join(' ')} }`, {}],
    ['cost of nested pages', 'cost', `{ customers(first: 100) { edges { node { id orders(first: 100) { edges { node { id } } } } } } }`, {}],
    [
      'cost from variables',
      'cost',
      `query($n: Int) { customers(first: $n) { edges { node { orders(first: $n) { edges { node { id } } } } } } }`,
      { n: 100 },
    ],
  ])('%s -> limit %s', async (_label, limit, query, variables) => {
    const res = await post(gw(), { query, variables }, admin());
    expectRefusal(res, 400, 'OPERATION_LIMIT');
    expect(res.json.errors[0].extensions.limit).toBe(limit);
    await expectAlive(gw());
  });

  it.each([
    ['2^20 copies of a field', fragmentBomb(20, 'product(id: "p") { id }')],
    ['2^24 copies of two aliases', fragmentBomb(24, 'a: __typename b: __typename')],
    ['2^30 copies of a list field', fragmentBomb(30, 'products(first: 100) { edges { node { id name } } }')],
    [
      '40 nested fragments, 80 levels deep',
      `query { product(id: "p") { ...G40 } }\nfragment G0 on Product { id }\n` +
        Array.from({ length: 40 }, (_, i) => `fragment G${i + 1} on Product { availability(storeId: "s") { product { ...G${i} } } }`).join('\n'),
    ],
  ])('fragment bomb: %s -> refused fast', async (_label, query) => {
    const res = await post(gw(), { query });
    expectRefusal(res, 400, 'OPERATION_LIMIT');
    expect(['depth', 'aliases', 'cost']).toContain(res.json.errors[0].extensions.limit);
    expect(res.ms).toBeLessThan(3000);
    await expectAlive(gw());
  });
});

describe('introspection is held to the limits too', () => {
  let ofType = 'name';
  for (let i = 0; i < 30; i++) ofType = `ofType { ${ofType} }`;
  it.each([
    ['100 aliased __schema { types { name } }', `{ ${Array.from({ length: 100 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`],
    ['__type with 30 levels of ofType', `{ __type(name: "Query") { fields { type { ${ofType} } } } }`],
    ['a fragment bomb of __schema', fragmentBomb(20, '__schema { types { name } }')],
  ])('%s -> 400 OPERATION_LIMIT', async (_label, query) => {
    const res = await post(gw(), { query });
    expectRefusal(res, 400, 'OPERATION_LIMIT');
    expect(res.ms).toBeLessThan(5000);
    await expectAlive(gw());
  });

  it.each([
    ['getIntrospectionQuery()', getIntrospectionQuery()],
    [
      'getIntrospectionQuery() with every option',
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }),
    ],
  ])('the standard %s still answers 200 with the schema', async (_label, query) => {
    const res = await post(gw(), { query, operationName: 'IntrospectionQuery' });
    expect({ status: res.status, errors: res.json?.errors }).toEqual({ status: 200, errors: undefined });
    expect(res.json.data.__schema.queryType.name).toBe('Query');
    expect(res.json.data.__schema.types.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['Order', 'Product', 'Customer']));
    await expectAlive(gw());
  });
});

describe('operations that cannot be resolved -> 400 OPERATION_RESOLUTION_FAILURE', () => {
  it.each([
    ['an unknown operationName', { query: 'query A { __typename }', operationName: 'B' }],
    ['an operationName for an anonymous operation', { query: '{ __typename }', operationName: 'A' }],
    ['an operationName naming a fragment', { query: 'query A { ...F } fragment F on Query { __typename }', operationName: 'F' }],
    ['a 10 KB operationName', { query: 'query A { __typename }', operationName: 'X'.repeat(10_000) }],
    ['two operations without operationName', { query: 'query A { __typename } query B { __typename }' }],
  ])('%s', async (_label, body) => {
    const res = await post(gw(), body);
    expectRefusal(res, 400, 'OPERATION_RESOLUTION_FAILURE');
    expect(res.text.length).toBeLessThan(5000);
    await expectAlive(gw());
  });
});

describe('automatic persisted queries', () => {
  const query = '{ __typename }';
  const unknownHash = sha256(`never registered ${Date.now()} ${Math.random()}`);
  it.each([
    ['an unknown hash without a query', 200, 'PERSISTED_QUERY_NOT_FOUND', { extensions: { persistedQuery: { version: 1, sha256Hash: unknownHash } } }],
    ['a hash that does not match the query', 400, 'BAD_REQUEST', { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ other }') } } }],
    ['a hash that is not a hash, with a query', 400, 'BAD_REQUEST', { query, extensions: { persistedQuery: { version: 1, sha256Hash: 'nope' } } }],
    ['an unsupported version', 400, 'BAD_REQUEST', { query, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(query) } } }],
    ['a version given as a string', 400, 'BAD_REQUEST', { query, extensions: { persistedQuery: { version: '1', sha256Hash: sha256(query) } } }],
    ['persistedQuery not an object', 400, 'BAD_REQUEST', { query, extensions: { persistedQuery: 'yes' } }],
  ])('%s -> %i %s', async (_label, status, code, body) => {
    const res = await post(gw(), body);
    expectRefusal(res, status, code);
    await expectAlive(gw());
  });

  // The protocol allows either answer for a malformed hash without a query: "not found" (the
  // client registers it) or a plain bad request. Neither may be an internal error.
  it.each([
    ['a hash that is a number', { extensions: { persistedQuery: { version: 1, sha256Hash: 12345 } } }],
    ['a 50 KB hash', { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(50_000) } } }],
    ['a hash that is an object', { extensions: { persistedQuery: { version: 1, sha256Hash: { $gt: '' } } } }],
    ['no hash at all', { extensions: { persistedQuery: { version: 1 } } }],
  ])('%s without a query -> 200 PERSISTED_QUERY_NOT_FOUND or 400 BAD_REQUEST', async (_label, body) => {
    const res = await post(gw(), body);
    expect([
      [200, 'PERSISTED_QUERY_NOT_FOUND'],
      [400, 'BAD_REQUEST'],
    ]).toContainEqual([res.status, res.code]);
    expectRefusal(res, res.status, res.code!);
    await expectAlive(gw());
  });
});

describe('headers', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const long = (n: number) => 'a'.repeat(n);
  it.each([
    ['malformed', () => 'Bearer x'],
    ['three parts that are not base64 JSON', () => 'Bearer not.a.jwt'],
    ['an empty bearer', () => 'Bearer '],
    ['another scheme', () => 'Basic dXNlcjpwYXNz'],
    ['two bearer tokens', () => `Bearer ${token('c-1', 'customer')}, Bearer ${token('admin-1', 'admin')}`],
    ['expired', () => `Bearer ${jwt.sign({ sub: 'c-1', roles: ['customer'], exp: now() - 60 }, GATEWAY_TEST_JWT_SECRET)}`],
    ['badly signed', () => `Bearer ${jwt.sign({ sub: 'c-1', roles: ['admin'], exp: now() + 60 }, 'not-the-gateway-secret-0123456789abcdef')}`],
    ['unsigned (alg none)', () => `Bearer ${jwt.sign({ sub: 'c-1', roles: ['admin'], exp: now() + 60 }, '', { algorithm: 'none' })}`],
    ['without exp', () => `Bearer ${jwt.sign({ sub: 'c-1', roles: ['admin'] }, GATEWAY_TEST_JWT_SECRET)}`],
    ['absurdly long garbage (12 KB)', () => `Bearer ${long(12 * 1024)}`],
    ['absurdly long, JWT-shaped (12 KB)', () => `Bearer ${long(4096)}.${long(4096)}.${long(4096)}`],
  ])('a %s bearer token -> 401 UNAUTHENTICATED', async (_label, authorization) => {
    const res = await post(gw(), { query: '{ __typename }' }, { authorization: authorization() });
    expectRefusal(res, 401, 'UNAUTHENTICATED');
    expect(res.json.data).toBeUndefined();
    await expectAlive(gw());
  });

  it.each([
    ['not base64 JSON', 'garbage!!!'],
    ['JSON that is not a list', base64url('{"a":1}')],
    ['a position with a fractional offset', base64url('[["orders", 1.5, 2]]')],
    ['a position without a topic', base64url('[[1, 2, 3]]')],
    ['more than 1000 positions', base64url(JSON.stringify(Array.from({ length: 1001 }, () => ['t', 0, 1])))],
    ['8 KB of padding', 'A'.repeat(8 * 1024)],
  ])('a bad x-consistency-token (%s) -> 400 BAD_USER_INPUT', async (_label, consistency) => {
    const res = await post(gw(), { query: '{ __typename }' }, { 'x-consistency-token': consistency });
    expectRefusal(res, 400, 'BAD_USER_INPUT');
    await expectAlive(gw());
  });

  it.each([
    ['one 20 KB header', `x-pad: ${'p'.repeat(20 * 1024)}\r\n`, 431],
    ['a 20 KB bearer token', `authorization: Bearer ${'t'.repeat(20 * 1024)}\r\n`, 431],
    ['500 headers of 100 bytes', Array.from({ length: 500 }, (_, i) => `x-h${i}: ${'v'.repeat(100)}\r\n`).join(''), 431],
    ['a NUL in a header value', 'x-bad: a\u0000b\r\n', 400],
    ['a header name with a space', 'x bad: 1\r\n', 400],
  ])('%s -> %s from Node itself, and the gateway stays alive', async (_label, headers, status) => {
    const body = '{"query":"{ __typename }"}';
    const ex = await rawTcp(
      gw().port,
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${headers}\r\n${body}`,
      { timeoutMs: 10_000 },
    );
    expect({ status: ex.status, head: ex.received.slice(0, 120) }).toMatchObject({ status });
    expectNothingLeaked(ex.received);
    await expectAlive(gw());
  });
});

describe('methods and paths', () => {
  it('GET /graphql with a mutation -> 405', async () => {
    const q = encodeURIComponent('mutation { upsertStore(input: { name: "x" }) { id } }');
    const res = await request(gw(), `/graphql?query=${q}`, { headers: { 'content-type': 'application/json', authorization: `Bearer ${token('admin-1', 'admin')}` } });
    expectRefusal(res, 405, 'BAD_REQUEST');
    await expectAlive(gw());
  });

  it.each(['PUT', 'DELETE', 'PATCH'])('%s /graphql -> 405', async (method) => {
    const res = await request(gw(), '/graphql', { method, headers: { 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : '{"query":"{ __typename }"}' });
    expectRefusal(res, 405, 'BAD_REQUEST');
    await expectAlive(gw());
  });

  it.each(['/nope', '/graphql/extra', '/GRAPHQL', '/graphql.json', '/%00', '/%2e%2e/%2e%2e/etc/passwd', `/${'a'.repeat(4000)}`])('%s -> 404', async (path) => {
    const res = await request(gw(), path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect({ status: res.status, body: res.text.slice(0, 200) }).toMatchObject({ status: 404 });
    expectNothingLeaked(res.text);
    await expectAlive(gw());
  });
});
