// The tracing helpers on their own: settings from the environment, nothing at all while off,
// and, on (with an in-memory exporter), spans, W3C context through HTTP and Kafka headers and
// our own messages, and a malformed traceparent ignored.
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConfigError } from './configError';
import {
  extractContext,
  injectHeaders,
  recordTraceHeaders,
  sampledContextOf,
  sampledContextOfRecord,
  startTracing,
  traceEvent,
  traceFetches,
  traceparentOf,
  tracingEnabled,
  tracingSettingsFromEnv,
  withRecordTraces,
  withSpan,
  type TracingHandle,
} from './tracing';

describe('settings', () => {
  it('is off unless OTEL_TRACES_EXPORTER names an exporter', () => {
    expect(tracingSettingsFromEnv('gateway', {}).exporter).toBeNull();
    expect(tracingSettingsFromEnv('gateway', { OTEL_TRACES_EXPORTER: 'none' }).exporter).toBeNull();
    expect(tracingSettingsFromEnv('gateway', { OTEL_TRACES_EXPORTER: ' ' }).exporter).toBeNull();
    expect(tracingSettingsFromEnv('gateway', { OTEL_TRACES_EXPORTER: 'Zipkin' }).exporter).toBe('zipkin');
  });

  it('reads the standard variables, with the spec’s defaults', () => {
    expect(tracingSettingsFromEnv('orders', { OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({
      exporter: 'otlp',
      serviceName: 'orders',
      sampler: 'parentbased_always_on',
      ratio: 1,
      otlpUrl: 'http://localhost:4318/v1/traces',
      zipkinUrl: 'http://localhost:9411/api/v2/spans',
    });
    const s = tracingSettingsFromEnv('orders', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_SERVICE_NAME: 'orders-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans',
    });
    expect(s).toMatchObject({ serviceName: 'orders-eu', sampler: 'parentbased_traceidratio', ratio: 0.01, otlpUrl: 'http://collector:4318/v1/traces', zipkinUrl: 'http://zipkin:9411/api/v2/spans' });
  });

  it('refuses values that mean nothing, naming the setting', () => {
    expect(() => tracingSettingsFromEnv('x', { OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(/OTEL_TRACES_EXPORTER="jaeger"/);
    expect(() => tracingSettingsFromEnv('x', { OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER="sometimes"/);
    for (const bad of ['2', '-0.1', '1%', 'abc', '1e-2']) expect(() => tracingSettingsFromEnv('x', { OTEL_TRACES_SAMPLER_ARG: bad })).toThrow(ConfigError);
  });
});

describe('off', () => {
  it('runs what it is given and touches no header', async () => {
    expect(startTracing('test', {}).enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(withSpan('x', {}, (span) => span)).toBeUndefined();
    expect(injectHeaders({})).toEqual({});
    expect(recordTraceHeaders()).toBeUndefined();
    expect(sampledContextOf(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`)).toBeUndefined();
    const fetch = async (_url: string, init?: { headers?: Record<string, string> }) => ({ status: 200, headers: init?.headers });
    expect(await traceFetches('f', {}, fetch)('http://orders', { headers: { a: '1' } })).toEqual({ status: 200, headers: { a: '1' } });
    expect(await traceEvent(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, 'e', (): { data: number; extensions?: Record<string, unknown> } => ({ data: 1 }))).toEqual({ data: 1 });
  });
});

describe('on', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle;
  beforeAll(() => {
    tracing = startTracing('unit', { OTEL_TRACES_EXPORTER: 'console' }, exporter);
  });
  afterAll(async () => {
    await tracing.shutdown();
    // Shut down means off again: the rest of the process pays nothing.
    expect(tracingEnabled()).toBe(false);
  });
  beforeEach(() => exporter.reset());

  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const PARENT = '00f067aa0ba902b7';

  it('nests spans and records a failure without its stack', async () => {
    await expect(
      withSpan('outer', { a: 1 }, async () => {
        await withSpan('inner', {}, async () => undefined);
        throw new Error('no such store');
      }),
    ).rejects.toThrow('no such store');
    const [inner, outer] = exporter.getFinishedSpans();
    expect(inner.parentSpanId).toBe(outer.spanContext().spanId);
    expect(outer.status).toMatchObject({ code: 2, message: 'no such store' });
    expect(JSON.stringify(outer.events)).not.toContain('stack');
  });

  it('continues a valid traceparent and ignores a malformed one', () => {
    const ctx = extractContext({ traceparent: `00-${TRACE}-${PARENT}-01` });
    withSpan('continued', {}, () => undefined, { parent: ctx });
    for (const bad of ['garbage', `00-${'0'.repeat(32)}-${PARENT}-01`, `00-${TRACE}-${PARENT}`, `zz-${TRACE}-${PARENT}-01`, ['a', 'b']])
      withSpan('fresh', {}, () => undefined, { parent: extractContext({ traceparent: bad as string }) });
    const [continued, ...fresh] = exporter.getFinishedSpans();
    expect(continued.spanContext().traceId).toBe(TRACE);
    expect(continued.parentSpanId).toBe(PARENT);
    expect(fresh).toHaveLength(5);
    for (const s of fresh) expect({ trace: s.spanContext().traceId === TRACE, parent: s.parentSpanId }).toEqual({ trace: false, parent: undefined });
  });

  it('puts the trace in Kafka record headers only when sampled, and reads it back from Buffers', () => {
    expect(recordTraceHeaders()).toBeUndefined();
    const headers = withSpan('send', {}, () => recordTraceHeaders())!;
    const [send] = exporter.getFinishedSpans();
    expect(headers.traceparent).toBe(traceparentOf(send));
    const ctx = sampledContextOfRecord({ 'event-type': Buffer.from('OrderPlaced'), traceparent: Buffer.from(headers.traceparent) });
    withSpan('apply', {}, () => undefined, { parent: ctx });
    expect(exporter.getFinishedSpans()[1].parentSpanId).toBe(send.spanContext().spanId);
    // Unsampled (flags 00) or absent: nothing to continue, so a projection makes no span.
    expect(sampledContextOf(`00-${TRACE}-${PARENT}-00`)).toBeUndefined();
    expect(sampledContextOfRecord({ 'event-type': Buffer.from('OrderPlaced') })).toBeUndefined();
    expect(withSpan('unsampled', {}, () => recordTraceHeaders(), { parent: extractContext({ traceparent: `00-${TRACE}-${PARENT}-00` }) })).toBeUndefined();
  });

  it('sends its context with each fetch, and hands an event’s context on in extensions', async () => {
    const seen: Array<Record<string, string> | undefined> = [];
    const fetch = traceFetches('subgraph orders', {}, async (_url: string, init?: { headers?: Record<string, string> }) => {
      seen.push(init?.headers);
      return { status: 200 };
    });
    await withSpan('request', {}, () => fetch('http://orders', { headers: { 'x-identity': 'signed' } }));
    const [client, request] = exporter.getFinishedSpans();
    expect(client.parentSpanId).toBe(request.spanContext().spanId);
    expect(seen[0]).toEqual({ 'x-identity': 'signed', traceparent: traceparentOf(client) });
    // A request that is not sampled: no span, but the subgraph learns it is not sampled.
    await withSpan('unsampled', {}, () => fetch('http://orders', { headers: {} }), { parent: extractContext({ traceparent: `00-${TRACE}-${PARENT}-00` }) });
    expect(seen[1]).toEqual({ traceparent: expect.stringMatching(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`)) });
    // Outside any request (the gateway's own calls): as it was.
    await fetch('http://orders', {});
    expect(seen[2]).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    const result = await traceEvent(`00-${TRACE}-${PARENT}-01`, 'subscription event', async () => ({ data: { ok: true }, extensions: { other: 1 } }));
    const event = exporter.getFinishedSpans()[2];
    expect(event.parentSpanId).toBe(PARENT);
    expect(result).toEqual({ data: { ok: true }, extensions: { other: 1, traceparent: traceparentOf(event) } });
    // Without a sampled context: as it was.
    expect(await traceEvent(undefined, 'e', (): { data: number; extensions?: Record<string, unknown> } => ({ data: 2 }))).toEqual({ data: 2 });
  });

  it('runs a relay batch in the traces of its records: the last is the parent, the others links; none traced starts no trace', () => {
    const OTHER = 'aaaabbbbccccdddd';
    const traced = [{ traceparent: Buffer.from(`00-${'1'.repeat(32)}-${OTHER}-01`) }, undefined, { traceparent: Buffer.from(`00-${TRACE}-${PARENT}-01`) }];
    const written = withRecordTraces('relay r', { n: 3 }, traced, () => withSpan('send', {}, () => recordTraceHeaders()));
    const [send, relay] = exporter.getFinishedSpans();
    expect(relay.name).toBe('relay r');
    expect({ trace: relay.spanContext().traceId, parent: relay.parentSpanId }).toEqual({ trace: TRACE, parent: PARENT });
    expect(relay.links.map((l) => l.context.spanId)).toEqual([OTHER]);
    expect(send.parentSpanId).toBe(relay.spanContext().spanId);
    expect(written?.traceparent).toBe(traceparentOf(send));
    exporter.reset();
    // Unsampled or absent: the batch writes untraced records, and no span at all is recorded.
    const untraced = withRecordTraces('relay r', {}, [undefined, { traceparent: `00-${TRACE}-${PARENT}-00` }], () => withSpan('send', {}, () => recordTraceHeaders()));
    expect(untraced).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});
