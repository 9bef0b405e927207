// The customers subgraph: profiles and customer-360 counters as a Federation 2 subgraph.
import { startSubgraph, type SubgraphHandle, type SubgraphOptions } from '../runtime/startSubgraph';
import { createContextFactory } from './context';
import { createCustomersSchema } from './schema';
import { startCustomersViews, type CustomersViews } from './views';

export interface CustomersSubgraphHandle extends SubgraphHandle {
  /** The running views (tests read their round-trip counts and wait on their offsets). */
  readonly views: CustomersViews;
}

/** Starts the views (joining their consumer groups) and then the server; close() stops both. */
export async function startCustomersSubgraph(opts: SubgraphOptions): Promise<CustomersSubgraphHandle> {
  let views: CustomersViews | undefined;
  const handle = await startSubgraph('customers', opts, async (runtime) => {
    // Built first so a broken SDL fails before any consumer group is joined.
    const schema = createCustomersSchema();
    views = await startCustomersViews(runtime);
    return { schema, context: createContextFactory(runtime, views) };
  });
  if (!views) throw new Error('customers views were not started');
  return { ...handle, views };
}

export { customersProjection, customer360Projection } from './projection';
export type { CustomerProfile, Customer360 } from './projection';
