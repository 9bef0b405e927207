// What every customers resolver gets per request: the verified caller, the runtime (for
// writes) and the views with fresh loaders.
import type { Identity } from '../../platform/identity';
import type { SubgraphRuntime } from '../runtime/subgraphRuntime';
import { createLoaders, type CustomersLoaders, type CustomersViews } from './views';

export interface CustomersContext {
  readonly identity: Identity;
  readonly runtime: SubgraphRuntime;
  readonly views: CustomersViews;
  readonly loaders: CustomersLoaders;
}

/** The per-request context factory startSubgraph calls for each verified caller. */
export function createContextFactory(runtime: SubgraphRuntime, views: CustomersViews): (identity: Identity) => CustomersContext {
  return (identity) => ({ identity, runtime, views, loaders: createLoaders(views) });
}
