// The SDL files of the product's own subgraphs (`schema/<name>.graphql`), which the checked-in
// supergraph is composed from. Names, ports and views are in each subgraph's declaration
// (subgraphs/<name>/declaration.ts); a subgraph whose SDL is here is part of the product.
import fs from 'node:fs';
import path from 'node:path';

const sdlPath = (name: string) => path.join(__dirname, `${name}.graphql`);

/** Whether `schema/<name>.graphql` exists: the subgraph is composed into the checked-in supergraph. */
export function hasSubgraphSdl(name: string): boolean {
  return fs.existsSync(sdlPath(name));
}

/** The SDL file of a subgraph, `schema/<name>.graphql`. */
export function subgraphSdl(name: string): string {
  return fs.readFileSync(sdlPath(name), 'utf8');
}

export const SUPERGRAPH_PATH = path.join(__dirname, 'supergraph.graphql');
