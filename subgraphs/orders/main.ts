// Entry point of the orders subgraph process.
import { runSubgraphMain } from '../runtime/runSubgraphMain';
import { startOrdersSubgraph } from './index';

runSubgraphMain('orders', 'ORDERS_PORT', 4003, startOrdersSubgraph);
