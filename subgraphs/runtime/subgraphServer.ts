// The server every subgraph runs: GraphQL over HTTP (Apollo Server, on the serving base it
// shares with the gateway: platform/graphqlHttpServer.ts) and graphql-ws on one port and path,
// /health, /ready and /metrics beside them, and the gateway's signed identity required on every
// GraphQL call.
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
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
import { apolloServerOptions, offlinePlugins } from '../../platform/apolloServerOptions';
import { createGraphQLHttpServer, GRAPHQL_PATH, graphqlRefusal } from '../../platform/graphqlHttpServer';
import { operationNameOf } from '../../platform/httpGraphQL';
import { createOperationLabels } from '../../platform/operationLabels';
import { traceEvent, traceRootFields, tracingPlugins, withRequestSpan } from '../../platform/tracing';
import { noticeTraceOf } from './noticeHub';

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
  // Tracing on: a span per query and mutation resolver (the command); off, the schema is untouched.
  traceRootFields(schema);
  const apollo = new ApolloServer<C>({
    schema,
    ...apolloServerOptions(logger, opts.debugErrors),
    // Subgraphs are reached only with the gateway's signature, so introspection and
    // `_service { sdl }` stay available to the gateway and tooling.
    introspection: true,
    // No per-request federated traces the gateway would have to ask for.
    plugins: [...offlinePlugins<C>(), ApolloServerPluginInlineTraceDisabled(), writtenAndFreshness(opts.freshness), ...tracingPlugins<C>()],
  });
  await apollo.start();

  const httpServer = createGraphQLHttpServer<C>({
    apollo,
    registry,
    logger,
    maxBodyBytes: maxBody,
    health: { subgraph: name },
    readiness: () => {
      const r = opts.readiness();
      return { ready: r.ready, detail: { subgraph: name, ...r.detail } };
    },
    bodyTooLarge: { code: 'BAD_REQUEST', message: `request body over ${maxBody} bytes` },
    duration,
    durationLabels: { subgraph: name },
    admit: (req) => {
      let identity: Identity;
      try {
        identity = verifyIdentity(req.headers[IDENTITY_HEADER] as string | undefined, opts.identitySecret);
      } catch (e) {
        return graphqlRefusal(401, 'UNAUTHENTICATED', e instanceof IdentityError ? e.message : 'identity check failed');
      }
      return {
        context: () => opts.context(identity),
        beforeExecute: async () => {
          const token = req.headers[CONSISTENCY_HEADER];
          if (typeof token !== 'string' || !token || !opts.awaitPositions) return undefined;
          let positions: WrittenAt[];
          try {
            positions = decodeConsistencyToken(token);
          } catch (e) {
            return graphqlRefusal(400, 'BAD_USER_INPUT', (e as Error).message);
          }
          // Bounded: past the wait the answer comes anyway, and its freshness shows the lag.
          await opts.awaitPositions(positions, opts.consistencyTimeoutMs ?? 2000);
          return undefined;
        },
        run: async (execute) => withRequestSpan(req.headers, `subgraph ${name}`, async () => (await withRequestScope(execute)).result),
        // The name comes from the request: a bounded set of labels, whatever callers send.
        operationLabel: (body) => operationLabels.labelOf(operationNameOf(body)),
      };
    },
  });
  const { server } = httpServer;

  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: maxBody });
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
        // An event from a traced change notice continues its trace, and hands it on in `extensions`.
        return mapAsyncIterator(stream[Symbol.asyncIterator](), (payload) =>
          traceEvent(noticeTraceOf(payload), `subscription event ${name}`, () => execute({ ...args, rootValue: payload, contextValue: opts.context(identity) }) as Promise<ExecutionResult>),
        );
      },
    },
    wss,
  );

  const { port, address } = await httpServer.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  const host = address.includes(':') ? `[${address}]` : address;
  logger.info({ subgraph: name, port }, 'subgraph listening');
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    port,
    async close() {
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await httpServer.close();
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

/** The gateway reads these: where this request wrote (for consistency tokens) and how fresh the views it answered from are. */
function writtenAndFreshness<C extends BaseContext>(freshness: (() => unknown) | undefined): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const written = currentRequestScope()?.written ?? [];
          result.extensions = {
            ...result.extensions,
            ...(written.length ? { written } : {}),
            ...(freshness ? { freshness: freshness() } : {}),
          };
        },
      };
    },
  };
}
