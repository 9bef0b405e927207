// Entry point of the customers subgraph process.
import { runSubgraphMain } from '../runtime/runSubgraphMain';
import { startCustomersSubgraph } from './index';

runSubgraphMain('customers', 'CUSTOMERS_PORT', 4001, startCustomersSubgraph);
