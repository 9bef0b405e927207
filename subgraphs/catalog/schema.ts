// The catalog's executable subgraph schema: the SDL in schema/catalog.graphql (the contract
// the gateway composes) joined with the resolvers.
import fs from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers';

/** Where the SDL lives: the schema folder owns every subgraph's contract. */
export const CATALOG_SDL_PATH = path.resolve(__dirname, '../../schema/catalog.graphql');

export function readCatalogSdl(): string {
  return fs.readFileSync(CATALOG_SDL_PATH, 'utf8');
}

export function createCatalogSchema(sdl: string = readCatalogSdl()): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]);
}
