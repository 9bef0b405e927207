// The subgraph server's error answers without Kafka or Redis: no stack traces unless asked for,
// and mutations refuse malformed text before their resolvers run.
import net from 'node:net';
import { GraphQLInputObjectType, GraphQLList, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { Registry } from 'prom-client';
import { IDENTITY_HEADER, signIdentity } from '../../platform/identity';
import { createLogger } from '../../platform/logger';
import { ConfigError } from '../../platform/configError';
import { debugErrorsFromEnv } from '../../platform/settings';
import { startSubgraphServer, type SubgraphServerHandle } from './subgraphServer';

const SECRET = 'subgraph-server-test-secret';
let echoed: unknown[] = [];

function testSchema(): GraphQLSchema {
  const input = new GraphQLInputObjectType({ name: 'EchoInput', fields: { name: { type: GraphQLString }, tags: { type: new GraphQLList(GraphQLString) } } });
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        fail: {
          type: GraphQLString,
          resolve: () => {
            throw new Error('boom');
          },
        },
      },
    }),
    mutation: new GraphQLObjectType({
      name: 'Mutation',
      fields: {
        echo: {
          type: GraphQLString,
          args: { input: { type: input } },
          resolve: (_source, args: { input: { name?: string } }) => {
            echoed.push(args.input);
            return args.input.name ?? null;
          },
        },
      },
    }),
  });
}

/** Starts a server the way a deployment that leaves NODE_ENV unset does (`npm start`). */
async function start(debugErrors?: boolean): Promise<SubgraphServerHandle> {
  const nodeEnv = process.env.NODE_ENV;
  delete process.env.NODE_ENV;
  try {
    return await startSubgraphServer({
      name: 'test',
      schema: testSchema(),
      port: 0,
      identitySecret: SECRET,
      debugErrors,
      context: (identity) => ({ identity }),
      readiness: () => ({ ready: true, detail: {} }),
      registry: new Registry(),
      logger: createLogger('subgraph-server-test', 'silent'),
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: signIdentity({ sub: 'a-1', roles: ['admin'] }, SECRET) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

describe('error answers', () => {
  let server: SubgraphServerHandle | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('carry no stack trace (no file paths) by default, whatever NODE_ENV says', async () => {
    server = await start();
    for (const body of [await post(server.url, '{ fail }'), await post(server.url, '{ nope }')]) {
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0].extensions).not.toHaveProperty('stacktrace');
      expect(JSON.stringify(body)).not.toContain(__dirname);
    }
  });

  it('carry a stack trace when GATEWAY_DEBUG_ERRORS asks for it', async () => {
    server = await start(true);
    const body = await post(server.url, '{ fail }');
    expect(body.errors![0].extensions!.stacktrace).toEqual(expect.arrayContaining([expect.stringContaining('boom')]));
  });

  it('refuse a mutation argument holding a lone surrogate before its resolver runs, naming the path', async () => {
    server = await start();
    echoed = [];
    const echo = 'mutation($input: EchoInput) { echo(input: $input) }';
    // JSON.stringify writes the lone surrogate as the escape "\ud800", which JSON.parse accepts.
    const body = await post(server.url, echo, { input: { name: 'ok', tags: ['fine', 'bad \ud800'] } });
    expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.tags[1]' });
    expect(body.errors![0].message).toBe('input.tags[1] is not valid text: it holds a lone UTF-16 surrogate');
    expect(echoed).toEqual([]);
    // A surrogate pair (an emoji) is text.
    expect((await post(server.url, echo, { input: { name: 'apple \ud83c\udf4e' } })).data).toEqual({ echo: 'apple 🍎' });
  });
});

describe('debugErrorsFromEnv', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['  ', false],
    ['false', false],
    ['0', false],
    ['true', true],
    ['TRUE', true],
    ['1', true],
  ])('reads GATEWAY_DEBUG_ERRORS=%j as %s', (value, expected) => {
    expect(debugErrorsFromEnv(value === undefined ? {} : { GATEWAY_DEBUG_ERRORS: value })).toBe(expected);
  });

  it('refuses anything else with a ConfigError naming the setting', () => {
    expect(() => debugErrorsFromEnv({ GATEWAY_DEBUG_ERRORS: 'verbose' })).toThrow(ConfigError);
    expect(() => debugErrorsFromEnv({ GATEWAY_DEBUG_ERRORS: 'verbose' })).toThrow(/GATEWAY_DEBUG_ERRORS="verbose"/);
  });
});

describe('starting on a port already taken', () => {
  it('fails the start with EADDRINUSE instead of waiting forever (a supervisor restarts only what exits)', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await expect(
        startSubgraphServer({
          name: 'test',
          schema: testSchema(),
          port,
          identitySecret: SECRET,
          context: (identity) => ({ identity }),
          readiness: () => ({ ready: true, detail: {} }),
          registry: new Registry(),
          logger: createLogger('subgraph-server-test', 'silent'),
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
