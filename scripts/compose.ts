// `npm run compose`: composes schema/<subgraph>.graphql into schema/supergraph.graphql
// (the static supergraph the gateway can serve without the registry), and prints the warnings a
// publish would give (non-null fields a subgraph adds to another subgraph's entity).
import fs from 'node:fs';
import { composeSupergraph } from '../gateway/supergraph/compose';
import { graphExtensionWarnings } from '../platform/schemaChecks';
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

/** What a publish of each checked-in subgraph would warn about (composition still succeeds). */
export function checkedInWarnings(): string[] {
  return graphExtensionWarnings(checkedInSubgraphs());
}

if (require.main === module) {
  const result = composeCheckedInSubgraphs();
  if (!result.ok) {
    console.error(`composition failed:\n- ${result.errors.join('\n- ')}`);
    process.exit(1);
  }
  for (const w of checkedInWarnings()) console.warn(`warning: ${w}`);
  fs.writeFileSync(SUPERGRAPH_PATH, result.supergraphSdl);
  console.log(`wrote ${SUPERGRAPH_PATH}`);
}
