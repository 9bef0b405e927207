// The HTTP serving the gateway and every subgraph share: one node http server with /health,
// /ready, /metrics, a 404 for any other path, and /graphql, where the caller is checked by the
// side's own hook, the body is read within its bound (413), parsed as JSON, run through Apollo
// Server's executeHTTPGraphQLRequest and written back, and the request's duration is observed
// under a bounded operation label. Each side plugs in its own auth, identity and context; graphql-ws
// servers attach to the returned server's upgrades.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Histogram, Registry } from 'prom-client';
import { readBody } from './httpBody';
import { sendGraphQLResponse } from './httpGraphQL';
import type { Logger } from './logger';

export const GRAPHQL_PATH = '/graphql';

/** A JSON answer that ends a request. */
export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The GraphQL-shaped refusal `{ errors: [{ message, extensions: { code } }] }`. */
export function graphqlRefusal(status: number, code: string, message: string): JsonAnswer {
  return { status, body: { errors: [{ message, extensions: { code } }] } };
}

/** How one admitted /graphql request runs. */
export interface GraphQLCall<C extends BaseContext> {
  /** The request's context, built when Apollo Server asks for it (inside `run`). */
  context(): C;
  /** After the body is parsed, before execution (e.g. waiting on a consistency token); an answer refuses. */
  beforeExecute?(body: unknown): Promise<JsonAnswer | undefined>;
  /** Runs the execution inside whatever scope the side needs. */
  run?<T>(execute: () => Promise<T>): Promise<T>;
  /** The operation's metric label once answered: from a bounded set (operationLabels.ts). */
  operationLabel(body: unknown): string;
}

export interface GraphQLHttpServerOptions<C extends BaseContext, R extends Record<string, unknown> = Record<string, never>> {
  readonly apollo: ApolloServer<C>;
  /** Served on /metrics. */
  readonly registry: Registry;
  /** What /metrics serves instead of `registry` alone (e.g. every worker's, aggregated). */
  readonly metricsText?: () => Promise<string>;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** What /health says besides `status: "ok"`. */
  readonly health?: Record<string, unknown>;
  /** What /ready says besides `ready`; 503 unless ready. */
  readonly readiness: () => { readonly ready: boolean; readonly detail: Record<string, unknown> };
  /** Said after `no route <path>` on a 404. */
  readonly notFoundHint?: string;
  /** The refusal of a body over `maxBodyBytes` (status 413). */
  readonly bodyTooLarge: { readonly code: string; readonly message: string };
  /** The refusal of a body that is not JSON; without one, the text goes to Apollo Server, which answers 400. */
  readonly notJson?: JsonAnswer;
  /** First thing on every request (e.g. a request id); returns what the request's log lines and `admit` are told. */
  readonly onRequest?: (req: http.IncomingMessage, res: http.ServerResponse) => R;
  /** Paths answered before the standard ones (true: answered). */
  readonly otherRoutes?: (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => boolean;
  /** Checks the caller before the body is read: an answer refuses, a call runs. */
  readonly admit: (req: http.IncomingMessage, request: R) => JsonAnswer | GraphQLCall<C>;
  /** Observed per answered request, labelled `durationLabels` plus its `operation` and `outcome` (ok below 400). */
  readonly duration: Histogram<string>;
  readonly durationLabels?: Record<string, string>;
}

export interface GraphQLHttpServer {
  readonly server: http.Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Closes every connection and the server, then stops Apollo Server. */
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, { status, body }: JsonAnswer): undefined {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return undefined;
}

export function createGraphQLHttpServer<C extends BaseContext, R extends Record<string, unknown> = Record<string, never>>(opts: GraphQLHttpServerOptions<C, R>): GraphQLHttpServer {
  const { apollo, registry, logger, maxBodyBytes } = opts;

  /** Answers a /graphql request; the operation's label when it ran. */
  const serveGraphQL = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, request: R): Promise<string | undefined> => {
    const call = opts.admit(req, request);
    if (!('context' in call)) return sendJson(res, call);
    let text: string | null | undefined;
    if (req.method === 'POST') {
      text = await readBody(req, maxBodyBytes);
      // readBody drops the rest of the body (bounded) so the client reads this answer.
      if (text === null) return sendJson(res, graphqlRefusal(413, opts.bodyTooLarge.code, opts.bodyTooLarge.message));
    }
    const started = process.hrtime.bigint();
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        if (opts.notJson) return sendJson(res, opts.notJson);
        body = text;
      }
    }
    const refused = await call.beforeExecute?.(body);
    if (refused) return sendJson(res, refused);
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const execute = () =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => call.context(),
      });
    const result = await (call.run ? call.run(execute) : execute());
    await sendGraphQLResponse(res, result);
    const operation = call.operationLabel(body);
    const outcome = res.statusCode < 400 ? 'ok' : 'error';
    opts.duration.observe({ ...opts.durationLabels, operation, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    return operation;
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const request = opts.onRequest?.(req, res) ?? ({} as R);
    const logFields: Record<string, unknown> = request;
    try {
      if (opts.otherRoutes?.(req, res, url.pathname)) return;
      if (url.pathname === '/health') return sendJson(res, { status: 200, body: { status: 'ok', ...opts.health } });
      if (url.pathname === '/ready') {
        const { ready, detail } = opts.readiness();
        return sendJson(res, { status: ready ? 200 : 503, body: { ready, ...detail } });
      }
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType });
        return res.end(await (opts.metricsText ?? (() => registry.metrics()))());
      }
      if (url.pathname !== GRAPHQL_PATH) {
        const hint = opts.notFoundHint ? `; ${opts.notFoundHint}` : '';
        return sendJson(res, { status: 404, body: { error: `no route ${url.pathname}${hint}` } });
      }
      const operation = await serveGraphQL(req, res, url, request);
      if (operation !== undefined) logger.debug({ ...logFields, operation, status: res.statusCode }, 'request');
    } catch (e) {
      logger.error({ ...logFields, err: e }, 'request failed');
      if (!res.headersSent) sendJson(res, graphqlRefusal(500, 'INTERNAL_SERVER_ERROR', 'internal error'));
      else res.end();
    }
  });

  return {
    server,
    async listen(port, host) {
      // A port already taken must end the start with an error, not leave it waiting forever
      // (a supervisor can only restart a process that exits).
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server.address() as AddressInfo;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}
