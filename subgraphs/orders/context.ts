// What every orders resolver gets per request (the runtime builds it the same way for every
// subgraph): the verified caller, the runtime for writes, the declared views (orders, the
// catalog's prices and stores as this team copies them) and this request's loaders over them.
import type { LoadersOf, SubgraphContext, ViewsOf } from '../runtime/startSubgraph';
import type { declaration } from './declaration';

type Declared = typeof declaration.views;
export type OrdersContext = SubgraphContext<Declared>;
export type OrdersViews = ViewsOf<Declared>;
export type OrdersLoaders = LoadersOf<Declared>;
