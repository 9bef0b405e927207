// Entry point of the catalog subgraph process: settings from the environment (its port setting
// and those every subgraph reads), start, stop cleanly on SIGINT/SIGTERM.
import { runSubgraphMain } from '../runtime/runSubgraphMain';
import { declaration } from './declaration';
import { startCatalogSubgraph } from './index';

runSubgraphMain(declaration, startCatalogSubgraph);
