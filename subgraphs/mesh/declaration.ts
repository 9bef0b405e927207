// The mesh subgraph as the runtime and the operations tools see it: the platform team's catalog
// of data products. It owns no topic and builds no view: it reads what the other subgraphs
// announce in the registry and measures it on Kafka and Redis.
import { declareSubgraph } from '../runtime/declaration';

export const declaration = declareSubgraph({
  name: 'mesh',
  // Apart from the domain subgraphs' 4001.. and the ports the scaffold hands out from 4004.
  port: 4090,
  portVariable: 'MESH_PORT',
  topics: [],
  views: {},
});
