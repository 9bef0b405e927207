// Federation test environment (Hive-gateway-e2e style): tiny in-memory subgraphs served over
// real HTTP on free ports, and the real gateway composed over them; every handle closes.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import Redis from 'ioredis';
import { startGateway } from '../../gateway/server';
import { DEFAULT_LIMITS } from '../../gateway/limits';
import { composeSupergraph } from '../../gateway/supergraph/compose';
import { sendGraphQLResponse } from '../../platform/httpGraphQL';

/** The `@link` line every fixture SDL starts with (Federation 2.3: the first with @interfaceObject). */
export function federation(...imports: string[]): string {
  return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;
}

/** One operation a fixture subgraph received from the gateway. */
export interface FixtureCall {
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

/** An entity representation as the gateway sends it in `_entities(representations:)`. */
export type Representation = { readonly __typename: string } & Record<string, unknown>;

export interface FixtureSubgraph {
  readonly name: string;
  readonly url: string;
  readonly sdl: string;
  /** Every operation received since the last resetCalls(), in order. */
  readonly calls: FixtureCall[];
  /** The representations of each `_entities` call received, one array per call. */
  entityCalls(): Representation[][];
  resetCalls(): void;
  close(): Promise<void>;
}

/** A subgraph from an SDL and in-memory resolvers (`@apollo/subgraph` inside `@apollo/server`). */
export async function startFixtureSubgraph(name: string, sdl: string, resolvers: GraphQLResolverMap<unknown>): Promise<FixtureSubgraph> {
  const calls: FixtureCall[] = [];
  const recorder: ApolloServerPlugin = {
    async requestDidStart({ request }) {
      calls.push({ query: request.query ?? '', variables: structuredClone(request.variables ?? {}) });
    },
  };
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]),
    plugins: [
      recorder,
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
    ],
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();
  const server = await listen(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const url = new URL(req.url ?? '/', 'http://fixture');
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: text === '' ? undefined : JSON.parse(text) },
      context: async () => ({}),
    });
    await sendGraphQLResponse(res, result);
  });
  let closing: Promise<void> | undefined;
  return {
    name,
    url: `${server.url}/graphql`,
    sdl,
    calls,
    entityCalls: () =>
      calls.filter((c) => /\b_entities\s*\(/.test(c.query)).map((c) => c.variables.representations as Representation[]),
    resetCalls: () => void calls.splice(0),
    close: () => (closing ??= server.close().then(() => apollo.stop())),
  };
}

/** A bare HTTP server for what a GraphQL server would not do on its own: hang, or answer 502. */
export async function startStubServer(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = await listen(handler);
  return { url: `${server.url}/graphql`, close: server.close };
}

export interface GraphQLResponse<T = Record<string, any>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: ReadonlyArray<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, any> }>;
  readonly extensions?: Record<string, unknown>;
}

export interface Federation {
  readonly gatewayUrl: string;
  /** POSTs an operation to the gateway as an anonymous caller. */
  query<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Closes the gateway and its Redis connection (the fixture subgraphs are the caller's). */
  close(): Promise<void>;
}

export interface FederationOptions {
  /** Where the gateway calls a subgraph, by name, instead of the fixture's own URL (a dead or hanging server). */
  readonly urlOverrides?: Readonly<Record<string, string>>;
  /** @default the gateway's default */
  readonly subgraphTimeoutMs?: number;
}

/** Composes the fixtures' SDLs (with their real URLs) and starts the real gateway on them. */
export async function startFederation(
  fixtures: ReadonlyArray<Pick<FixtureSubgraph, 'name' | 'url' | 'sdl'>>,
  options: FederationOptions = {},
): Promise<Federation> {
  const composition = composeSupergraph(
    fixtures.map((f) => ({ name: f.name, url: options.urlOverrides?.[f.name] ?? f.url, sdl: f.sdl })),
  );
  if (!composition.ok) throw new Error(`the fixture subgraphs do not compose:\n${composition.errors.join('\n')}`);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    const gateway = await startGateway({
      supergraph: { kind: 'sdl', sdl: composition.supergraphSdl },
      redis,
      identitySecret: 'x'.repeat(20),
      auth: { hs256Secret: 'test-jwt-secret-0123456789' },
      introspection: true,
      safelist: null,
      limits: DEFAULT_LIMITS,
      port: 0,
      // GATEWAY_QUERY_PLANNER=apollo runs the same cases on @apollo/gateway, for comparison.
      ...(process.env.GATEWAY_QUERY_PLANNER === 'apollo' ? { queryPlanner: 'apollo' as const } : {}),
      ...(options.subgraphTimeoutMs === undefined ? {} : { subgraphTimeoutMs: options.subgraphTimeoutMs }),
    });
    return {
      gatewayUrl: gateway.url,
      async query<T>(query: string, variables: Record<string, unknown> = {}) {
        const res = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
        });
        const text = await res.text();
        let body: Omit<GraphQLResponse<T>, 'status'>;
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          throw new Error(`the gateway answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 500)}`);
        }
        return { status: res.status, ...body };
      },
      close: async () => {
        await gateway.close();
        redis.disconnect();
      },
    };
  } catch (e) {
    redis.disconnect();
    throw e;
  }
}

/** Closes every handle, even when some fail, so one bad close does not leak the rest. */
export async function closeAll(...handles: ReadonlyArray<{ close(): Promise<void> } | undefined>): Promise<void> {
  const results = await Promise.allSettled(handles.map((h) => h?.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function listen(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    // Destroys open sockets too: a hanging request or a keep-alive connection must not hold the close.
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        for (const s of sockets) s.destroy();
      }),
  };
}
