// The per-request context of the catalog subgraph: the caller, and fresh DataLoaders over
// both views so every entity a request touches is read in one Redis round trip per tick.
import type DataLoader from 'dataloader';
import type { Identity } from '../../platform/identity';
import type { SubgraphRuntime } from '../runtime/subgraphRuntime';
import type { InventoryEntity, ProductState } from './projection';
import type { CatalogViews } from './views';

export interface CatalogContext {
  readonly identity: Identity;
  readonly runtime: SubgraphRuntime;
  readonly views: CatalogViews;
  /** Products by product id. */
  readonly products: DataLoader<string, ProductState | undefined>;
  /** Inventory entities by entity id (storeEntityId / levelEntityId). */
  readonly inventory: DataLoader<string, InventoryEntity | undefined>;
}

export function createCatalogContext(runtime: SubgraphRuntime, views: CatalogViews): (identity: Identity) => CatalogContext {
  return (identity) => ({
    identity,
    runtime,
    views,
    products: views.products.loader(),
    inventory: views.inventory.loader(),
  });
}
