// One multiplexed graphql-transport-ws connection from the gateway to one subgraph instance,
// carrying many subscriptions. It never reconnects by itself: when it drops (the instance died or
// restarted, a network blip) it hands its subscriptions back to the pool (upstreamPool.ts), which
// routes each to a live instance again; a subscription starts with the current state, so the
// subscribers converge without being told.
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
}

/** Who the gateway is when it opens a connection: subgraphs accept only gateway-signed identities. */
const GATEWAY_IDENTITY: Identity = { sub: null, roles: [] };

/** What a connection carries for one subscription; the pool moves it between connections. */
export interface UpstreamRegistration {
  readonly request: UpstreamRequest;
  readonly sink: UpstreamSink;
}

export interface UpstreamConnectionHooks<R extends UpstreamRegistration> {
  /** Its last subscription ended: the connection closed itself. */
  onIdle(): void;
  /** The subgraph acknowledged the connection. */
  onAcked(): void;
  /**
   * The connection dropped, or never opened, while it carried these subscriptions: they are
   * no longer subscribed anywhere. `acked` says whether it had been acknowledged.
   */
  onLost(registrations: R[], acked: boolean): void;
}

/** One multiplexed connection to one subgraph instance. */
export class UpstreamConnection<R extends UpstreamRegistration = UpstreamRegistration> {
  private socket: WebSocket | null = null;
  private acked = false;
  private everAcked = false;
  private readonly registrations = new Map<string, R>();
  private nextId = 1;
  private openTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private disposed = false;

  /** `delayMs`: how long to wait before opening (the pool's backoff for an address that failed). */
  constructor(
    readonly url: string,
    private readonly opts: UpstreamConnectionOptions,
    private readonly hooks: UpstreamConnectionHooks<R>,
    delayMs = 0,
  ) {
    if (delayMs > 0) {
      this.openTimer = setTimeout(() => {
        this.openTimer = null;
        if (!this.disposed) this.open();
      }, delayMs);
    } else {
      this.open();
    }
  }

  size(): number {
    return this.registrations.size;
  }

  /** Whether it can still take subscriptions (not closed, not lost). */
  usable(): boolean {
    return !this.disposed;
  }

  /** Subscribes now if acknowledged, else once it is; returns the id `remove` takes. */
  add(reg: R): string {
    const id = String(this.nextId++);
    this.registrations.set(id, reg);
    if (this.acked) this.sendSubscribe(id, reg);
    return id;
  }

  remove(id: string): void {
    if (!this.registrations.delete(id)) return;
    if (this.acked) this.send(stringifyMessage({ type: MessageType.Complete, id }));
    if (this.registrations.size === 0) this.idle();
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
    this.hooks.onIdle();
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
      if (this.disposed) return;
      // A connection is never reopened in place: the instance behind this address may be gone
      // for good, so the pool routes each subscription again (to this address only if it is
      // still the one to use).
      this.disposed = true;
      const lost = [...this.registrations.values()];
      this.registrations.clear();
      if (this.everAcked) this.opts.logger.warn({ url: this.url, code, reason: String(reason), subscriptions: lost.length }, 'upstream connection lost; subscribing again');
      this.hooks.onLost(lost, this.everAcked);
    });
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
        this.everAcked = true;
        this.startKeepAlive();
        this.hooks.onAcked();
        for (const [id, reg] of this.registrations) this.sendSubscribe(id, reg);
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
        if (this.registrations.size === 0 && !this.disposed) this.idle();
        return;
      }
      case MessageType.Complete: {
        const reg = this.registrations.get(message.id);
        if (!reg) return;
        this.registrations.delete(message.id);
        reg.sink.complete();
        if (this.registrations.size === 0 && !this.disposed) this.idle();
        return;
      }
      default:
        return;
    }
  }

  private sendSubscribe(id: string, reg: R): void {
    const { query, operationName, variables, identity } = reg.request;
    this.send(
      stringifyMessage({
        type: MessageType.Subscribe,
        id,
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
    if (this.openTimer) clearTimeout(this.openTimer);
    this.pingTimer = null;
    this.openTimer = null;
    this.awaitingPong = false;
  }

  private send(text: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
  }
}
