// What every customers resolver gets per request (the runtime builds it the same way for every
// subgraph): the verified caller, the runtime for writes, the declared views and this
// request's loaders over them.
import type { LoadersOf, SubgraphContext, ViewsOf } from '../runtime/startSubgraph';
import type { declaration } from './declaration';

type Declared = typeof declaration.views;
export type CustomersContext = SubgraphContext<Declared>;
export type CustomersViews = ViewsOf<Declared>;
export type CustomersLoaders = LoadersOf<Declared>;
