// The customers subgraph schema: the SDL contract in schema/customers.graphql wired to its
// resolvers with buildSubgraphSchema (adds _service, _entities and the federation directives).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import { createResolvers } from './resolvers';

/** The SDL file is the contract other teams and the composition read, so it is the one source. */
export const CUSTOMERS_SDL_PATH = path.resolve(__dirname, '../../schema/customers.graphql');

export function createCustomersSchema(): GraphQLSchema {
  const typeDefs = parse(readFileSync(CUSTOMERS_SDL_PATH, 'utf8'));
  return buildSubgraphSchema({ typeDefs, resolvers: createResolvers() as GraphQLResolverMap<unknown> });
}
