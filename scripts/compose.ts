// `npm run compose`: composes schema/<subgraph>.graphql into schema/supergraph.graphql
// (the static supergraph the gateway can serve without the registry).
import fs from 'node:fs';
import { composeSupergraph } from '../gateway/supergraph/compose';
import { SUBGRAPHS, SUPERGRAPH_PATH, subgraphSdl } from '../schema/subgraphs';

export function composeCheckedInSubgraphs() {
  return composeSupergraph(
    SUBGRAPHS.map((s) => ({ name: s.name, url: `http://127.0.0.1:${s.port}/graphql`, sdl: subgraphSdl(s.name) })),
  );
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
