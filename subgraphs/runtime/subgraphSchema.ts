// Every subgraph's executable schema the same way: its SDL file (the contract the gateway
// composes and the registry announces) wired to its resolvers with buildSubgraphSchema, which
// adds _service, _entities and the federation directives.
import fs from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';

export function createSubgraphSchema<C>(sdlPath: string, resolvers: GraphQLResolverMap<C>): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs: parse(fs.readFileSync(sdlPath, 'utf8')), resolvers }]);
}
