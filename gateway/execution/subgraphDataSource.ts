// How the gateway calls a subgraph: pooled keep-alive HTTP (undici) with a per-subgraph
// timeout, the caller's signed identity, and the subgraph's freshness and written
// positions collected from its response.
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { Fetcher } from '@apollo/utils.fetcher';
import { request, type Agent, type Dispatcher } from 'undici';
import type { Counter, Histogram } from 'prom-client';
import { CONSISTENCY_HEADER } from '../../platform/consistency';
import { IDENTITY_HEADER } from '../../platform/identity';
import { traceFetches } from '../../platform/tracing';
import type { WrittenAt } from '../../platform/consistency';
import type { GatewayContext } from './context';
import { unavailableErrors } from './unavailableErrors';

export interface SubgraphFetchMetrics {
  readonly duration: Histogram<'subgraph' | 'outcome'>;
  readonly errors: Counter<'subgraph'>;
}

export interface SubgraphDataSourceOptions {
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  readonly agent: Agent;
  readonly metrics: SubgraphFetchMetrics;
  /**
   * Registry mode: the URL of a live instance to call now, or null when none runs. Without it,
   * `url` is called (a static supergraph).
   */
  readonly route?: () => string | null;
  /** A connection to `url` was refused (its process is gone): route elsewhere for a while. */
  readonly onRefused?: (url: string) => void;
}

/** Thrown before any request is made when no instance of the subgraph runs. */
class NoInstanceError extends Error {
  readonly code = 'NO_INSTANCE';
}

// Only errors that prove the request never reached a process may be retried on another instance.
const CONNECT_REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH']);

type GatewayGraphQLResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly name: string;
  private readonly metrics: SubgraphFetchMetrics;

  constructor(opts: SubgraphDataSourceOptions) {
    // undici's request() rather than its WHATWG fetch(): the same pooled connections at a
    // fraction of the CPU per call, which is most of what a gateway spends. The response
    // offers what RemoteGraphQLDataSource reads: ok, status, url, headers.get, json, text.
    const send = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) =>
      request(url, {
        method: (init.method ?? 'POST') as Dispatcher.HttpMethod,
        headers: init.headers,
        body: init.body,
        dispatcher: opts.agent,
        // A slow subgraph costs its own fields, not the whole response.
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
    /** Routed: a live instance, and once more another one if the first refused the connection (the request never reached it). */
    const routedSend = async (init: Parameters<typeof send>[1]) => {
      for (let attempt = 1; ; attempt++) {
        const target = opts.route!();
        if (target === null) throw new NoInstanceError(`subgraph ${opts.name} has no running instance`);
        try {
          return await send(target, init);
        } catch (e) {
          const code = (e as { code?: string }).code ?? '';
          if (!CONNECT_REFUSED.has(code)) throw e;
          opts.onRefused?.(target);
          if (attempt >= 2) throw e;
        }
      }
    };
    const fetcher = (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
      const started = process.hrtime.bigint();
      const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        const res = await (opts.route ? routedSend(init) : send(url, init));
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        opts.metrics.duration.observe({ subgraph: opts.name, outcome: ok ? 'ok' : 'error' }, elapsed());
        return {
          ok,
          status: res.statusCode,
          statusText: '',
          url,
          headers: {
            get: (name: string) => {
              const v = res.headers[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
          },
          json: () => res.body.json(),
          text: () => res.body.text(),
        };
      } catch (e) {
        opts.metrics.duration.observe({ subgraph: opts.name, outcome: 'error' }, elapsed());
        opts.metrics.errors.inc({ subgraph: opts.name });
        const code = (e as { code?: string }).code;
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
          throw new Error(`subgraph ${opts.name} did not answer within ${opts.timeoutMs} ms`);
        throw e;
      }
    }) as unknown as Fetcher;
    // Each call a client span (tracing on), its W3C context in the request's headers.
    super({ url: opts.url, fetcher: traceFetches(`subgraph ${opts.name}`, { 'streamgraph.subgraph': opts.name }, fetcher) });
    this.name = opts.name;
    this.metrics = opts.metrics;
  }

  /**
   * An unavailable subgraph answers like a subgraph that returned errors: one per field or
   * entity the fetch would have filled, with its path and `serviceName`, so the rest of the
   * response arrives and clients see which fields are missing. Other failures stay thrown.
   */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (e) {
      if (!(e instanceof GraphQLError) || e.extensions.code !== 'SUBGRAPH_UNAVAILABLE') throw e;
      return { errors: unavailableErrors({ query: options.request.query, document: 'document' in options ? options.document : undefined, variables: options.request.variables }, e.message, e.extensions) };
    }
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    // Requests the gateway makes for itself (health checks) carry no context.
    if (!context?.identityHeader) return;
    request.http!.headers.set(IDENTITY_HEADER, context.identityHeader);
    if (context.consistencyToken) request.http!.headers.set(CONSISTENCY_HEADER, context.consistencyToken);
  }

  /**
   * A failed fetch, a non-2xx status or a body that is not GraphQL. @apollo/gateway passes
   * such errors to the client as they are: without `serviceName`, and for an HTTP error with
   * the subgraph's internal URL and raw body. This names the subgraph and says only what
   * failed; the rest of the response still arrives.
   */
  override didEncounterError(error: Error & { code?: string; cause?: { code?: string } }, _request: unknown, response?: { ok: boolean; status: number }): void {
    if (response) this.metrics.errors.inc({ subgraph: this.name });
    // Only an error code reaches the client: messages name internal addresses.
    const message = !response
      ? error.message.startsWith(`subgraph ${this.name}`)
        ? error.message
        : `subgraph ${this.name} is unreachable (${error.code ?? error.cause?.code ?? 'connection failed'})`
      : !response.ok
        ? `subgraph ${this.name} answered HTTP ${response.status}`
        : `subgraph ${this.name} did not answer with GraphQL`;
    throw new GraphQLError(message, { extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: this.name } });
  }

  override didReceiveResponse({ response, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    const ext = response.extensions as { written?: WrittenAt[]; freshness?: unknown } | undefined;
    if (context?.written && ext?.written) context.written.push(...ext.written);
    if (context?.freshness && ext?.freshness) context.freshness[this.name] = ext.freshness;
    if (response.errors?.length) this.metrics.errors.inc({ subgraph: this.name });
    return response;
  }
}
