// What one gateway request carries through planning and subgraph fetches.
import type { Identity } from '../../platform/identity';
import type { WrittenAt } from '../../platform/consistency';
import type { Context } from '../../platform/tracing';

export interface GatewayContext {
  readonly requestId: string;
  readonly identity: Identity;
  /** The signed identity header, made once per request and sent with every subgraph fetch. */
  readonly identityHeader: string;
  /** A consistency token the client sent back, forwarded to every subgraph. */
  readonly consistencyToken: string | null;
  /** Positions the subgraphs wrote (mutations): become the response's consistency token. */
  readonly written: WrittenAt[];
  /** Each touched subgraph's view freshness, reported in `extensions.freshness`. */
  readonly freshness: Record<string, unknown>;
  /**
   * The operation's metric label, set once it resolved within the limits (bounded, see
   * operationLabels.ts). A holder object: Apollo Server runs each operation on a shallow copy
   * of the context, so only what nested objects hold reaches the code that made it.
   */
  readonly metricLabels: { operation?: string };
  /**
   * Tracing on: the trace context this work belongs to, carried explicitly because the gateway
   * runs without a context manager (no AsyncLocalStorage, docs/tracing.md): the /graphql
   * request's span, or the subscription event's (the root context: none). The gateway's plan
   * span, its operation's name and its subgraph fetches take their parent from here. Absent
   * (tracing off, GATEWAY_QUERY_PLANNER=apollo's requests): the active context.
   */
  readonly trace?: Context;
}

/** A fresh context: nothing written or read yet. */
export function createGatewayContext(
  requestId: string,
  identity: Identity,
  identityHeader: string,
  consistencyToken: string | null = null,
  trace?: Context,
): GatewayContext {
  return { requestId, identity, identityHeader, consistencyToken, written: [], freshness: {}, metricLabels: {}, ...(trace ? { trace } : {}) };
}
