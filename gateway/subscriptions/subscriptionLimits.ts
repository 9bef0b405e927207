// What one gateway process allows its graphql-ws clients (GATEWAY_WS_* settings).

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
