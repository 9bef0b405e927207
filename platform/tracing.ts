// OpenTelemetry tracing for the gateway and the subgraphs, configured by the standard
// environment variables and off unless OTEL_TRACES_EXPORTER names an exporter. Off, nothing of
// the SDK is loaded, no header is read or written and no span is made: every helper here checks
// one boolean first and otherwise just runs what it was given. On, spans follow an operation
// from the client's request through the subgraph that writes its event, Kafka (the W3C trace
// context rides in the record's headers), every projection that applies it, the change notice
// and the subscription event that reaches clients (docs/tracing.md).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { ConfigError } from './configError';
import { envValue } from './envValues';

export { SpanKind, type Attributes, type Context, type Span };

/** The response header carrying the trace id of the request (32 hex digits). */
export const TRACE_ID_HEADER = 'x-trace-id';
/** The W3C header (and the key in Kafka headers and graphql-ws `extensions`). */
export const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';

export type TracesExporter = 'otlp' | 'zipkin' | 'console';
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
const SAMPLERS: readonly SamplerName[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

export interface TracingSettings {
  /** null: tracing is off. */
  readonly exporter: TracesExporter | null;
  readonly serviceName: string;
  readonly sampler: SamplerName;
  /** The ratio of the *traceidratio samplers, 0..1. */
  readonly ratio: number;
  /** The OTLP/HTTP traces URL (the endpoint plus /v1/traces). */
  readonly otlpUrl: string;
  readonly zipkinUrl: string;
}

/**
 * OTEL_TRACES_EXPORTER (otlp, zipkin, console; unset or none: off), OTEL_SERVICE_NAME (else
 * `defaultServiceName`), OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (the spec's names;
 * default parentbased_always_on), OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318)
 * and OTEL_EXPORTER_ZIPKIN_ENDPOINT (default http://localhost:9411/api/v2/spans). A value
 * that means nothing is a ConfigError naming it, not a silently untraced process.
 */
export function tracingSettingsFromEnv(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): TracingSettings {
  const rawExporter = envValue(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase();
  let exporter: TracesExporter | null = null;
  if (rawExporter !== undefined && rawExporter !== 'none') {
    if (rawExporter !== 'otlp' && rawExporter !== 'zipkin' && rawExporter !== 'console')
      throw new ConfigError(`OTEL_TRACES_EXPORTER="${rawExporter}" is not an exporter this product has; set otlp, zipkin, console or none`);
    exporter = rawExporter;
  }
  const rawSampler = envValue(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(rawSampler))
    throw new ConfigError(`OTEL_TRACES_SAMPLER="${rawSampler}" is not a sampler; set one of ${SAMPLERS.join(', ')}`);
  const rawRatio = envValue(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = rawRatio === undefined ? 1 : Number(rawRatio);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(rawRatio ?? '1') || !(ratio >= 0 && ratio <= 1))
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG="${rawRatio}" is not a sampling ratio; set a number from 0 to 1, e.g. 0.01 for 1%`);
  const endpoint = envValue(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? 'http://localhost:4318';
  return {
    exporter,
    serviceName: envValue(env, 'OTEL_SERVICE_NAME') ?? defaultServiceName,
    sampler: rawSampler as SamplerName,
    ratio,
    otlpUrl: `${endpoint.replace(/\/+$/, '')}/v1/traces`,
    zipkinUrl: envValue(env, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT') ?? 'http://localhost:9411/api/v2/spans',
  };
}

export interface TracingHandle {
  readonly enabled: boolean;
  /** Exports what is still buffered, then stops (call before the process exits). */
  shutdown(): Promise<void>;
}

let enabled = false;
let tracerProvider: { shutdown(): Promise<void> } | null = null;

/** Whether a tracer provider runs in this process: the one check on every hot path. */
export const tracingEnabled = (): boolean => enabled;

const OFF: TracingHandle = { enabled: false, shutdown: async () => undefined };

export interface StartTracingOptions {
  /**
   * Install the SDK's context manager (AsyncLocalStorage), which makes `context.active()`
   * follow `await` on its own. @default true. false: none is installed, the active context is
   * always the root, and code must pass its parents explicitly (the gateway does: once an
   * AsyncLocalStorage has run, every promise of the process pays for its hooks).
   */
  readonly contextManager?: boolean;
}

/**
 * Starts tracing for this process as `defaultServiceName` when the environment asks for it
 * (see tracingSettingsFromEnv); otherwise does nothing, not even load the SDK. `exporter`
 * replaces the configured one (tests use an in-memory exporter).
 */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env, exporter?: SpanExporter, options: StartTracingOptions = {}): TracingHandle {
  const settings = tracingSettingsFromEnv(defaultServiceName, env);
  if (!settings.exporter && !exporter) return OFF;
  if (tracerProvider) throw new Error('tracing is already started in this process');
  // Loaded only when tracing is on: a process without it carries none of the SDK.
  const base = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { Resource } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const ratio = new base.TraceIdRatioBasedSampler(settings.ratio);
  const sampler = {
    always_on: () => new base.AlwaysOnSampler(),
    always_off: () => new base.AlwaysOffSampler(),
    traceidratio: () => ratio,
    parentbased_always_on: () => new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() }),
    parentbased_always_off: () => new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new base.ParentBasedSampler({ root: ratio }),
  }[settings.sampler]();
  const spanExporter = exporter ?? configuredExporter(settings);
  const provider = new NodeTracerProvider({
    resource: new Resource({ 'service.name': settings.serviceName }),
    sampler,
    // Batched: a request never waits for the backend. Only the test's in-memory exporter is
    // synchronous, so that what a test did is there to read at once.
    spanProcessors: [exporter ? new base.SimpleSpanProcessor(spanExporter) : new base.BatchSpanProcessor(spanExporter)],
  });
  // W3C trace context only: no baggage, no vendor formats. contextManager null: none at all
  // (NodeTracerProvider.register installs an AsyncLocalStorage one only when it is undefined).
  provider.register({ propagator: new W3CTraceContextPropagator(), contextManager: options.contextManager === false ? null : undefined });
  tracerProvider = provider;
  enabled = true;
  return {
    enabled: true,
    async shutdown() {
      if (tracerProvider !== provider) return;
      enabled = false;
      tracerProvider = null;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

function configuredExporter(settings: TracingSettings): SpanExporter {
  switch (settings.exporter) {
    case 'zipkin': {
      const { ZipkinExporter } = require('@opentelemetry/exporter-zipkin') as typeof import('@opentelemetry/exporter-zipkin');
      return new ZipkinExporter({ url: settings.zipkinUrl, serviceName: settings.serviceName });
    }
    case 'otlp': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ url: settings.otlpUrl });
    }
    default: {
      const { ConsoleSpanExporter } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
      return new ConsoleSpanExporter();
    }
  }
}

const tracer = () => trace.getTracer('streamgraph');

export interface SpanOptions {
  readonly kind?: SpanKind;
  /** The parent; default: the active context. */
  readonly parent?: Context;
  readonly links?: Link[];
}

/**
 * Runs `fn` inside a new active span named `name` (ended when `fn` returns or its promise
 * settles; a throw marks it failed). With tracing off, just runs `fn` with no span. This is the
 * helper for spans at any boundary: `withSpan('gateway.plan', { 'graphql.operation.name': n }, () => plan())`.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => T, options: SpanOptions = {}): T {
  if (!enabled) return fn(undefined);
  const span = tracer().startSpan(name, { kind: options.kind, attributes, links: options.links }, options.parent ?? context.active());
  return context.with(trace.setSpan(options.parent ?? context.active(), span), () => settle(span, fn));
}

/** Span links to the spans that `contexts` name (those that name none are left out). */
export function linksTo(contexts: readonly Context[]): Link[] {
  return contexts.flatMap((c) => {
    const context = trace.getSpanContext(c);
    return context ? [{ context }] : [];
  });
}

/**
 * Runs `fn`, the handling of records read from Kafka (a relay's batch), in the traces those
 * records carry: a span named `name` whose parent is the last traced record and which links the
 * others. Records that carry no sampled trace start none: a relay continues traces, it is not
 * an entry point, so with none to continue whatever `fn` writes is left untraced (a new root
 * per batch would be noise, and would steal the change notices of the events it follows).
 */
export function withRecordTraces<T>(name: string, attributes: Attributes, headers: ReadonlyArray<Record<string, unknown> | undefined>, fn: () => T): T {
  if (!enabled) return fn();
  const parents = headers.flatMap((h) => sampledContextOfRecord(h) ?? []);
  if (parents.length === 0) {
    const { suppressTracing } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
    return context.with(suppressTracing(context.active()), fn);
  }
  const links = linksTo(parents.slice(0, -1));
  return withSpan(name, attributes, () => fn(), { parent: parents[parents.length - 1], links, kind: SpanKind.CONSUMER });
}

/** Starts a span that the caller ends (undefined with tracing off). */
export function startSpan(name: string, attributes: Attributes, options: SpanOptions = {}): Span | undefined {
  if (!enabled) return undefined;
  return tracer().startSpan(name, { kind: options.kind, attributes, links: options.links }, options.parent ?? context.active());
}

/**
 * The context that makes `span` the parent of what is started in it, to pass explicitly
 * (`SpanOptions.parent`, `traceFetches`' third argument, a GatewayContext's `trace`); without a
 * span, the root context: no parent.
 */
export function contextOfSpan(span: Span | undefined): Context {
  return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}

/** Ends a span, as failed when `error` is given. */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) failed(span, error);
  span.end();
}

function settle<T>(span: Span, fn: (span: Span) => T): T {
  let result: T;
  try {
    result = fn(span);
  } catch (e) {
    failed(span, e);
    span.end();
    throw e;
  }
  if (result instanceof Promise)
    return result.then(
      (v) => {
        span.end();
        return v;
      },
      (e: unknown) => {
        failed(span, e);
        span.end();
        throw e;
      },
    ) as T;
  span.end();
  return result;
}

function failed(span: Span, error: unknown): void {
  // The exception's type and message only: a stack names files on the server.
  const err = error instanceof Error ? error : new Error(String(error));
  span.addEvent('exception', { 'exception.type': err.name, 'exception.message': err.message.slice(0, 500) });
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message.slice(0, 200) });
}

// ---- W3C trace context in carriers: HTTP headers, Kafka record headers, a string ----

type Carrier = Record<string, unknown>;
const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    if (typeof v === 'string') return v;
    // Kafka header values are Buffers (or arrays of them).
    if (Buffer.isBuffer(v)) return v.toString('latin1');
    if (Array.isArray(v)) return v.length > 0 ? getter.get({ [key]: v[0] }, key) : undefined;
    return undefined;
  },
};

/**
 * The context a carrier (incoming HTTP headers, Kafka record headers) names. A missing or
 * malformed `traceparent` gives the root context: a new trace, never an error.
 */
export function extractContext(carrier: IncomingHttpHeaders | Carrier | undefined): Context {
  if (!enabled || !carrier || carrier[TRACEPARENT] === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier as Carrier, getter);
}

/** The context a `traceparent` value names, when it is valid and sampled; else undefined (nothing to continue). */
export function sampledContextOf(traceparent: unknown): Context | undefined {
  if (!enabled || (typeof traceparent !== 'string' && !Buffer.isBuffer(traceparent))) return undefined;
  const ctx = propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent }, getter);
  const sc = trace.getSpanContext(ctx);
  return sc && sc.traceFlags & TraceFlags.SAMPLED ? ctx : undefined;
}

/** The sampled context a Kafka record's headers carry (undefined: none, or not sampled). */
export function sampledContextOfRecord(headers: Record<string, unknown> | undefined): Context | undefined {
  if (!enabled || !headers) return undefined;
  return sampledContextOf(headers[TRACEPARENT]);
}

/** Adds the W3C headers of `ctx` (default: the active context) to `headers`, and returns it. */
export function injectHeaders<H extends Record<string, string>>(headers: H, ctx: Context = context.active()): H {
  if (enabled) propagation.inject(ctx, headers);
  return headers;
}

/**
 * The W3C headers to put on a Kafka record written now: only when the active span is sampled,
 * since an unsampled context has nothing downstream to add to (and the bytes are per record).
 */
export function recordTraceHeaders(): Record<string, string> | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  return injectHeaders({});
}

/** The `traceparent` of a span, to carry in a message of our own (a change notice, an event's `extensions`). */
export function traceparentOf(span: Pick<Span, 'spanContext'> | undefined): string | undefined {
  if (!span) return undefined;
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

// ---- An HTTP server request as a span ----

const requestSpans = new WeakMap<IncomingMessage, Span>();

/**
 * Starts the server span of an HTTP request, continuing the client's `traceparent` when it
 * sends a valid one, answers the trace id in `x-trace-id`, and ends the span when the response
 * is finished (its status recorded). Off: does nothing. Look it up with `httpSpanOf(req)`.
 */
export function traceHttpRequest(req: IncomingMessage, res: ServerResponse, path: string): Span | undefined {
  if (!enabled) return undefined;
  const method = req.method ?? 'GET';
  const span = tracer().startSpan(`${method} ${path}`, { kind: SpanKind.SERVER }, extractContext(req.headers));
  requestSpans.set(req, span);
  res.setHeader(TRACE_ID_HEADER, span.spanContext().traceId);
  // Most requests are not sampled (1% in production): nothing more to spend on them.
  if (!span.isRecording()) return span;
  span.setAttributes({ 'http.request.method': method, 'url.path': path });
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return span;
}

/**
 * The context of an HTTP request's span, to carry explicitly with the request's work (the
 * gateway's GatewayContext `trace`): the root context when the request has no span, undefined
 * with tracing off.
 */
export function requestTraceContext(req: IncomingMessage): Context | undefined {
  if (!enabled) return undefined;
  return contextOfSpan(requestSpans.get(req));
}

/**
 * How to run a request's work inside its span as the active context (for GraphQLCall.run);
 * undefined when the request has none. Only for code that reads the active context (with a
 * context manager): @apollo/gateway's own spans.
 */
export function runInRequestSpan(req: IncomingMessage): (<T>(execute: () => Promise<T>) => Promise<T>) | undefined {
  const span = enabled ? requestSpans.get(req) : undefined;
  if (!span) return undefined;
  return (execute) => context.with(trace.setSpan(ROOT_CONTEXT, span), execute);
}

/**
 * Names the request span `requestContext` holds (undefined: the active span) after its GraphQL
 * operation once it is known: the operation type, and the name as bounded by the caller (a
 * metric label: low cardinality, so span names stay groupable). Never the variables or the
 * document.
 */
export function nameOperationSpan(requestContext: Context | undefined, type: string, name: string | null | undefined, label?: string): void {
  if (!enabled) return;
  const span = requestContext ? trace.getSpan(requestContext) : trace.getActiveSpan();
  if (!span?.isRecording()) return;
  const shown = label ?? name;
  span.updateName(shown ? `${type} ${shown}` : type);
  span.setAttribute('graphql.operation.type', type);
  if (name) span.setAttribute('graphql.operation.name', name.slice(0, 100));
}

/**
 * Wraps a fetch-like function so each call is a client span whose context goes out in the
 * request's W3C headers. The call's parent is its third argument (the caller's trace context,
 * passed explicitly), else the active context. Off: every call goes straight through.
 */
export function traceFetches<I extends { headers?: Record<string, string> }, R extends { status: number }>(
  name: string,
  attributes: Attributes,
  fetch: (url: string, init?: I) => Promise<R>,
): (url: string, init?: I, parent?: Context) => Promise<R> {
  return (url, init, parent) => {
    if (!enabled) return fetch(url, init);
    const ctx = parent ?? context.active();
    const active = trace.getSpan(ctx);
    // Not sampled (most calls at a low ratio): no span of its own, but the subgraph is told, so
    // that it does not start a trace of its own for the call.
    if (!active?.isRecording()) {
      // The headers are the caller's fresh object for this one call (RemoteGraphQLDataSource
      // builds them per fetch): written in place, since copies per call showed in profiles.
      if (active && init?.headers) init.headers[TRACEPARENT] = traceparentOf(active)!;
      return fetch(url, init);
    }
    // The client span is the fetch's parent only through its headers: nothing runs in it, so
    // it is never made active.
    const span = tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }, ctx);
    return settle(span, async () => {
      const res = await fetch(url, { ...init, headers: injectHeaders({ ...init?.headers }, trace.setSpan(ctx, span)) } as I);
      span.setAttribute('http.response.status_code', res.status);
      if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return res;
    });
  };
}

// ---- GraphQL servers (the subgraphs) ----

/**
 * Runs a GraphQL request's execution inside a server span that continues the caller's
 * `traceparent` (the gateway's fetch). Off: just runs it.
 */
export function withRequestSpan<T>(headers: IncomingHttpHeaders, name: string, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  return withSpan(name, {}, fn, { kind: SpanKind.SERVER, parent: extractContext(headers) });
}

/** Schemas whose root fields are wrapped already (a schema served twice is wrapped once). */
const traced = new WeakSet<GraphQLSchema>();

/**
 * Wraps the resolvers of the schema's Query and Mutation root fields in spans named like
 * `Mutation.placeOrder`: the resolver of a mutation runs its command, so what it emits nests
 * under it. Changes `schema` in place; call it only with tracing on (nested fields are left
 * alone: a span per field would cost more than it tells).
 */
export function traceRootFields(schema: GraphQLSchema): void {
  if (!enabled || traced.has(schema)) return;
  traced.add(schema);
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve) continue;
      const name = `${type.name}.${field.name}`;
      field.resolve = (source, args, ctx, info) => withSpan(name, { 'graphql.field.path': name }, () => resolve(source, args, ctx, info));
    }
  }
}

/** Apollo Server plugins that name each request's span after its operation (none with tracing off). */
export function tracingPlugins<C extends BaseContext>(): ApolloServerPlugin<C>[] {
  if (!enabled) return [];
  return [
    {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation, operationName }) {
            // A subgraph runs its requests in their span (withRequestSpan): the active one.
            if (operation) nameOperationSpan(undefined, operation.operation, operationName);
          },
        };
      },
    },
  ];
}

/**
 * Runs `fn` (the execution of one subscription event) in a span continuing `traceparent` (the
 * change notice that brought the event), and puts the span's context in the result's
 * `extensions.traceparent` for the gateway to continue. Without a sampled context: just `fn`.
 */
export async function traceEvent<R extends { extensions?: Record<string, unknown> }>(traceparent: string | undefined, name: string, fn: () => Promise<R> | R): Promise<R> {
  const parent = sampledContextOf(traceparent);
  if (!parent) return fn();
  return withSpan(name, { 'graphql.operation.type': 'subscription' }, async (span) => {
    const result = await fn();
    const tp = traceparentOf(span);
    return tp ? { ...result, extensions: { ...result.extensions, [TRACEPARENT]: tp } } : result;
  }, { parent });
}
