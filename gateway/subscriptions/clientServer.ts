// graphql-ws (protocol graphql-transport-ws) for the gateway's clients, on the gateway's own
// port and path: upgrades within the connection limit that speak the protocol become client
// connections (clientConnection.ts); the token rides in connection_init and is checked there.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ClientConnection, type ClientConnectionOptions } from './clientConnection';
import { closeCodeLabel, GatewayCloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL } from './protocol';

export interface ClientServerOptions extends ClientConnectionOptions {
  readonly server: http.Server;
  readonly path: string;
}

export interface ClientServer {
  connectionCount(): number;
  close(): Promise<void>;
}

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

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = status === 404 ? 'Not Found' : 'Service Unavailable';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}
