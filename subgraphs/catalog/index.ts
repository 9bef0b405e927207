// The catalog subgraph: products, stores and stock levels as a Federation 2 subgraph.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { declaration } from './declaration';
import { createCatalogSchema } from './schema';

export type CatalogHandle = SubgraphHandle<typeof declaration.views>;

/** Starts the declared views (joining their consumer groups) and then the server; close() stops both. */
export function startCatalogSubgraph(opts: SubgraphOptions): Promise<CatalogHandle> {
  return startSubgraph(declaration, opts, createCatalogSchema);
}

export type { CatalogViews } from './context';
