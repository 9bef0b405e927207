// What every catalog resolver gets per request (the runtime builds it the same way for every
// subgraph): the verified caller, the runtime for writes, the declared views (products by
// product id; inventory by storeEntityId / levelEntityId) and this request's loaders over them.
import type { LoadersOf, SubgraphContext, ViewsOf } from '../runtime/startSubgraph';
import type { declaration } from './declaration';

type Declared = typeof declaration.views;
export type CatalogContext = SubgraphContext<Declared>;
export type CatalogViews = ViewsOf<Declared>;
export type CatalogLoaders = LoadersOf<Declared>;
