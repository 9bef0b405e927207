// How the gateway calls a subgraph: pooled keep-alive HTTP (undici) with a per-subgraph
// timeout, the caller's signed identity, and the subgraph's freshness and written
// positions collected from its response.
import type { GraphQLFormattedError } from 'graphql';
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

// Only errors that prove the request never reached a process may be retried on another instance.
const CONNECT_REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH']);

/** What one call to a subgraph answers, as the executors read it. */
export interface SubgraphResponse {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: ReadonlyArray<GraphQLFormattedError>;
  readonly extensions?: Record<string, unknown>;
}

/**
 * One call as the executors make it: the gateway's own executor and, with
 * GATEWAY_QUERY_PLANNER=apollo, @apollo/gateway's (its GraphQLDataSource options).
 */
export interface SubgraphCall {
  readonly request: { readonly query?: string; readonly variables?: Record<string, unknown>; readonly operationName?: string | null };
  readonly context?: GatewayContext;
  /**
   * The fetch asks only for fields the subgraph marks `@callerIndependent`: its answer is the
   * same for every caller, so a batching wrapper may serve several callers with one call made
   * on the first one's identity.
   */
  readonly sharedAcrossCallers?: boolean;
}

/** How the executors call a subgraph (SubgraphDataSource, and wrappers such as the subscription entity batcher). */
export interface SubgraphSource {
  process(options: SubgraphCall): Promise<SubgraphResponse>;
}

/** A response-like object, so tracing can wrap the call (platform/tracing traceFetches). */
interface Answer {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Dispatcher.ResponseData['headers'];
  json(): Promise<unknown>;
}

/** A subgraph call that failed before a GraphQL answer: the subgraph's fields answer SUBGRAPH_UNAVAILABLE. */
class UnavailableError extends Error {}

/**
 * Calls one subgraph. Any executor that sends `{ request, context }` can use it; no part of
 * @apollo/gateway is needed (or loaded) for it.
 */
export class SubgraphDataSource implements SubgraphSource {
  private readonly name: string;
  private readonly metrics: SubgraphFetchMetrics;
  private readonly call: (url: string, init?: { headers?: Record<string, string>; body?: string }, parent?: GatewayContext['trace']) => Promise<Answer>;
  private readonly url: string;
  private readonly routed: boolean;

  constructor(opts: SubgraphDataSourceOptions) {
    this.name = opts.name;
    this.metrics = opts.metrics;
    this.url = opts.url;
    this.routed = opts.route !== undefined;
    // undici's request() rather than its WHATWG fetch(): the same pooled connections at a
    // fraction of the CPU per call, which is most of what a gateway spends.
    const send = (url: string, init: { headers: Record<string, string>; body: string }) =>
      request(url, {
        method: 'POST',
        headers: init.headers,
        body: init.body,
        dispatcher: opts.agent,
        // A slow subgraph costs its own fields, not the whole response.
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
    /** Routed: a live instance, and once more another one if the first refused the connection (the request never reached it). */
    const routedSend = async (init: { headers: Record<string, string>; body: string }) => {
      for (let attempt = 1; ; attempt++) {
        const target = opts.route!();
        if (target === null) throw new UnavailableError(`subgraph ${opts.name} has no running instance`);
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
    const call = async (url: string, init?: { headers?: Record<string, string>; body?: string }): Promise<Answer> => {
      const started = process.hrtime.bigint();
      const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
      const body = { headers: init?.headers ?? {}, body: init?.body ?? '' };
      try {
        const res = await (opts.route ? routedSend(body) : send(url, body));
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        opts.metrics.duration.observe({ subgraph: opts.name, outcome: ok ? 'ok' : 'error' }, elapsed());
        return { status: res.statusCode, ok, headers: res.headers, json: () => res.body.json() };
      } catch (e) {
        opts.metrics.duration.observe({ subgraph: opts.name, outcome: 'error' }, elapsed());
        opts.metrics.errors.inc({ subgraph: opts.name });
        throw e;
      }
    };
    // Each call a client span (tracing on), its W3C context in the request's headers; its parent
    // is the caller's `trace` (the gateway has no active context to take it from).
    this.call = traceFetches(`subgraph ${opts.name}`, { 'streamgraph.subgraph': opts.name }, call);
  }

  /**
   * Sends one operation and returns the subgraph's answer. A subgraph that cannot be reached,
   * answers a non-2xx status or something that is not GraphQL answers like a subgraph that
   * returned errors: one per field or entity the fetch would have filled, with its path and
   * `serviceName`, so the rest of the response arrives. Only an error code reaches the client:
   * the cause's message would name internal addresses.
   */
  async process(options: SubgraphCall): Promise<SubgraphResponse> {
    const { request: req, context } = options;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // Requests the gateway makes for itself carry no context.
    if (context?.identityHeader) headers[IDENTITY_HEADER] = context.identityHeader;
    if (context?.consistencyToken) headers[CONSISTENCY_HEADER] = context.consistencyToken;
    const body = JSON.stringify({ query: req.query, variables: req.variables, ...(req.operationName ? { operationName: req.operationName } : {}) });
    let response: SubgraphResponse;
    try {
      const res = await this.call(this.url, { headers, body }, context?.trace);
      if (!res.ok) {
        // The body is the subgraph's (or a proxy's) and may be large; drop it unread.
        this.metrics.errors.inc({ subgraph: this.name });
        throw new UnavailableError(`subgraph ${this.name} answered HTTP ${res.status}`);
      }
      let parsed: unknown;
      try {
        parsed = await res.json();
      } catch {
        parsed = null;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        this.metrics.errors.inc({ subgraph: this.name });
        throw new UnavailableError(`subgraph ${this.name} did not answer with GraphQL`);
      }
      response = parsed as SubgraphResponse;
    } catch (e) {
      const message = e instanceof UnavailableError ? e.message : unreachable(this.name, e as Error & { code?: string; cause?: { code?: string } }, this.routed);
      return { errors: unavailableErrors({ query: req.query, variables: req.variables }, message, { code: 'SUBGRAPH_UNAVAILABLE', serviceName: this.name }) };
    }
    const ext = response.extensions as { written?: WrittenAt[]; freshness?: unknown } | undefined;
    if (context?.written && ext?.written) context.written.push(...ext.written);
    if (context?.freshness && ext?.freshness) context.freshness[this.name] = ext.freshness;
    if (response.errors?.length) this.metrics.errors.inc({ subgraph: this.name });
    return response;
  }
}

function unreachable(name: string, error: Error & { code?: string; cause?: { code?: string } }, _routed: boolean): string {
  const code = error.code ?? error.cause?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `subgraph ${name} did not answer in time (SUBGRAPH_TIMEOUT_MS)`;
  return `subgraph ${name} is unreachable (${code ?? 'connection failed'})`;
}
