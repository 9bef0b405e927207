// Every view of the product's subgraphs, by name, for the operations CLIs (rebuild, lag).
import type { EventTopicKey } from '../schema/events';
import { inventoryProjection, productsProjection } from '../subgraphs/catalog/projection';
import { customer360Projection, customersProjection } from '../subgraphs/customers/projection';
import { knownStoresProjection, ordersProjection, productPricesProjection } from '../subgraphs/orders/projection';
import type { Projection } from '../subgraphs/runtime/projection';

export interface ViewEntry {
  readonly subgraph: string;
  readonly projection: Projection<EventTopicKey, unknown>;
}

const entry = <K extends EventTopicKey, S>(subgraph: string, projection: Projection<K, S>): ViewEntry => ({
  subgraph,
  projection: projection as unknown as Projection<EventTopicKey, unknown>,
});

export const VIEWS: readonly ViewEntry[] = [
  entry('customers', customersProjection),
  entry('customers', customer360Projection),
  entry('catalog', productsProjection),
  entry('catalog', inventoryProjection),
  entry('orders', ordersProjection),
  entry('orders', productPricesProjection),
  entry('orders', knownStoresProjection),
];

export function findView(name: string): ViewEntry | undefined {
  return VIEWS.find((v) => v.projection.name === name);
}
