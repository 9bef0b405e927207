// The Apollo Gateway contender: @apollo/gateway with its defaults inside @apollo/server's
// standalone server, serving SUPERGRAPH_FILE, adding the signed identity to subgraph calls.
// Prints "apollo-gateway ready at <url>" once it listens.
import fs from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { IDENTITY_HEADER } from '../../platform/identity';
import { createAdminIdentity, identitySecretOrExit } from './adminIdentity';

async function main() {
  // The parent also sets this in the environment, which is what counts: it must be there
  // before @apollo/gateway is loaded.
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const supergraphSdl = fs.readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8');
  const identity = createAdminIdentity(identitySecretOrExit());
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request }) {
          request.http!.headers.set(IDENTITY_HEADER, identity());
        },
      }),
  });
  const server = new ApolloServer({
    gateway,
    // Nothing leaves the machine and no page is rendered: these are off in the product too.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()],
  });
  const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' } });
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`apollo-gateway ready at ${url}`);
}

main().catch((e: unknown) => {
  console.error(`apollo-gateway: ${(e as Error).stack}`);
  process.exit(1);
});
