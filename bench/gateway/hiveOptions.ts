// What every Hive Gateway contender is configured with: the supergraph file, quiet logs, no
// landing page or GraphiQL (like the other gateways), and the signed benchmark identity on
// every subgraph call.
import { IDENTITY_HEADER } from '../../platform/identity';

export function hiveBaseOptions(identity: () => string) {
  return {
    supergraph: process.env.SUPERGRAPH_FILE!,
    logging: 'warn' as const,
    landingPage: false,
    graphiql: false,
    propagateHeaders: {
      fromClientToSubgraphs: () => ({ [IDENTITY_HEADER]: identity() }),
    },
  };
}
