// The mesh subgraph: the catalog of data products (owner: the platform team). It starts like
// every subgraph, then its monitor, which measures the announced products every few seconds.
import { envWholeNumber } from '../../platform/envValues';
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { declaration } from './declaration';
import { startMeshMonitor, type MeshMonitor } from './meshMonitor';
import { createMeshSchema } from './schema';

export interface MeshOptions extends SubgraphOptions {
  /** How often products are measured (MESH_SAMPLE_MS). @default 2000 */
  readonly sampleMs?: number;
}

export type MeshHandle = SubgraphHandle<typeof declaration.views> & { readonly monitor: MeshMonitor };

export async function startMeshSubgraph(opts: MeshOptions): Promise<MeshHandle> {
  let monitor: MeshMonitor | undefined;
  const current = () => {
    // Only between the server's start and the monitor's, a moment at start.
    if (!monitor) throw new Error('the data product catalog is starting; try again in a moment');
    return monitor;
  };
  const handle = await startSubgraph(declaration, opts, () => createMeshSchema(current));
  try {
    monitor = await startMeshMonitor({
      kafka: handle.runtime.kafka,
      redis: handle.runtime.redis,
      namespace: handle.runtime.namespace,
      registry: handle.runtime.registry,
      logger: handle.runtime.logger,
      sampleMs: opts.sampleMs ?? sampleMsFromEnv(),
    });
  } catch (e) {
    await handle.close();
    throw e;
  }
  const started = monitor;
  let closing: Promise<void> | undefined;
  return {
    ...handle,
    monitor: started,
    close: () =>
      (closing ??= (async () => {
        await started.close();
        await handle.close();
      })()),
  };
}

/** MESH_SAMPLE_MS: at least 100 ms, so a typo cannot make the mesh hammer the broker. */
function sampleMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return envWholeNumber(env, 'MESH_SAMPLE_MS', 2000, 100);
}
