// The mesh subgraph schema: the SDL contract in schema/mesh.graphql wired to its resolvers.
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { createSubgraphSchema } from '../runtime/subgraphSchema';
import type { MeshMonitor } from './meshMonitor';
import { meshResolvers } from './resolvers';

export const MESH_SDL_PATH = path.resolve(__dirname, '../../schema/mesh.graphql');

export function createMeshSchema(monitor: () => MeshMonitor): GraphQLSchema {
  return createSubgraphSchema(MESH_SDL_PATH, meshResolvers(monitor));
}
