// Composition lives in the platform (publishing checks with it before anything reaches the
// graph); the gateway and tools that imported it from here keep working.
export { composeSupergraph, type Composition, type SubgraphSource } from '../../platform/composeSupergraph';
