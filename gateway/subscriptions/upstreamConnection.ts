// One multiplexed graphql-transport-ws connection from the gateway to one subgraph, carrying
// many subscriptions. When it drops (a subgraph restarts, a network blip) it reconnects with
// backoff and subscribes everything again, each with a freshly signed identity, without telling
// the subscribers: a subscription starts with the current state, so they converge.
import type { GraphQLFormattedError } from 'graphql';
import WebSocket from 'ws';
import { IDENTITY_HEADER, signIdentity, type Identity } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, stringifyMessage } from './protocol';

export interface UpstreamResult {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLFormattedError[];
  readonly extensions?: Record<string, unknown>;
}

export interface UpstreamSink {
  next(result: UpstreamResult): void;
  /** The subgraph refused or ended the subscription with errors; nothing more comes. */
  error(errors: readonly GraphQLFormattedError[]): void;
  /** The subgraph ended the subscription; nothing more comes. */
  complete(): void;
}

export interface UpstreamRequest {
  readonly query: string;
  readonly operationName?: string;
  readonly variables: Record<string, unknown>;
  /** The subscriber's verified identity, signed anew at every (re)subscribe. */
  readonly identity: Identity;
}

export interface UpstreamConnectionOptions {
  /** Signs identities for subgraphs (GATEWAY_IDENTITY_SECRET). */
  readonly identitySecret: string;
  readonly logger: Logger;
  /** Ping interval; a connection that does not answer within it is dropped and reopened. @default 10000 */
  readonly keepAliveMs?: number;
  /** Reconnect backoff: starts here, doubles up to maxBackoffMs, with jitter. @default 100 */
  readonly minBackoffMs?: number;
  /** @default 2000 */
  readonly maxBackoffMs?: number;
  /** Called on every reconnect (metrics). */
  readonly onReconnect?: (url: string) => void;
}

/** Who the gateway is when it opens a connection: subgraphs accept only gateway-signed identities. */
const GATEWAY_IDENTITY: Identity = { sub: null, roles: [] };

interface Registration {
  readonly id: string;
  readonly request: UpstreamRequest;
  readonly sink: UpstreamSink;
}

/** One multiplexed connection to one subgraph; reopens itself while it has subscriptions. */
export class UpstreamConnection {
  private socket: WebSocket | null = null;
  private acked = false;
  private readonly registrations = new Map<string, Registration>();
  private nextId = 1;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private disposed = false;

  constructor(
    private readonly url: string,
    private readonly opts: UpstreamConnectionOptions,
    private readonly onIdle: () => void,
  ) {}

  size(): number {
    return this.registrations.size;
  }

  add(request: UpstreamRequest, sink: UpstreamSink): () => void {
    const id = String(this.nextId++);
    const reg: Registration = { id, request, sink };
    this.registrations.set(id, reg);
    if (this.acked) this.sendSubscribe(reg);
    else if (!this.socket && !this.retryTimer) this.open();
    return () => {
      if (!this.registrations.delete(id)) return;
      if (this.acked) this.send(stringifyMessage({ type: MessageType.Complete, id }));
      if (this.registrations.size === 0) this.idle();
    };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.registrations.clear();
    this.stopTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000, 'gateway closing');
        // A peer that does not finish the closing handshake is cut off.
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1000).unref();
      });
    }
  }

  private idle(): void {
    this.disposed = true;
    this.stopTimers();
    this.socket?.close(1000, 'no subscriptions');
    this.socket = null;
    this.onIdle();
  }

  private open(): void {
    const socket = new WebSocket(this.url, GRAPHQL_TRANSPORT_WS_PROTOCOL, { perMessageDeflate: false });
    this.socket = socket;
    this.acked = false;
    socket.on('open', () => {
      this.send(
        stringifyMessage({
          type: MessageType.ConnectionInit,
          payload: { [IDENTITY_HEADER]: signIdentity(GATEWAY_IDENTITY, this.opts.identitySecret) },
        }),
      );
    });
    socket.on('message', (data) => this.onMessage(String(data)));
    socket.on('pong', () => (this.awaitingPong = false));
    socket.on('error', (err) => this.opts.logger.debug({ url: this.url, err: err.message }, 'upstream connection error'));
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.acked = false;
      this.stopTimers();
      if (this.disposed || this.registrations.size === 0) return;
      // One warning per outage, not one per failed attempt while the subgraph is down.
      const log = this.attempt === 0 ? this.opts.logger.warn.bind(this.opts.logger) : this.opts.logger.debug.bind(this.opts.logger);
      log({ url: this.url, code, reason: String(reason), subscriptions: this.registrations.size, attempt: this.attempt }, 'upstream connection lost; reconnecting');
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const min = this.opts.minBackoffMs ?? 100;
    const max = this.opts.maxBackoffMs ?? 2000;
    const base = Math.min(max, min * 2 ** this.attempt++);
    // Jitter spreads the reconnects of many gateways after one subgraph restart.
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.disposed || this.registrations.size === 0) return;
      this.opts.onReconnect?.(this.url);
      this.open();
    }, delay);
  }

  private onMessage(text: string): void {
    let message;
    try {
      message = parseMessage(text);
    } catch (e) {
      this.opts.logger.error({ url: this.url, err: (e as Error).message }, 'upstream sent a message that is not graphql-transport-ws');
      this.socket?.close(4400, 'invalid message');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionAck:
        this.acked = true;
        this.attempt = 0;
        this.startKeepAlive();
        for (const reg of this.registrations.values()) this.sendSubscribe(reg);
        return;
      case MessageType.Ping:
        this.send(stringifyMessage({ type: MessageType.Pong }));
        return;
      case MessageType.Pong:
        this.awaitingPong = false;
        return;
      case MessageType.Next: {
        const reg = this.registrations.get(message.id);
        reg?.sink.next(message.payload as UpstreamResult);
        return;
      }
      case MessageType.Error: {
        const reg = this.registrations.get(message.id);
        if (!reg) return;
        this.registrations.delete(message.id);
        reg.sink.error(message.payload);
        if (this.registrations.size === 0) this.idle();
        return;
      }
      case MessageType.Complete: {
        const reg = this.registrations.get(message.id);
        if (!reg) return;
        this.registrations.delete(message.id);
        reg.sink.complete();
        if (this.registrations.size === 0) this.idle();
        return;
      }
      default:
        return;
    }
  }

  private sendSubscribe(reg: Registration): void {
    const { query, operationName, variables, identity } = reg.request;
    this.send(
      stringifyMessage({
        type: MessageType.Subscribe,
        id: reg.id,
        payload: {
          query,
          ...(operationName ? { operationName } : {}),
          variables,
          // Many subscribers share one connection, so identity rides with each subscription.
          extensions: { [IDENTITY_HEADER]: signIdentity(identity, this.opts.identitySecret) },
        },
      }),
    );
  }

  private startKeepAlive(): void {
    const every = this.opts.keepAliveMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket) return;
      // No pong since the last ping: the peer or the path to it is gone; reopen.
      if (this.awaitingPong) return socket.terminate();
      this.awaitingPong = true;
      socket.ping();
    }, every);
    this.pingTimer.unref();
  }

  private stopTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pingTimer = null;
    this.retryTimer = null;
    this.awaitingPong = false;
  }

  private send(text: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
  }
}
