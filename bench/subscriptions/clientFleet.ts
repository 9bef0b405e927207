// A client process of the subscription benchmark: thousands of graphql-ws clients, each a
// raw graphql-transport-ws connection (connection_init, subscribe, next, ping/pong) holding
// one subscription. The official graphql-ws client would add a promise-and-closure layer per
// message that this process cannot afford at 5,000 connections on a shared core. Receipts
// stay here in typed arrays; the parent asks for counts and a latency histogram over IPC
// (fleetProtocol.ts). Started by fleet.ts with `node --import tsx`.
import WebSocket from 'ws';
import type { Envelope, FleetCheck, FleetClientSpec, FleetReply, FleetRequest, FleetStatus, FleetSummary } from './fleetProtocol';
import { createLatencyHistogram } from './latencyHistogram';

const PROTOCOL = 'graphql-transport-ws';
/** Epoch ms with sub-ms precision, comparable with the parent's (same machine clock). */
const now = () => performance.timeOrigin + performance.now();

/** Receipts of newer versions, column-wise: 300,000 of them are ~6 MB, not 300,000 objects. */
class ReceiptLog {
  length = 0;
  client = new Int32Array(1 << 16);
  version = new Int32Array(1 << 16);
  at = new Float64Array(1 << 16);
  complete = new Uint8Array(1 << 16);

  push(client: number, version: number, at: number, complete: boolean): void {
    if (this.length === this.client.length) this.grow();
    const i = this.length++;
    this.client[i] = client;
    this.version[i] = version;
    this.at[i] = at;
    this.complete[i] = complete ? 1 : 0;
  }

  private grow(): void {
    const size = this.client.length * 2;
    const copy = <T extends Int32Array | Float64Array | Uint8Array>(from: T, to: T) => (to.set(from), to);
    this.client = copy(this.client, new Int32Array(size));
    this.version = copy(this.version, new Int32Array(size));
    this.at = copy(this.at, new Float64Array(size));
    this.complete = copy(this.complete, new Uint8Array(size));
  }
}

interface OrderPayload {
  version?: unknown;
  customer?: { name?: unknown } | null;
  items?: Array<{ product?: { name?: unknown } | null } | null> | null;
}

/** Every delivered payload must carry the other subgraphs' fields, or it does not count. */
function isComplete(order: OrderPayload): boolean {
  if (typeof order.customer?.name !== 'string' || !Array.isArray(order.items) || order.items.length === 0) return false;
  return order.items.every((i) => typeof i?.product?.name === 'string');
}

const receipts = new ReceiptLog();
const counters = { incomplete: 0, withErrors: 0, stale: 0, subscriptionErrors: 0, closed: 0, acked: 0, withFirstState: 0 };
let firstError: string | null = null;
const fail = (why: string) => void (firstError ??= why);

class FollowingClient {
  firstVersion = -1;
  lastVersion = -1;
  /** Newer versions received after the first state. */
  newer = 0;
  private socket: WebSocket | null = null;
  private done = false;

  constructor(
    /** This client's place in `clients`, which receipts are logged by. */
    readonly index: number,
    readonly spec: FleetClientSpec,
    private readonly url: string,
    private readonly subscribeText: string,
    private readonly localAddress: string | null,
  ) {}

  /** Opens and subscribes; resolves once acknowledged or failed, which frees a handshake slot. */
  open(): Promise<void> {
    return new Promise((settle) => {
      const socket = new WebSocket(this.url, PROTOCOL, { perMessageDeflate: false, handshakeTimeout: 60_000, ...(this.localAddress ? { localAddress: this.localAddress } : {}) });
      this.socket = socket;
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: this.spec.authorization } })));
      socket.on('message', (data) => {
        const text = String(data);
        let message: { type?: string; id?: string; payload?: { data?: { orderUpdated?: OrderPayload | null } | null; errors?: unknown[] } };
        try {
          message = JSON.parse(text) as typeof message;
        } catch {
          return fail(`not JSON: ${text.slice(0, 200)}`);
        }
        switch (message.type) {
          case 'next':
            return this.onNext(message.payload ?? {});
          case 'connection_ack':
            counters.acked++;
            socket.send(this.subscribeText);
            return settle();
          case 'ping':
            return socket.send('{"type":"pong"}');
          case 'error':
          case 'complete':
            counters.subscriptionErrors++;
            return fail(`${message.type}: ${text.slice(0, 300)}`);
          default:
            return;
        }
      });
      socket.on('error', (err) => fail(`socket error: ${err.message}`));
      socket.on('close', (code, reason) => {
        if (!this.done) {
          counters.closed++;
          fail(`closed ${code} ${String(reason)}`);
        }
        settle();
      });
    });
  }

  close(): void {
    this.done = true;
    this.socket?.close(1000, 'benchmark over');
  }

  terminate(): void {
    this.done = true;
    this.socket?.terminate();
  }

  private onNext(payload: { data?: { orderUpdated?: OrderPayload | null } | null; errors?: unknown[] }): void {
    const at = now();
    if (payload.errors?.length) counters.withErrors++;
    const order = payload.data?.orderUpdated;
    if (!order || typeof order.version !== 'number') {
      counters.incomplete++;
      return;
    }
    const complete = isComplete(order);
    if (!complete) counters.incomplete++;
    const version = order.version;
    if (version <= this.lastVersion) {
      counters.stale++;
      return;
    }
    this.lastVersion = version;
    if (this.firstVersion < 0) {
      this.firstVersion = version;
      counters.withFirstState++;
      return;
    }
    this.newer++;
    receipts.push(this.index, version, at, complete);
  }
}

