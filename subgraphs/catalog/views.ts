// The catalog's two running views, and index sizes so a search can start from its
// smallest candidate index.
import type { SubgraphRuntime, View } from '../runtime/subgraphRuntime';
import { inventoryProjection, productsProjection, type InventoryEntity, type ProductState } from './projection';

export interface CatalogViews {
  readonly products: View<ProductState>;
  readonly inventory: View<InventoryEntity>;
  /** Members of each named index of the products view, summed over partitions, in one round trip. */
  productIndexSizes(indexes: readonly string[]): Promise<number[]>;
}

export async function createCatalogViews(runtime: SubgraphRuntime): Promise<CatalogViews> {
  const [products, inventory] = await Promise.all([runtime.view(productsProjection), runtime.view(inventoryProjection)]);
  return {
    products,
    inventory,
    productIndexSizes: (indexes) => products.reader.indexSizes(indexes),
  };
}
