// The orders subgraph as the runtime and the operations tools see it: where it listens, the
// topic it writes and the views it builds (its own orders, and its copies of the catalog's
// prices and stores).
import { ORDERS_TOPIC } from '../../schema/events';
import { declareSubgraph } from '../runtime/declaration';
import { dataProducts } from './dataProducts';
import { availabilityProjection, knownStoresProjection, ordersProjection, productPricesProjection } from './projection';

export const declaration = declareSubgraph({
  name: 'orders',
  port: 4003,
  portVariable: 'ORDERS_PORT',
  topics: [ORDERS_TOPIC],
  views: { orders: ordersProjection, prices: productPricesProjection, stores: knownStoresProjection, availability: availabilityProjection },
  dataProducts,
});
