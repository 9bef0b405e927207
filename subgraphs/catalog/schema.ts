// The catalog subgraph schema: the SDL contract in schema/catalog.graphql wired to its resolvers.
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { createSubgraphSchema } from '../runtime/subgraphSchema';
import type { CatalogDatabase } from './catalogDatabase';
import { catalogResolvers } from './resolvers';

/** The SDL file is the contract other teams and the composition read, so it is the one source. */
export const CATALOG_SDL_PATH = path.resolve(__dirname, '../../schema/catalog.graphql');

export function createCatalogSchema(db: CatalogDatabase): GraphQLSchema {
  return createSubgraphSchema(CATALOG_SDL_PATH, catalogResolvers(db));
}
