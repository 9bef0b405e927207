// The orders subgraph's schema: its SDL (schema/orders.graphql) and resolvers.
import fs from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import type { OrdersDeps } from './commands';
import { ordersResolvers } from './resolvers';

export const ORDERS_SDL = fs.readFileSync(path.join(__dirname, '../../schema/orders.graphql'), 'utf8');

export function ordersSchema(deps: OrdersDeps): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: parse(ORDERS_SDL),
    resolvers: ordersResolvers(deps) as unknown as GraphQLResolverMap<unknown>,
  });
}
