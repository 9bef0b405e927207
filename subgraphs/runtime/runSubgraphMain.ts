// The entry-point routine of every subgraph process: read the environment, start, and
// stop cleanly on SIGINT/SIGTERM; configuration mistakes end it with one clear line.
import { ConfigError } from './kafkaConfig';
import type { SubgraphHandle, SubgraphOptions } from './startSubgraph';
import { subgraphOptionsFromEnv } from './subgraphConfig';

export function runSubgraphMain(
  name: string,
  portVariable: string,
  defaultPort: number,
  start: (opts: SubgraphOptions) => Promise<SubgraphHandle>,
): void {
  let handle: SubgraphHandle | undefined;
  const stop = async (signal: string) => {
    console.log(`${name}: ${signal}, stopping`);
    await handle?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  (async () => {
    const opts = subgraphOptionsFromEnv(portVariable, defaultPort);
    handle = await start(opts);
    console.log(`${name} subgraph ready at ${handle.url} (graphql-ws ${handle.wsUrl})`);
  })().catch((e) => {
    console.error(`${name}: ${e instanceof ConfigError ? e.message : (e as Error).stack}`);
    process.exit(1);
  });
}
