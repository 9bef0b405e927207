// `npm run compose`: composes schema/<subgraph>.graphql into schema/supergraph.graphql
// (the static supergraph the gateway can serve without the registry).
import fs from 'node:fs';
import { composeSupergraph } from '../gateway/supergraph/compose';
import { SUPERGRAPH_PATH, subgraphSdl } from '../schema/subgraphs';
import type { SubgraphDeclaration } from '../subgraphs/runtime/declaration';
import { productSubgraphs } from './declarations';

/** The product's subgraphs as composition takes them: SDL from schema/, URL at the declared port. */
export function checkedInSubgraphs(declarations?: readonly SubgraphDeclaration[]) {
  return productSubgraphs(declarations).map((s) => ({ name: s.name, url: `http://127.0.0.1:${s.port}/graphql`, sdl: subgraphSdl(s.name) }));
}

export function composeCheckedInSubgraphs() {
  return composeSupergraph(checkedInSubgraphs());
}

if (require.main === module) {
  const result = composeCheckedInSubgraphs();
  if (!result.ok) {
    console.error(`composition failed:\n- ${result.errors.join('\n- ')}`);
    process.exit(1);
  }
  fs.writeFileSync(SUPERGRAPH_PATH, result.supergraphSdl);
  console.log(`wrote ${SUPERGRAPH_PATH}`);
}