let clients: FollowingClient[] = [];

function start(request: Extract<FleetRequest, { type: 'start' }>): void {
  // One text per order (the variables differ), shared by that order's clients.
  const texts = new Map<string, string>();
  const subscribeText = (orderId: string) => {
    let text = texts.get(orderId);
    if (!text) {
      text = JSON.stringify({ id: '1', type: 'subscribe', payload: { query: request.query, variables: { id: orderId, store: request.store } } });
      texts.set(orderId, text);
    }
    return text;
  };
  clients = request.clients.map((spec, i) => new FollowingClient(i, spec, request.url, subscribeText(spec.orderId), request.localAddress));
  let next = 0;
  const worker = async () => {
    while (next < clients.length) await clients[next++]!.open();
  };
  // Not awaited: the parent follows the progress with `status` and decides how long to wait.
  void Promise.all(Array.from({ length: Math.max(1, request.connectConcurrency) }, worker));
}

function status(): FleetStatus {
  return {
    clients: clients.length,
    acked: counters.acked,
    withFirstState: counters.withFirstState,
    closed: counters.closed,
    subscriptionErrors: counters.subscriptionErrors,
    firstError,
  };
}

function check(viewVersions: readonly number[]): FleetCheck {
  let behind = 0;
  let ahead = 0;
  for (const c of clients) {
    const expected = viewVersions[c.spec.slot]!;
    if (c.lastVersion < expected) behind++;
    else if (c.lastVersion > expected) ahead++;
  }
  return { behind, ahead };
}

function summarise(request: Extract<FleetRequest, { type: 'summarise' }>): FleetSummary {
  const latency = createLatencyHistogram();
  const exactLatency = createLatencyHistogram();
  let deliveredInWindow = 0;
  let unmatchedVersions = 0;
  let latencyCensored = 0;
  const { windowStart, windowEnd, baseVersions, producedAt } = request;
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;
  // Per client, the first produced version (as an index into its order's produce times) it
  // has not held yet. A state received settles every version up to its own: conflation
  // skips versions, and the update each carried reached the client inside the newer state.
  const unsettled = Int32Array.from(clients, (c) => Math.max(0, c.firstVersion - baseVersions[c.spec.slot]!));
  for (let i = 0; i < receipts.length; i++) {
    if (receipts.complete[i] === 0) continue;
    const at = receipts.at[i]!;
    if (inWindow(at)) deliveredInWindow++;
    const c = receipts.client[i]!;
    const slot = clients[c]!.spec.slot;
    const times = producedAt[slot] ?? [];
    const index = receipts.version[i]! - baseVersions[slot]! - 1;
    const exact = times[index];
    if (exact === undefined) unmatchedVersions++;
    else if (inWindow(exact)) exactLatency.record(at - exact);
    for (; unsettled[c] <= index && unsettled[c] < times.length; unsettled[c]++) {
      const t = times[unsettled[c]]!;
      if (inWindow(t)) latency.record(at - t);
    }
  }
  // Versions a client never got (a closed client, a gateway far behind) count with the time
  // waited so far: leaving them out would flatter the gateway that delivered least.
  const end = now();
  clients.forEach((c, i) => {
    const times = producedAt[c.spec.slot] ?? [];
    for (let k = unsettled[i]; k < times.length; k++)
      if (inWindow(times[k]!)) {
        latency.record(end - times[k]!);
        latencyCensored++;
      }
  });
  let skippedVersions = 0;
  for (const c of clients) if (c.firstVersion >= 0) skippedVersions += c.lastVersion - c.firstVersion - c.newer;
  return {
    deliveredInWindow,
    incompleteDeliveries: counters.incomplete,
    deliveriesWithErrors: counters.withErrors,
    staleDeliveries: counters.stale,
    skippedVersions,
    latency: latency.toSparse(),
    latencyCensored,
    exactLatency: exactLatency.toSparse(),
    unmatchedVersions,
  };
}

async function stop(): Promise<void> {
  for (const c of clients) c.close();
  // Peers that do not finish the closing handshake soon are cut off.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (const c of clients) c.terminate();
}

const reply = (seq: number, message: FleetReply) => process.send!({ ...message, seq });

process.on('message', (raw: unknown) => {
  const request = raw as Envelope<FleetRequest>;
  switch (request.type) {
    case 'start':
      start(request);
      return reply(request.seq, { type: 'started' });
    case 'status':
      return reply(request.seq, { type: 'status', ...status() });
    case 'check':
      return reply(request.seq, { type: 'check', ...check(request.viewVersions) });
    case 'summarise':
      return reply(request.seq, { type: 'summary', ...summarise(request) });
    case 'stop':
      return void stop().then(() => {
        reply(request.seq, { type: 'stopped' });
        process.disconnect();
      });
  }
});
// The parent going away (a crash, Ctrl-C) ends this process too.
process.on('disconnect', () => process.exit(0));
