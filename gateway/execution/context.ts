// What one gateway request carries through planning and subgraph fetches.
import type { Identity } from '../../platform/identity';
import type { WrittenAt } from '../../platform/consistency';

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
}

/** A fresh context: nothing written or read yet. */
export function createGatewayContext(
  requestId: string,
  identity: Identity,
  identityHeader: string,
  consistencyToken: string | null = null,
): GatewayContext {
  return { requestId, identity, identityHeader, consistencyToken, written: [], freshness: {}, metricLabels: {} };
}
