// The product's own subgraphs: their SDL files and default URLs (API.md ports), which the
// checked-in supergraph is composed from.
import fs from 'node:fs';
import path from 'node:path';

export const SUBGRAPHS = [
  { name: 'customers', port: 4001, portVariable: 'CUSTOMERS_PORT' },
  { name: 'catalog', port: 4002, portVariable: 'CATALOG_PORT' },
  { name: 'orders', port: 4003, portVariable: 'ORDERS_PORT' },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

/** The SDL file of a subgraph, `schema/<name>.graphql`. */
export function subgraphSdl(name: SubgraphName): string {
  return fs.readFileSync(path.join(__dirname, `${name}.graphql`), 'utf8');
}

export const SUPERGRAPH_PATH = path.join(__dirname, 'supergraph.graphql');
