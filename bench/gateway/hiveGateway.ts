// The Hive Gateway contender: @graphql-hive/gateway's runtime (createGatewayRuntime, its
// documented programmatic use) on a node:http server, serving SUPERGRAPH_FILE and adding the
// signed identity to subgraph calls through its header propagation option.
// Prints "hive-gateway ready at <url>" once it listens.
// First: a missing `npm run bench:install` is one line, not a stack (bench/package.json holds Hive).
import '../requireContenders';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { createAdminIdentity, identitySecretOrExit } from './adminIdentity';
import { hiveBaseOptions } from './hiveOptions';

async function main() {
  const identity = createAdminIdentity(identitySecretOrExit());
  const runtime = createGatewayRuntime(hiveBaseOptions(identity));
  const server = http.createServer(runtime);
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => {
    server.closeAllConnections();
    server.close();
    void Promise.resolve(runtime.dispose()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`hive-gateway ready at http://127.0.0.1:${port}${runtime.graphqlEndpoint}`);
}

main().catch((e: unknown) => {
  console.error(`hive-gateway: ${(e as Error).stack}`);
  process.exit(1);
});
