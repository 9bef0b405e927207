// The customers subgraph as the runtime and the operations tools see it: where it listens,
// the topic it writes and the views it builds.
import { CUSTOMERS_TOPIC } from '../../schema/events';
import { declareSubgraph } from '../runtime/declaration';
import { customer360Projection, customersProjection } from './projection';

export const declaration = declareSubgraph({
  name: 'customers',
  port: 4001,
  portVariable: 'CUSTOMERS_PORT',
  topics: [CUSTOMERS_TOPIC],
  views: { profiles: customersProjection, orders360: customer360Projection },
});
