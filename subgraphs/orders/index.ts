// The orders subgraph: orders, their lifecycle and live updates as a Federation 2 subgraph.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { declaration } from './declaration';
import { createOrdersSchema } from './schema';

export type OrdersSubgraphHandle = SubgraphHandle<typeof declaration.views>;

/** Starts the declared views (joining their consumer groups) and then the server; close() stops both. */
export function startOrdersSubgraph(opts: SubgraphOptions): Promise<OrdersSubgraphHandle> {
  return startSubgraph(declaration, opts, createOrdersSchema);
}
