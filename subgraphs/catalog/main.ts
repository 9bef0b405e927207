// Entry point of the catalog subgraph process: settings from the environment (CATALOG_PORT,
// default 4002), start, stop cleanly on SIGINT/SIGTERM - the shared routine every subgraph uses.
import { runSubgraphMain } from '../runtime/runSubgraphMain';
import { startCatalogSubgraph } from './index';

runSubgraphMain('catalog', 'CATALOG_PORT', 4002, startCatalogSubgraph);
