// The customers subgraph: profiles and customer-360 counters as a Federation 2 subgraph.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { declaration } from './declaration';
import { createCustomersSchema } from './schema';

export type CustomersSubgraphHandle = SubgraphHandle<typeof declaration.views>;

/** Starts the declared views (joining their consumer groups) and then the server; close() stops both. */
export function startCustomersSubgraph(opts: SubgraphOptions): Promise<CustomersSubgraphHandle> {
  return startSubgraph(declaration, opts, createCustomersSchema);
}

export { customersProjection, customer360Projection } from './projection';
export type { CustomerProfile, Customer360 } from './projection';
