// The catalog subgraph as the runtime and the operations tools see it: where it listens,
// the topics it writes (products through the catalog database's change stream) and the views
// it builds.
import { CATALOG_INVENTORY_TOPIC, CATALOG_PRODUCTS_CDC_TOPIC, CATALOG_RESERVATIONS_TOPIC } from '../../schema/events';
import { declareSubgraph } from '../runtime/declaration';
import { dataProducts } from './dataProducts';
import { inventoryProjection, productsProjection } from './projection';

export const declaration = declareSubgraph({
  name: 'catalog',
  port: 4002,
  portVariable: 'CATALOG_PORT',
  topics: [CATALOG_PRODUCTS_CDC_TOPIC, CATALOG_INVENTORY_TOPIC, CATALOG_RESERVATIONS_TOPIC],
  views: { products: productsProjection, inventory: inventoryProjection },
  dataProducts,
});
