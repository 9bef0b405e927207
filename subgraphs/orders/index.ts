// Starts the orders subgraph: its views (orders, product prices, known stores), schema and server.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { knownStoresProjection, ordersProjection, productPricesProjection } from './projection';
import type { OrdersContext } from './resolvers';
import { ordersSchema } from './schema';

export async function startOrdersSubgraph(opts: SubgraphOptions): Promise<SubgraphHandle> {
  return startSubgraph<OrdersContext>('orders', opts, async (runtime) => {
    const [orders, prices, stores] = await Promise.all([
      runtime.view(ordersProjection),
      runtime.view(productPricesProjection),
      runtime.view(knownStoresProjection),
    ]);
    const deps = { runtime, orders, prices, stores };
    return {
      schema: ordersSchema(deps),
      context: (identity) => ({ identity, orders: orders.loader() }),
    };
  });
}
