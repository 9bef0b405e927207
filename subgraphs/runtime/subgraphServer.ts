// The server every subgraph runs: GraphQL over HTTP (Apollo Server) and graphql-ws on one
// port and path, /health, /ready and /metrics beside them, and the gateway's signed
// identity required on every GraphQL call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { Counter, Histogram, type Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { guardMutationInput } from './inputChecks';
import { IDENTITY_HEADER, IdentityError, verifyIdentity, type Identity } from '../../platform/identity';
import { CONSISTENCY_HEADER, decodeConsistencyToken } from '../../platform/consistency';
import type { Logger } from '../../platform/logger';
import type { WrittenAt } from './producer';
import { currentRequestScope, withRequestScope } from './requestScope';
import { readBody } from '../../platform/httpBody';
import { operationNameOf, sendGraphQLResponse } from '../../platform/httpGraphQL';
import { createOperationLabels } from '../../platform/operationLabels';

export interface Readiness {
  readonly ready: boolean;
  readonly detail: Record<string, unknown>;
}

export interface SubgraphServerOptions<C extends BaseContext> {
  /** The subgraph's name, in logs and metric labels. */
  readonly name: string;
  readonly schema: GraphQLSchema;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The secret the gateway signs identities with. */
  readonly identitySecret: string;
  /**
   * Stack traces (`extensions.stacktrace`) in error responses: they show the server's file
   * paths and code, so only for debugging (GATEWAY_DEBUG_ERRORS). @default false
   */
  readonly debugErrors?: boolean;
  /** Builds a request's context (fresh DataLoaders) for a verified caller. */
  readonly context: (identity: Identity) => C;
  /** What /ready reports; 503 unless ready. */
  readonly readiness: () => Readiness;
  /** Where /metrics comes from; request metrics are registered on it too. */
  readonly registry: Registry;
  readonly logger: Logger;
  /** Largest request body accepted. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Waits for a consistency token's positions before executing (false: the wait ran out). */
  readonly awaitPositions?: (positions: readonly WrittenAt[], timeoutMs: number) => Promise<boolean>;
  /** Longest wait for a consistency token. @default 2000 */
  readonly consistencyTimeoutMs?: number;
  /** What every response reports as `extensions.freshness`. */
  readonly freshness?: () => unknown;
}

