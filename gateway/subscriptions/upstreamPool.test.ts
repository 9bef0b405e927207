// The upstream pool against real graphql-transport-ws servers on local sockets: a subscription
// whose instance dies is subscribed again on the instance its route names now, and starts there
// with that instance's current state.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '../../platform/logger';
import { waitFor } from '../../test/support/waitFor';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, stringifyMessage } from './protocol';
import { createUpstreamPool, type UpstreamPool } from './upstreamPool';
import type { UpstreamResult } from './upstreamConnection';

/** A subgraph instance that answers every subscription with `{ from: name }` at once. */
async function fakeInstance(name: string, port = 0) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, handleProtocols: () => GRAPHQL_TRANSPORT_WS_PROTOCOL });
  const sockets = new Set<WebSocket>();
  let subscribes = 0;
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (data) => {
      const m = parseMessage(String(data));
      if (m.type === MessageType.ConnectionInit) socket.send(stringifyMessage({ type: MessageType.ConnectionAck }));
      if (m.type === MessageType.Subscribe) {
        subscribes++;
        socket.send(stringifyMessage({ type: MessageType.Next, id: m.id, payload: { data: { from: name } } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    subscribes: () => subscribes,
    /** What a SIGKILL looks like from the gateway: every socket cut, nothing listening. */
    async crash() {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const request = { query: 'subscription { x }', variables: {}, identity: { sub: 'u', roles: [] } };

describe('upstream pool', () => {
  let pool: UpstreamPool;
  afterEach(async () => pool?.close());

  it('moves a subscription off an instance that died to the one its route names now', async () => {
    const a = await fakeInstance('a');
    const b = await fakeInstance('b');
    const unreachable: string[] = [];
    pool = createUpstreamPool({ identitySecret: 's'.repeat(32), logger: createLogger('test'), onUnreachable: (u) => unreachable.push(u), minBackoffMs: 10 });
    let route = a.url;
    const got: UpstreamResult[] = [];
    pool.subscribe(() => route, request, { next: (r) => got.push(r), error: () => undefined, complete: () => undefined });
    await waitFor(() => got.length === 1, { what: 'the first state from a', timeoutMs: 5_000 });
    expect(got[0]!.data).toEqual({ from: 'a' });

    route = b.url;
    await a.crash();
    await waitFor(() => got.length === 2, { what: 'the state from b after a died', timeoutMs: 5_000 });
    expect(got[1]!.data).toEqual({ from: 'b' });
    expect(unreachable).toContain(a.url);
    expect(pool.connectionCounts()).toEqual({ [b.url]: 1 });
    await b.crash();
  });

  it('keeps trying the one address there is, with backoff, until it answers again', async () => {
    const a = await fakeInstance('a');
    const refused: string[] = [];
    pool = createUpstreamPool({ identitySecret: 's'.repeat(32), logger: createLogger('test'), onUnreachable: (u) => refused.push(u), minBackoffMs: 10, maxBackoffMs: 50 });
    const got: UpstreamResult[] = [];
    const stop = pool.subscribe(a.url, request, { next: (r) => got.push(r), error: () => undefined, complete: () => undefined });
    await waitFor(() => got.length === 1, { what: 'the first state', timeoutMs: 5_000 });
    await a.crash();
    await waitFor(() => refused.length >= 3, { what: 'a few refused attempts', timeoutMs: 5_000 });
    const again = await fakeInstance('a again', Number(new URL(a.url).port));
    await waitFor(() => got.length === 2, { what: 'the state from the restarted instance', timeoutMs: 5_000 });
    expect(got[1]!.data).toEqual({ from: 'a again' });
    stop();
    expect(pool.connectionCounts()).toEqual({});
    await again.crash();
  });
});
