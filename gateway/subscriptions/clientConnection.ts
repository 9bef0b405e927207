// One client's graphql-ws connection to the gateway: the token in connection_init (the
// connection closes when it expires), pings, and its operations: subscriptions go to the shared
// hub, queries and mutations sent over the socket run like HTTP ones. Every message goes out
// through a bounded send queue in which a lagging client keeps only the newest state of each object.
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import type { Counter, Gauge } from 'prom-client';
import WebSocket from 'ws';
import type { Identity } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import { AuthError, type Authenticator } from '../auth';
import type { BoundedCache } from '../boundedCache';
import { closeCodeLabel, GatewayCloseCode, MessageType, nextMessageText, parseMessage, stringifyMessage } from './protocol';
import { createSendQueue, type SendQueue } from './sendQueue';
import type { SubscriptionHub } from './subscriptionHub';
import type { SubscriptionLimits } from './subscriptionLimits';
import type { SupergraphPlanner } from './subscriptionPlanner';

export interface ClientConnectionMetrics {
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  readonly closes: Counter<'code'>;
  /** Queued states replaced by newer ones for a lagging client. */
  readonly conflated: Counter;
}

export interface ClientConnectionOptions {
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
  readonly metrics: ClientConnectionMetrics;
  /**
   * Subscription documents that passed validation and every limit, keyed by supergraph id and
   * text: thousands of clients send the same few, and parsing is most of a subscribe's cost.
   */
  readonly documentCache: BoundedCache<DocumentNode>;
}

/** At most this many messages are handed to a socket before earlier ones are written out. */
const MAX_IN_FLIGHT = 32;
/** Node timers overflow past ~24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ClientConnection {
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
    private readonly opts: ClientConnectionOptions,
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