export interface SubgraphServerHandle {
  /** `http://host:port/graphql` */
  readonly url: string;
  /** `ws://host:port/graphql` */
  readonly wsUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startSubgraphServer<C extends BaseContext>(opts: SubgraphServerOptions<C>): Promise<SubgraphServerHandle> {
  const { name, schema, logger, registry } = opts;
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const operationLabels = createOperationLabels();
  const duration = new Histogram({
    name: 'streamgraph_subgraph_request_duration_seconds',
    help: 'GraphQL HTTP requests served, by operation name and outcome.',
    labelNames: ['subgraph', 'operation', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const subscriptions = new Counter({
    name: 'streamgraph_subgraph_subscriptions_started_total',
    help: 'GraphQL subscriptions started over graphql-ws.',
    labelNames: ['subgraph'],
    registers: [registry],
  });

  guardMutationInput(schema);
  const apollo = new ApolloServer<C>({
    schema,
    // Apollo's default follows NODE_ENV (traces unless "production" or "test"), and a
    // deployment that leaves NODE_ENV unset would show every client the server's file paths.
    includeStacktraceInErrorResponses: opts.debugErrors ?? false,
    // The process's own signal handler stops everything in order (consumer groups left
    // cleanly); Apollo's would stop the server and re-send the signal first.
    stopOnTerminationSignals: false,
    // Subgraphs are reached only with the gateway's signature, so introspection and
    // `_service { sdl }` stay available to the gateway and tooling.
    introspection: true,
    // Nothing leaves the machine: no landing page from a CDN, no usage or schema reporting,
    // no per-request federated traces the gateway would have to ask for.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      {
        // The gateway reads these: where this request wrote (for consistency tokens) and how
        // fresh the views it answered from are.
        async requestDidStart() {
          return {
            async willSendResponse({ response }) {
              if (response.body.kind !== 'single') return;
              const result = response.body.singleResult;
              const written = currentRequestScope()?.written ?? [];
              result.extensions = {
                ...result.extensions,
                ...(written.length ? { written } : {}),
                ...(opts.freshness ? { freshness: opts.freshness() } : {}),
              };
            },
          };
        },
      },
    ],
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
  await apollo.start();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://subgraph');
    try {
      if (url.pathname === '/health') return json(res, 200, { status: 'ok', subgraph: name });
      if (url.pathname === '/ready') {
        const r = opts.readiness();
        return json(res, r.ready ? 200 : 503, { ready: r.ready, subgraph: name, ...r.detail });
      }
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType });
        return res.end(await registry.metrics());
      }
      if (url.pathname !== '/graphql') return json(res, 404, { error: `no route ${url.pathname}` });

      let identity: Identity;
      try {
        identity = verifyIdentity(req.headers[IDENTITY_HEADER] as string | undefined, opts.identitySecret);
      } catch (e) {
        const message = e instanceof IdentityError ? e.message : 'identity check failed';
        return json(res, 401, { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
      }
      const body = req.method === 'POST' ? await readBody(req, maxBody) : undefined;
      if (body === null)
        return json(res, 413, { errors: [{ message: `request body over ${maxBody} bytes`, extensions: { code: 'BAD_REQUEST' } }] });

      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const started = process.hrtime.bigint();
      const parsed = body === undefined || body === '' ? undefined : safeJson(body);
      const token = req.headers[CONSISTENCY_HEADER];
      if (typeof token === 'string' && token && opts.awaitPositions) {
        let positions: WrittenAt[];
        try {
          positions = decodeConsistencyToken(token);
        } catch (e) {
          return json(res, 400, { errors: [{ message: (e as Error).message, extensions: { code: 'BAD_USER_INPUT' } }] });
        }
        // Bounded: past the wait the answer comes anyway, and its freshness shows the lag.
        await opts.awaitPositions(positions, opts.consistencyTimeoutMs ?? 2000);
      }
      const { result } = await withRequestScope(() =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: parsed },
          context: async () => opts.context(identity),
        }),
      );
      // The name comes from the request: a bounded set of labels, whatever callers send.
      const operation = operationLabels.labelOf(operationNameOf(parsed));
      await sendGraphQLResponse(res, result);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ subgraph: name, operation, outcome: res.statusCode < 400 ? 'ok' : 'error' }, seconds);
    } catch (e) {
      logger.error({ err: e }, 'request failed');
      if (!res.headersSent) json(res, 500, { errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.end();
    }
  });

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: maxBody });
  const identities = new WeakMap<object, Identity>();
  const contextIdentities = new WeakMap<object, Identity>();
  const subscriptionIdentities = new WeakMap<object, Identity>();
  const wsServer = useServer<Record<string, unknown>>(
    {
      schema,
      onConnect: (ctx) => {
        try {
          identities.set(ctx, verifyIdentity(ctx.connectionParams?.[IDENTITY_HEADER] as string | undefined, opts.identitySecret));
          return true;
        } catch (e) {
          ctx.extra.socket.close(CloseCode.Forbidden, (e as Error).message.slice(0, 120));
          return false;
        }
      },
      // The gateway multiplexes many subscribers over one connection: each subscription may
      // carry its own signed identity in `extensions`, checked like the HTTP header.
      onSubscribe: (ctx, _id, payload) => {
        const signed = (payload.extensions as Record<string, unknown> | undefined)?.[IDENTITY_HEADER];
        if (signed !== undefined) {
          try {
            subscriptionIdentities.set(payload, verifyIdentity(typeof signed === 'string' ? signed : undefined, opts.identitySecret));
          } catch (e) {
            const message = e instanceof IdentityError ? e.message : 'identity check failed';
            return [new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } })];
          }
        }
        subscriptions.inc({ subgraph: name });
        return undefined;
      },
      context: (ctx, _id, payload) => {
        const identity = subscriptionIdentities.get(payload) ?? (identities.get(ctx) as Identity);
        const context = opts.context(identity);
        contextIdentities.set(context, identity);
        return context;
      },
      // graphql-js would resolve every event with the subscription's one context, so its
      // DataLoaders would cache for the subscription's life and nested fields go stale.
      // Each event gets a fresh context instead.
      subscribe: async (args: ExecutionArgs) => {
        const stream = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
        const identity = contextIdentities.get(args.contextValue as object) as Identity;
        return mapAsyncIterator(stream[Symbol.asyncIterator](), (payload) =>
          execute({ ...args, rootValue: payload, contextValue: opts.context(identity) }) as Promise<ExecutionResult>,
        );
      },
    },
    wss,
  );

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  logger.info({ subgraph: name, port }, 'subgraph listening');
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    port,
    async close() {
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

/** Maps each value of `source`; return() passes through so unsubscribing reaches the source. */
function mapAsyncIterator<T, U>(source: AsyncIterator<T>, fn: (value: T) => Promise<U>): AsyncIterableIterator<U> {
  const it: AsyncIterableIterator<U> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      const r = await source.next();
      return r.done ? { value: undefined, done: true } : { value: await fn(r.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(e) {
      await source.return?.();
      throw e;
    },
  };
  return it;
}

/** Apollo Server answers a body that is not JSON with a clear 400; pass it the raw text then. */
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
