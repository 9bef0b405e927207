// The gateway's HTTP routes, on the serving base it shares with the subgraphs
// (platform/graphqlHttpServer.ts): the demo page, /health, /ready (the supergraph's state),
// /metrics, and /graphql for clients: a request id on every answer, the caller's bearer token
// (401), a consistency token that must decode (400), a body within GATEWAY_MAX_BODY_BYTES (413)
// that must be JSON (400), and the caller's signed identity in the request's context.
import { randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import type { Histogram, Registry } from 'prom-client';
import { CONSISTENCY_HEADER, decodeConsistencyToken } from '../platform/consistency';
import { createGraphQLHttpServer, GRAPHQL_PATH, graphqlRefusal, type GraphQLHttpServer } from '../platform/graphqlHttpServer';
import { signIdentity } from '../platform/identity';
import type { Logger } from '../platform/logger';
import { requestTraceContext, runInRequestSpan, traceHttpRequest, tracingEnabled } from '../platform/tracing';
import { AuthError, type Authenticator } from './auth';
import { serveCatalog } from './catalogPage';
import { serveDemo } from './demoPage';
import type { EventIngest } from './events/eventIngest';
import { createGatewayContext, type GatewayContext } from './execution/context';
import type { SupergraphGateway } from './supergraph/supergraphGateway';

export interface GatewayHttpServerOptions {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly authenticator: Authenticator;
  /** Signs the identity forwarded to subgraphs. */
  readonly identitySecret: string;
  readonly maxBodyBytes: number;
  readonly supergraph: Pick<SupergraphGateway, 'state'>;
  readonly registry: Registry;
  /** What /metrics serves instead of `registry` alone (several workers: all of theirs). */
  readonly metricsText?: () => Promise<string>;
  readonly requests: Histogram<'operation' | 'outcome'>;
  readonly logger: Logger;
  /** POST /events, when the gateway takes client events. */
  readonly events?: Pick<EventIngest, 'serve'>;
  /**
   * Tracing on: run each request with its span as the active context (a context manager's
   * AsyncLocalStorage), for code that reads it: @apollo/gateway's own spans
   * (GATEWAY_QUERY_PLANNER=apollo). Otherwise the span is only carried in the request's
   * GatewayContext (`trace`), and nothing is made active. @default false
   */
  readonly activeRequestSpan?: boolean;
}

export function createGatewayHttpServer(opts: GatewayHttpServerOptions): GraphQLHttpServer {
  return createGraphQLHttpServer<GatewayContext, { requestId: string }>({
    apollo: opts.apollo,
    registry: opts.registry,
    metricsText: opts.metricsText,
    logger: opts.logger,
    maxBodyBytes: opts.maxBodyBytes,
    readiness: () => {
      const state = opts.supergraph.state();
      return { ready: state.phase !== 'waiting', detail: { supergraph: state } };
    },
    notFoundHint: 'GraphQL is served on /graphql',
    bodyTooLarge: { code: 'REQUEST_TOO_LARGE', message: `request body is over the limit of ${opts.maxBodyBytes} bytes` },
    notJson: graphqlRefusal(400, 'BAD_REQUEST', 'request body is not JSON'),
    onRequest: (req, res) => {
      const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
      res.setHeader('x-request-id', requestId);
      // A span per GraphQL request (tracing on): the client's traceparent continued, its trace id answered.
      if (tracingEnabled() && req.url?.split('?')[0] === GRAPHQL_PATH) traceHttpRequest(req, res, GRAPHQL_PATH);
      return { requestId };
    },
    otherRoutes: (req, res, pathname) => (opts.events?.serve(req, res, pathname) ?? false) || serveCatalog(req, res, pathname) || serveDemo(req, res, pathname),
    duration: opts.requests,
    admit: (req, { requestId }) => {
      let verified;
      try {
        verified = opts.authenticator.verify(req.headers.authorization);
      } catch (e) {
        if (e instanceof AuthError) return graphqlRefusal(401, 'UNAUTHENTICATED', e.message);
        throw e;
      }
      const token = typeof req.headers[CONSISTENCY_HEADER] === 'string' ? (req.headers[CONSISTENCY_HEADER] as string) : null;
      if (token) {
        try {
          decodeConsistencyToken(token);
        } catch (e) {
          return graphqlRefusal(400, 'BAD_USER_INPUT', (e as Error).message);
        }
      }
      let context: GatewayContext | undefined;
      // The request's span (tracing on) goes with its context, explicitly; made active only for @apollo/gateway.
      const trace = opts.activeRequestSpan ? undefined : requestTraceContext(req);
      return {
        context: () => (context ??= createGatewayContext(requestId, verified.identity, signIdentity(verified.identity, opts.identitySecret), token, trace)),
        run: opts.activeRequestSpan ? runInRequestSpan(req) : undefined,
        // Named only when the operation resolved in a valid document; refused requests are `invalid`.
        operationLabel: () => context?.metricLabels.operation ?? 'invalid',
      };
    },
  });
}
