// Tracing as the gateway runs it: no context manager (startTracing's `contextManager: false`), so
// no AsyncLocalStorage ever runs and nothing is "active"; every parent is passed explicitly. A
// request's span is carried to its fetches and its operation's name through the context
// requestTraceContext gives: a client's traceparent continued, x-trace-id answered, a malformed
// traceparent ignored, an unsampled request's traceparent still sent to the subgraph.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  contextOfSpan,
  nameOperationSpan,
  requestTraceContext,
  startSpan,
  startTracing,
  traceFetches,
  traceHttpRequest,
  traceparentOf,
  TRACE_ID_HEADER,
  withSpan,
  type TracingHandle,
} from './tracing';

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;
beforeAll(() => {
  tracing = startTracing('unit', { OTEL_TRACES_EXPORTER: 'console' }, exporter, { contextManager: false });
});
afterAll(() => tracing.shutdown());
beforeEach(() => exporter.reset());

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

it('installs no context manager: nothing is ever active, so a parent not passed is no parent', async () => {
  const outer = startSpan('outer', {})!;
  await context.with(trace.setSpan(ROOT_CONTEXT, outer), async () => {
    expect(trace.getActiveSpan()).toBeUndefined();
    await Promise.resolve();
    expect(context.active()).toBe(ROOT_CONTEXT);
  });
  // withSpan parents explicitly all the same.
  withSpan('child', {}, () => undefined, { parent: contextOfSpan(outer) });
  withSpan('orphan', {}, () => undefined);
  outer.end();
  const [child, orphan] = exporter.getFinishedSpans();
  expect(child.parentSpanId).toBe(outer.spanContext().spanId);
  expect(orphan.parentSpanId).toBeUndefined();
  expect(contextOfSpan(undefined)).toBe(ROOT_CONTEXT);
});

it('carries a request span explicitly to its fetches and its name; unsampled still tells the subgraph; malformed is a new trace', async () => {
  const seen: Array<Record<string, string> | undefined> = [];
  const fetch = traceFetches('subgraph orders', { 'streamgraph.subgraph': 'orders' }, async (_url: string, init?: { headers?: Record<string, string> }) => {
    seen.push(init?.headers);
    return { status: 200 };
  });
  const server = http.createServer(async (req, res) => {
    traceHttpRequest(req, res, '/graphql');
    const ctx = requestTraceContext(req);
    nameOperationSpan(ctx, 'query', 'Orders', 'Orders');
    await fetch('http://orders', { headers: { 'x-identity': 'signed' } }, ctx);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  try {
    // Sampled, continuing the client's trace.
    const sampled = await globalThis.fetch(url, { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    expect(sampled.headers.get(TRACE_ID_HEADER)).toBe(TRACE);
    await sampled.text();
    await waitFor(() => exporter.getFinishedSpans().length === 2);
    const [client, request] = exporter.getFinishedSpans();
    expect({ name: request.name, parent: request.parentSpanId, type: request.attributes['graphql.operation.type'] }).toEqual({ name: 'query Orders', parent: PARENT, type: 'query' });
    expect({ name: client.name, parent: client.parentSpanId, trace: client.spanContext().traceId }).toEqual({ name: 'subgraph orders', parent: request.spanContext().spanId, trace: TRACE });
    expect(client.attributes).toMatchObject({ 'streamgraph.subgraph': 'orders', 'http.response.status_code': 200 });
    expect(seen[0]).toEqual({ 'x-identity': 'signed', traceparent: traceparentOf(client) });

    // Not sampled: no span recorded, but the subgraph learns the request's (unsampled) context.
    const unsampled = await globalThis.fetch(url, { headers: { traceparent: `00-${TRACE}-${PARENT}-00` } });
    expect(unsampled.headers.get(TRACE_ID_HEADER)).toBe(TRACE);
    await unsampled.text();
    expect(seen[1]).toEqual({ 'x-identity': 'signed', traceparent: expect.stringMatching(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`)) });

    // Malformed: ignored, a new (sampled: always_on by default) trace of its own.
    exporter.reset();
    const malformed = await globalThis.fetch(url, { headers: { traceparent: `zz-${TRACE}-${PARENT}-01` } });
    const newTrace = malformed.headers.get(TRACE_ID_HEADER);
    await malformed.text();
    expect(newTrace).toMatch(/^[0-9a-f]{32}$/);
    expect(newTrace).not.toBe(TRACE);
    await waitFor(() => exporter.getFinishedSpans().length === 2);
    const [fresh, root] = exporter.getFinishedSpans();
    expect({ root: root.parentSpanId, trace: root.spanContext().traceId, fetchParent: fresh.parentSpanId }).toEqual({ root: undefined, trace: newTrace, fetchParent: root.spanContext().spanId });

    // A fetch given no context (the gateway's own calls): no span, no header.
    await fetch('http://orders', { headers: {} });
    expect(seen[3]).toEqual({});
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`not yet: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
}
