// What the hostile-input suites share: the three real subgraphs in-process under a fresh
// namespace, the gateway as its own process (so its death and its memory are visible), raw
// HTTP, TCP and WebSocket clients that can send what a well-behaved client never would, and
// the assertions every case ends with (status, error code, nothing leaked, still alive).
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { signDevToken } from '../../gateway/token';
import type { Role } from '../../platform/identity';
import { startCatalogSubgraph } from '../../subgraphs/catalog';
import { startCustomersSubgraph } from '../../subgraphs/customers';
import { startOrdersSubgraph } from '../../subgraphs/orders';
import type { SubgraphHandle } from '../../subgraphs/runtime/startSubgraph';
import { GATEWAY_TEST_JWT_SECRET, startGatewayProcess, type GatewayProcess } from '../support/gatewayProcess';
import { TEST_IDENTITY_SECRET } from '../support/graphqlClient';
import { createNamespace } from '../support/namespace';
import { waitFor } from '../support/waitFor';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const MAX_BODY_BYTES = 102_400;

export const token = (sub: string, ...roles: Role[]) => signDevToken({ sub, roles, secret: GATEWAY_TEST_JWT_SECRET });

// ---------------------------------------------------------------------------------------------
// The stack

export interface HostileStack {
  readonly namespace: string;
  readonly subgraphs: readonly SubgraphHandle[];
  /** The gateway process in use now (a new one after `ensureGateway` replaced a dead one). */
  gateway(): GatewayProcess;
  /**
   * Starts a new gateway process when the current one has died, so one fatal case does not
   * fail every later case of the file for the same reason. Call it in beforeEach.
   */
  ensureGateway(): Promise<void>;
  /** How many gateway processes died during this file (and their exit codes and last output). */
  readonly deaths: Array<{ exitCode: number | null; output: string }>;
  stop(): Promise<void>;
}

export async function startHostileStack(label: string, env: Record<string, string> = {}): Promise<HostileStack> {
  const namespace = await createNamespace(label);
  const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
  const subgraphs: SubgraphHandle[] = await Promise.all([startCustomersSubgraph(opts), startCatalogSubgraph(opts), startOrdersSubgraph(opts)]);
  let gw: GatewayProcess;
  try {
    gw = await startGatewayProcess({ namespace, env });
  } catch (e) {
    await Promise.all(subgraphs.map((s) => s.close()));
    throw e;
  }
  const deaths: HostileStack['deaths'] = [];
  return {
    namespace,
    subgraphs,
    deaths,
    gateway: () => gw,
    async ensureGateway() {
      if (gw.exitCode() === null) return;
      deaths.push({ exitCode: gw.exitCode(), output: gw.output() });
      gw = await startGatewayProcess({ namespace, env });
    },
    async stop() {
      await gw?.stop();
      await Promise.all(subgraphs.map((s) => s.close()));
    },
  };
}

/** Fails with the process's exit code and last output unless it is running and /health answers 200. */
export async function expectAlive(gw: GatewayProcess): Promise<void> {
  // A crash can take a moment to land (an uncaught exception on the next tick): ask twice.
  const first = await gw.alive();
  const second = first && (await gw.alive());
  if (!second) {
    const tail = gw.output().split('\n').slice(-25).join('\n');
    throw new Error(`the gateway process is not alive: exit code ${gw.exitCode()}, GET /health ${first ? 'answered once' : 'failed'}; last output:\n${tail}`);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly json: any;
  /** errors[0].extensions.code, when the body is GraphQL JSON. */
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly ms: number;
}

function answer(status: number, text: string, started: number): HttpAnswer {
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, text, json, code: json?.errors?.[0]?.extensions?.code, message: json?.errors?.[0]?.message, ms: Date.now() - started };
}

