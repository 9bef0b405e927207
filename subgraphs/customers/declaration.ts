// The customers subgraph as the runtime and the operations tools see it: where it listens,
// the topics it owns and the views it builds. It owns `client-events` as a data product: the
// gateway's POST /events is the edge that writes it, and this subgraph folds it into Customer 360.
import { CLIENT_EVENTS_TOPIC, CUSTOMERS_TOPIC } from '../../schema/events';
import { activityProjection } from './activity';
import { declareSubgraph } from '../runtime/declaration';
import { dataProducts } from './dataProducts';
import { customer360Projection, customersProjection } from './projection';

export const declaration = declareSubgraph({
  name: 'customers',
  port: 4001,
  portVariable: 'CUSTOMERS_PORT',
  topics: [CUSTOMERS_TOPIC, CLIENT_EVENTS_TOPIC],
  views: { profiles: customersProjection, orders360: customer360Projection, activity: activityProjection },
  dataProducts,
});
