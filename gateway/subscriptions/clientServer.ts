// graphql-ws (protocol graphql-transport-ws) for the gateway's clients, on the gateway's own
// port and path. The token rides in connection_init and is checked there; the connection
// closes when the token expires. Subscriptions go to the shared hub; queries and mutations
// sent over the socket run like HTTP ones. Each connection has a bounded send queue in which
// a lagging client keeps only the newest state of each object.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import type { Gauge, Counter } from 'prom-client';
import WebSocket, { WebSocketServer } from 'ws';
import type { Identity } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import { AuthError, type Authenticator } from '../auth';
import type { BoundedCache } from '../boundedCache';
import { GatewayCloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, nextMessageText, parseMessage, stringifyMessage } from './protocol';
import type { SubscriptionHub } from './subscriptionHub';
import type { SupergraphPlanner } from './subscriptionPlanner';
import { createSendQueue, type SendQueue } from './sendQueue';

export interface SubscriptionLimits {
  /** WebSocket connections one gateway process accepts; more get HTTP 503. @default 20000 */
  readonly maxConnections: number;
  /** Operations open at once on one connection. @default 100 */
  readonly maxSubscriptionsPerConnection: number;
  /** Largest client message, in bytes. @default 102400 (the HTTP body limit) */
  readonly maxMessageBytes: number;
  /**
   * Messages a connection may have waiting for a slow client. States of one object replace
   * each other in the queue, so this bounds distinct objects; past it the connection closes
   * with 1008 and the client's reconnect resumes from the current state. @default 1000
   */
  readonly maxQueuedMessages: number;
  /** connection_init must arrive within this. @default 10000 */
  readonly connectionInitTimeoutMs: number;
  /** WebSocket ping interval; a client that misses a pong is disconnected. @default 12000 */
  readonly keepAliveMs: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = Object.freeze({
  maxConnections: 20_000,
  maxSubscriptionsPerConnection: 100,
  maxMessageBytes: 102_400,
  maxQueuedMessages: 1000,
  connectionInitTimeoutMs: 10_000,
  keepAliveMs: 12_000,
});

export interface ClientServerMetrics {
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  readonly closes: Counter<'code'>;
  /** Queued states replaced by newer ones for a lagging client. */
  readonly conflated: Counter;
}

export interface ClientServerOptions {
  readonly server: http.Server;
  readonly path: string;
  readonly authenticator: Authenticator;
  /** The supergraph in use now; null before the first one is loaded. */
  readonly planner: () => SupergraphPlanner | null;
  readonly hub: SubscriptionHub;
  /** Checks beyond validation (safelist, depth and cost limits) for subscription operations. */
  readonly checkOperation: (queryText: string, document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>) => readonly GraphQLError[];
  /** Runs a query or mutation sent over the socket, as the HTTP path would. */
  readonly executeOperation: (
    request: { query: string; operationName?: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> },
    identity: Identity,
  ) => Promise<FormattedExecutionResult>;
  readonly limits: SubscriptionLimits;
  readonly logger: Logger;
  readonly metrics: ClientServerMetrics;
  /**
   * Subscription documents that passed validation and every limit, keyed by supergraph id and
   * text: thousands of clients send the same few, and parsing is most of a subscribe's cost.
   */
  readonly documentCache: BoundedCache<DocumentNode>;
}

export interface ClientServer {
  connectionCount(): number;
  close(): Promise<void>;
}

/** At most this many messages are handed to a socket before earlier ones are written out. */
const MAX_IN_FLIGHT = 32;
/** Node timers overflow past ~24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function startClientServer(opts: ClientServerOptions): ClientServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.limits.maxMessageBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
  });
  const connections = new Set<ClientConnection>();

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== opts.path) return rejectUpgrade(socket, 404, `WebSocket connections are served on ${opts.path}`);
    if (connections.size >= opts.limits.maxConnections) return rejectUpgrade(socket, 503, 'this gateway holds its maximum of connections; retry or use another instance');
    wss.handleUpgrade(req, socket, head, (ws) => {
      // No subprotocol we speak: refuse before any per-connection state exists.
      if (ws.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
        opts.metrics.closes.inc({ code: closeCodeLabel(GatewayCloseCode.SubprotocolNotAcceptable) });
        ws.close(GatewayCloseCode.SubprotocolNotAcceptable, `Subprotocol not acceptable: use ${GRAPHQL_TRANSPORT_WS_PROTOCOL}`);
        setTimeout(() => ws.terminate(), 3000).unref();
        return;
      }
      connections.add(new ClientConnection(ws, opts, (closed) => connections.delete(closed)));
    });
  };
  opts.server.on('upgrade', onUpgrade);

  return {
    connectionCount: () => connections.size,
    async close() {
      opts.server.off('upgrade', onUpgrade);
      for (const c of [...connections]) c.close(GatewayCloseCode.GoingAway, 'gateway shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Close codes the gateway or the protocol defines; a client may send any number 1000-4999, so others share one label. */
const KNOWN_CLOSE_CODES: ReadonlySet<number> = new Set([...Object.values(GatewayCloseCode), 1000, 1005, 1006, 1009, 1011, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4499, 4500]);
const closeCodeLabel = (code: number): string => (KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other');

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = status === 404 ? 'Not Found' : 'Service Unavailable';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

class ClientConnection {
  private identity: Identity | null = null;
  private initReceived = false;
  private readonly operations = new Map<string, (() => void) | null>();
  private readonly queue: SendQueue;
  private uniqueSeq = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private awaitingPong = false;
  private closed = false;
  private cleanedUp = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: ClientServerOptions,
    private readonly onClosed: (connection: ClientConnection) => void,
  ) {
    opts.metrics.connections.inc();
    this.queue = createSendQueue({
      maxInFlight: MAX_IN_FLIGHT,
      maxQueued: opts.limits.maxQueuedMessages,
      write: (text, done) => (ws.readyState === WebSocket.OPEN ? ws.send(text, done) : done()),
      onOverflow: (n) => this.close(GatewayCloseCode.SlowConsumer, `client too slow: ${n} messages waiting`),
      onConflate: () => opts.metrics.conflated.inc(),
    });
    this.timers.push(
      setTimeout(() => {
        if (!this.identity) this.close(GatewayCloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }, opts.limits.connectionInitTimeoutMs),
    );
    this.timers.push(
      setInterval(() => {
        if (this.awaitingPong) return void ws.terminate();
        this.awaitingPong = true;
        ws.ping();
      }, opts.limits.keepAliveMs),
    );
    ws.on('pong', () => (this.awaitingPong = false));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.close(GatewayCloseCode.BadRequest, 'binary messages are not graphql-transport-ws');
      void this.onMessage(String(data));
    });
    // ws reports an oversize message (maxPayload) as an error and closes with 1009.
    ws.on('error', (err) => opts.logger.debug({ err: err.message }, 'client socket error'));
    ws.on('close', (code) => {
      opts.metrics.closes.inc({ code: closeCodeLabel(code) });
      this.cleanup();
    });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason.slice(0, 120));
    // A client that never answers the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 3000).unref();
  }

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const stop of this.operations.values()) stop?.();
    this.opts.metrics.subscriptions.dec(this.operations.size);
    this.operations.clear();
    this.queue.clear();
    this.opts.metrics.connections.dec();
    this.onClosed(this);
  }

  private async onMessage(text: string): Promise<void> {
    let message;
    try {
      message = parseMessage(text);
    } catch (e) {
      return this.close(GatewayCloseCode.BadRequest, `Invalid message: ${(e as Error).message}`);
    }
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (this.initReceived) return this.close(GatewayCloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
        this.initReceived = true;
        const auth = message.payload?.authorization ?? message.payload?.Authorization;
        try {
          const verified = this.opts.authenticator.verify(typeof auth === 'string' ? auth : auth === undefined || auth === null ? undefined : String(auth));
          this.identity = verified.identity;
          if (verified.expiresAt !== null) {
            const left = Math.max(0, Math.min(MAX_TIMER_MS, verified.expiresAt - Date.now()));
            this.timers.push(setTimeout(() => this.close(GatewayCloseCode.Forbidden, 'token expired'), left));
          }
        } catch (e) {
          return this.close(GatewayCloseCode.Forbidden, e instanceof AuthError ? e.message : 'authentication failed');
        }
        return this.send(stringifyMessage({ type: MessageType.ConnectionAck }));
      }
      case MessageType.Ping:
        return this.send(stringifyMessage({ type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return this.onSubscribe(message.id, message.payload);
      case MessageType.Complete: {
        const stop = this.operations.get(message.id);
        if (!this.operations.delete(message.id)) return;
        this.opts.metrics.subscriptions.dec();
        stop?.();
        return this.queue.drop(`${message.id}\u0000`);
      }
      default:
        return this.close(GatewayCloseCode.BadRequest, `Unexpected message of type ${message.type}`);
    }
  }

  private async onSubscribe(
    id: string,
    payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null; extensions?: Record<string, unknown> | null },
  ): Promise<void> {
    const identity = this.identity;
    if (!identity) return this.close(GatewayCloseCode.Unauthorized, 'Unauthorized');
    if (this.operations.has(id)) return this.close(GatewayCloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    if (this.operations.size >= this.opts.limits.maxSubscriptionsPerConnection)
      return this.sendErrors(id, [
        { message: `at most ${this.opts.limits.maxSubscriptionsPerConnection} operations may be open on one connection`, extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } },
      ]);
    this.operations.set(id, null);
    this.opts.metrics.subscriptions.inc();
    const fail = (errors: readonly GraphQLFormattedError[]) => {
      if (!this.operations.delete(id)) return;
      this.opts.metrics.subscriptions.dec();
      this.sendErrors(id, errors);
    };

    const planner = this.opts.planner();
    if (!planner) return fail([{ message: 'the gateway has no supergraph yet', extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
    const operationName = payload.operationName ?? undefined;
    const variables = payload.variables ?? {};
    // Only documents that passed every check are cached (below), so nothing refused is kept.
    const cacheKey = `${planner.id}\n${payload.query}`;
    const cached = this.opts.documentCache.get(cacheKey);
    let document = cached;
    if (!document) {
      try {
        document = parse(payload.query);
      } catch (e) {
        return fail([{ message: (e as GraphQLError).message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }]);
      }
      const invalid = validate(planner.apiSchema, document);
      if (invalid.length > 0) return fail(invalid.map((e) => ({ ...e.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })));
    }
    const operation = getOperationAST(document, operationName);
    if (!operation)
      return fail([
        {
          message: operationName ? `Unknown operation named "${operationName.slice(0, 100)}".` : 'Must provide operation name if query contains multiple operations.',
          extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
        },
      ]);

    if (operation.operation !== 'subscription') {
      // Queries and mutations go through Apollo Server, which caches their documents itself.
      const result = await this.opts.executeOperation({ query: payload.query, operationName, variables, extensions: payload.extensions ?? undefined }, identity);
      if (!this.operations.delete(id)) return;
      this.opts.metrics.subscriptions.dec();
      this.enqueue(this.unique(id), nextMessageText(id, JSON.stringify(result)));
      return this.enqueue(this.unique(id), stringifyMessage({ id, type: MessageType.Complete }));
    }

    const refused = this.opts.checkOperation(payload.query, document, operationName, variables);
    if (refused.length > 0) return fail(refused.map((e) => e.toJSON()));
    if (!cached) this.opts.documentCache.set(cacheKey, document);
    const coerced = getVariableValues(planner.apiSchema, operation.variableDefinitions ?? [], variables, { maxErrors: 10 });
    if (coerced.errors) return fail(coerced.errors.map((e) => ({ ...e.toJSON(), extensions: { code: 'BAD_USER_INPUT' } })));
    let plan;
    try {
      plan = planner.plan(payload.query, document, operationName);
    } catch (e) {
      this.opts.logger.error({ err: e }, 'subscription planning failed');
      return fail([{ message: `cannot plan this subscription: ${(e as Error).message}`, extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    }
    if (!this.operations.has(id) || this.closed) return;
    const stop = this.opts.hub.subscribe(
      { plan, queryText: payload.query, operationName, variables: coerced.coerced, identity },
      {
        deliver: (json, key) => this.enqueue(key === null ? this.unique(id) : `${id}\u0000${key}`, nextMessageText(id, json)),
        error: (errors) => {
          if (!this.operations.delete(id)) return;
          this.opts.metrics.subscriptions.dec();
          this.sendErrors(id, errors);
        },
        complete: () => {
          if (!this.operations.delete(id)) return;
          this.opts.metrics.subscriptions.dec();
          this.enqueue(this.unique(id), stringifyMessage({ id, type: MessageType.Complete }));
        },
      },
    );
    // The hub may have ended it already (an upstream refusal delivered synchronously).
    if (this.operations.has(id)) this.operations.set(id, stop);
    else stop();
  }

  private sendErrors(id: string, errors: readonly GraphQLFormattedError[]): void {
    this.enqueue(this.unique(id), stringifyMessage({ id, type: MessageType.Error, payload: errors as GraphQLFormattedError[] }));
  }

  /** A queue key no later message replaces. */
  private unique(id: string): string {
    return `${id}\u0000#${this.uniqueSeq++}`;
  }

  private enqueue(key: string, text: string): void {
    if (!this.closed) this.queue.push(key, text);
  }

  /** Protocol replies (ack, pong) skip the queue: they are tiny and must not wait behind data. */
  private send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }
}

/** sha256 hex of an operation's text, as the safelist lists it. */
export const operationHash = (query: string) => createHash('sha256').update(query).digest('hex');
