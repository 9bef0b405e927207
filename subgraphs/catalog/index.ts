// The catalog subgraph: starts its two views and its server, and hands back one handle.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { createCatalogContext } from './context';
import { createCatalogSchema } from './schema';
import { createCatalogViews, type CatalogViews } from './views';

export interface CatalogHandle extends SubgraphHandle {
  /** The running views, for readiness checks and for tests that bound Redis round trips. */
  readonly views: CatalogViews;
}

export async function startCatalogSubgraph(opts: SubgraphOptions): Promise<CatalogHandle> {
  let views: CatalogViews | undefined;
  const handle = await startSubgraph('catalog', opts, async (runtime) => {
    views = await createCatalogViews(runtime);
    return { schema: createCatalogSchema(), context: createCatalogContext(runtime, views) };
  });
  if (!views) throw new Error('catalog views were not started');
  return { ...handle, views };
}

export type { CatalogViews } from './views';
