// The Hive Gateway contender for subscriptions: @graphql-hive/gateway's runtime on a node:http
// server with graphql-ws for clients, wired as its CLI does (a ws WebSocketServer on the
// GraphQL path, useServer with getGraphQLWSOptions), and subscribing to subgraphs over
// graphql-ws through the HTTP transport's `subscriptions: { kind: 'ws' }` option. Subgraphs
// get the benchmark's fixed admin identity, as in the query benchmark: in the `connection_init`
// payload for graphql-ws, in a header for entity fetches. Prints "hive-gateway ready at <url>".
// First: a missing `npm run bench:install` is one line, not a stack (bench/package.json holds Hive).
import '../requireContenders';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, getGraphQLWSOptions } from '@graphql-hive/gateway';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { IDENTITY_HEADER } from '../../platform/identity';
import { createAdminIdentity, identitySecretOrExit } from '../gateway/adminIdentity';
import { hiveBaseOptions } from '../gateway/hiveOptions';

/** Where the signed identity sits in each operation's context, for the WS transport to interpolate. */
const CONTEXT_KEY = 'streamgraphIdentity';

async function main() {
  const identity = createAdminIdentity(identitySecretOrExit());
  const runtime = createGatewayRuntime({
    ...hiveBaseOptions(identity),
    transportEntries: {
      '*.http': {
        options: {
          subscriptions: {
            kind: 'ws',
            // connectionParams values are interpolated per subscription from its context. The
            // transport keeps one multiplexed connection per distinct set of values, so
            // subscriptions share a connection for the minute an identity is reused.
            options: { connectionParams: { [IDENTITY_HEADER]: `{context.${CONTEXT_KEY}}` } },
          },
        },
      },
    },
    plugins: () => [
      {
        onContextBuilding({ extendContext }: { extendContext(extra: Record<string, unknown>): void }) {
          extendContext({ [CONTEXT_KEY]: identity() });
        },
      },
    ],
  });
  // The CLI loads the supergraph before it listens; without it a subscription arriving over
  // graphql-ws (which skips the HTTP hooks that load it lazily) meets no schema.
  await runtime.getSchema();
  const server = http.createServer(runtime);
  const wss = new WebSocketServer({ server, path: runtime.graphqlEndpoint });
  const ws = useServer(
    getGraphQLWSOptions(runtime, (ctx) => {
      const req = (ctx.extra as { request: http.IncomingMessage }).request;
      return { req, socket: (ctx.extra as { socket: unknown }).socket, request: toFetchRequest(runtime.fetchAPI.Request, req) };
    }),
    wss,
  );
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => {
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    server.close();
    void Promise.allSettled([ws.dispose(), runtime.dispose()]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`hive-gateway ready at http://127.0.0.1:${port}${runtime.graphqlEndpoint}`);
}

/** The upgrade request as a Fetch API Request: what the runtime reads headers from (the CLI uses @whatwg-node/server for this). */
function toFetchRequest(RequestImpl: typeof Request, req: http.IncomingMessage): Request {
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.push([name, value]);
    else if (Array.isArray(value)) for (const v of value) headers.push([name, v]);
  }
  return new RequestImpl(new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`), { method: 'GET', headers });
}

main().catch((e: unknown) => {
  console.error(`hive-gateway: ${(e as Error).stack}`);
  process.exit(1);
});
