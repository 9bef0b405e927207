// The catalog subgraph as the runtime and the operations tools see it: where it listens,
// the topics it writes and the views it builds.
import { CATALOG_INVENTORY_TOPIC, CATALOG_PRODUCTS_TOPIC } from '../../schema/events';
import { declareSubgraph } from '../runtime/declaration';
import { inventoryProjection, productsProjection } from './projection';

export const declaration = declareSubgraph({
  name: 'catalog',
  port: 4002,
  portVariable: 'CATALOG_PORT',
  topics: [CATALOG_PRODUCTS_TOPIC, CATALOG_INVENTORY_TOPIC],
  views: { products: productsProjection, inventory: inventoryProjection },
});
