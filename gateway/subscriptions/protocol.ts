// The graphql-transport-ws wire protocol as the gateway speaks it, on both sides: to clients
// and to subgraphs. Message shapes, parsing and close codes come from graphql-ws itself; this
// adds the close codes the gateway documents and the one message it writes on its hot path.
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, stringifyMessage } from 'graphql-ws';

export { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, stringifyMessage };

/**
 * Close codes a client of the gateway can see, with what to do about each (docs/subscriptions.md).
 * graphql-ws clients retry 4403, 4408, 1008 and 1001 (with fresh connection params) and give up on 4400, 4401,
 * 4406, 4409 and 4429.
 */
export const GatewayCloseCode = {
  /** A message that is not graphql-transport-ws. Fix the client. */
  BadRequest: CloseCode.BadRequest,
  /** subscribe before connection_ack. */
  Unauthorized: CloseCode.Unauthorized,
  /** The token in connection_init is invalid, or it expired while connected: reconnect with a fresh one. */
  Forbidden: CloseCode.Forbidden,
  SubprotocolNotAcceptable: CloseCode.SubprotocolNotAcceptable,
  ConnectionInitialisationTimeout: CloseCode.ConnectionInitialisationTimeout,
  SubscriberAlreadyExists: CloseCode.SubscriberAlreadyExists,
  TooManyInitialisationRequests: CloseCode.TooManyInitialisationRequests,
  /** The client reads too slowly: more messages queued than allowed. Reconnecting resumes from the current state. */
  SlowConsumer: 1008,
  /** The gateway is shutting down. */
  GoingAway: 1001,
} as const;

/** Close codes the gateway or the protocol defines; a client may send any number 1000-4999, so others share one label. */
const KNOWN_CLOSE_CODES: ReadonlySet<number> = new Set([...Object.values(GatewayCloseCode), 1000, 1005, 1006, 1009, 1011, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4499, 4500]);

/** A close code as a metric label: from a bounded set. */
export const closeCodeLabel = (code: number): string => (KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other');

/**
 * A `next` message whose payload is already JSON. One event's payload is serialised once and
 * sent to every client that shares it; only the subscription id differs per client.
 */
export function nextMessageText(id: string, payloadJson: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":${payloadJson}}`;
}