/** POSTs a body exactly as given (a string is sent verbatim, anything else as JSON). */
export async function post(gw: GatewayProcess, body: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<HttpAnswer> {
  const started = Date.now();
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return answer(res.status, await res.text(), started);
}

export async function request(gw: GatewayProcess, pathAndQuery: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<HttpAnswer> {
  const started = Date.now();
  const res = await fetch(`${gw.baseUrl}${pathAndQuery}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return answer(res.status, await res.text(), started);
}

/** No stack traces and no path of this checkout in anything the gateway said to a client. */
export function expectNothingLeaked(text: string): void {
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toContain(REPO_ROOT);
  expect(text).not.toContain('/work/');
  expect(text).not.toMatch(/\bat [\w.<>]+ \([^)]*:\d+:\d+\)/); // a V8 stack frame
}

/**
 * The common end of a case: the status and error code expected (message shown on mismatch),
 * never a 500 or INTERNAL_SERVER_ERROR for a client's mistake, and nothing leaked.
 */
export function expectRefusal(res: HttpAnswer, status: number, code: string): void {
  const seen = { status: res.status, code: res.code, message: res.message ?? res.text.slice(0, 300) };
  expect(seen).toEqual({ ...seen, status, code }); // the diff shows the message too
  expect(res.status).not.toBe(500);
  expect(res.code).not.toBe('INTERNAL_SERVER_ERROR');
  expectNothingLeaked(res.text);
}

// ---------------------------------------------------------------------------------------------
// Raw TCP

export interface RawExchange {
  /** Everything the server sent (latin1). */
  readonly received: string;
  /** The status code of the first HTTP status line received, if any. */
  readonly status: number | null;
  /** ms from connecting until the status line arrived (null: it never did). */
  readonly statusAfterMs: number | null;
  /** The server closed (or reset) the connection. */
  readonly closedByServer: boolean;
  readonly error: string | null;
}

/**
 * Writes `write` to the gateway's port and collects what comes back until the server closes
 * the connection, `stopWhen` says so, or `timeoutMs` passes (then the socket is destroyed).
 * `write` may be a function that keeps writing (it gets the socket and a `stopped()` check).
 */
export function rawTcp(
  port: number,
  write: Buffer | string | ((socket: net.Socket, stopped: () => boolean) => Promise<void> | void),
  opts: { timeoutMs?: number; stopWhen?: (received: string) => boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let status: number | null = null;
    let statusAfterMs: number | null = null;
    let error: string | null = null;
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, status, statusAfterMs, closedByServer, error });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 10_000);
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (status === null) {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
        if (m) {
          status = Number(m[1]);
          statusAfterMs = Date.now() - started;
        }
      }
      if (opts.stopWhen?.(received)) finish(false);
    });
    socket.on('error', (e) => (error = e.message));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      if (typeof write === 'function') void Promise.resolve(write(socket, () => done || socket.destroyed)).catch((e: Error) => (error = e.message));
      else socket.write(write);
    });
  });
}

/** Resolves when `socket` may take more data (or has closed). */
export function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/** The close code in the first WebSocket close frame (server frames are unmasked) after the HTTP head. */
export function closeCodeIn(received: string): number | null {
  const headEnd = received.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const frames = Buffer.from(received.slice(headEnd + 4), 'latin1');
  let at = 0;
  while (at + 2 <= frames.length) {
    const opcode = frames[at] & 0x0f;
    let len = frames[at + 1] & 0x7f;
    let headerLength = 2;
    if (len === 126) {
      if (at + 4 > frames.length) return null;
      len = frames.readUInt16BE(at + 2);
      headerLength = 4;
    } else if (len === 127) {
      if (at + 10 > frames.length) return null;
      len = Number(frames.readBigUInt64BE(at + 2));
      headerLength = 10;
    }
    if (opcode === 0x8) return at + headerLength + 2 <= frames.length ? frames.readUInt16BE(at + headerLength) : null;
    at += headerLength + len;
  }
  return null;
}

/** An HTTP/1.1 WebSocket upgrade request for `path`, with the given subprotocol header (null: none). */
export function upgradeRequest(port: number, path: string, protocol: string | null, extra: Record<string, string> = {}): string {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': Buffer.from('hostile-test-key').toString('base64'),
    'sec-websocket-version': '13',
    ...(protocol === null ? {} : { 'sec-websocket-protocol': protocol }),
    ...extra,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Raw graphql-transport-ws

export interface RawSocket {
  readonly ws: WebSocket;
  readonly messages: any[];
  /** Set once the connection closed: the code and reason the client saw. */
  readonly closed: { code: number; reason: string } | null;
  /** The HTTP status of a refused upgrade. */
  readonly refusedWith: number | null;
  readonly opened: boolean;
  send(message: unknown): void;
  /** Waits for a message matching `match` (default deadline 10 s). */
  next(match: (m: any) => boolean, what: string, timeoutMs?: number): Promise<any>;
  /** Waits for the close (default deadline 10 s) and returns its code. */
  closeCode(timeoutMs?: number): Promise<number>;
  /** connection_init (with `payload`) and waits for connection_ack. */
  init(payload?: Record<string, unknown>): Promise<void>;
  /** Round trip of a graphql-transport-ws ping, proving the connection is open and served. */
  expectOpen(): Promise<void>;
  close(): void;
}

export function rawSocket(url: string, protocols: string | string[] | undefined = 'graphql-transport-ws', options: WebSocket.ClientOptions = {}): RawSocket {
  const ws = new WebSocket(url, protocols, { maxPayload: 64 * 1024 * 1024, ...options });
  const state = {
    messages: [] as any[],
    closed: null as { code: number; reason: string } | null,
    refusedWith: null as number | null,
    opened: false,
  };
  ws.on('open', () => (state.opened = true));
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? `<binary ${(data as Buffer).length} bytes>` : String(data);
    try {
      state.messages.push(JSON.parse(text));
    } catch {
      state.messages.push({ unparsed: text });
    }
  });
  ws.on('unexpected-response', (_req, res) => {
    state.refusedWith = res.statusCode ?? null;
    res.resume();
    ws.terminate();
  });
  ws.on('error', () => undefined);
  ws.on('close', (code, reason) => (state.closed = { code, reason: String(reason) }));
  const whenOpen = () => waitFor(() => state.opened || state.closed !== null || state.refusedWith !== null, { what: 'the WebSocket to open', timeoutMs: 10_000 });
  let pings = 0;
  const socket: RawSocket = {
    ws,
    get messages() {
      return state.messages;
    },
    get closed() {
      return state.closed;
    },
    get refusedWith() {
      return state.refusedWith;
    },
    get opened() {
      return state.opened;
    },
    send(message) {
      const payload = typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message);
      if (state.opened) ws.send(payload);
      else void whenOpen().then(() => ws.readyState === WebSocket.OPEN && ws.send(payload));
    },
    next(match, what, timeoutMs = 10_000) {
      return waitFor(
        () => {
          const found = state.messages.find(match);
          if (found) return found;
          if (state.closed) throw new Error(`closed with ${state.closed.code} ${state.closed.reason} before ${what}`);
          return null;
        },
        { what, timeoutMs, intervalMs: 10 },
      );
    },
    async closeCode(timeoutMs = 10_000) {
      const closed = await waitFor(() => state.closed, { what: `the connection to close (messages so far: ${JSON.stringify(state.messages).slice(0, 300)})`, timeoutMs, intervalMs: 10 });
      return closed.code;
    },
    async init(payload) {
      await whenOpen();
      socket.send({ type: 'connection_init', ...(payload ? { payload } : {}) });
      await socket.next((m) => m.type === 'connection_ack', 'connection_ack');
    },
    async expectOpen() {
      const marker = `alive-${++pings}`;
      socket.send({ type: 'ping', payload: { marker } });
      await socket.next((m) => m.type === 'pong' && m.payload?.marker === marker, 'a pong (the connection staying open)');
      expect(state.closed).toBeNull();
    },
    close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    },
  };
  return socket;
}

/** Waits for `socket` to be open, refused or closed. */
export function settled(socket: RawSocket): Promise<unknown> {
  return waitFor(() => socket.opened || socket.closed !== null || socket.refusedWith !== null, { what: 'the WebSocket handshake to finish', timeoutMs: 10_000 });
}

// ---------------------------------------------------------------------------------------------
// Floods

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; stops early when `abort()` says so. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>, abort: () => string | null = () => null): Promise<void> {
  let next = 0;
  let stopped: string | null = null;
  const worker = async () => {
    while (next < count && stopped === null) {
      const i = next++;
      await task(i);
      stopped = abort();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (stopped !== null) throw new Error(stopped);
}

export const MB = 1024 * 1024;
