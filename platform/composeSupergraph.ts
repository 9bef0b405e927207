// Composes subgraph SDLs into a supergraph with The Guild's federation composition (MIT),
// returning either the supergraph SDL or the composition errors. The gateway composes what is
// published; publishing composes first, so a schema that would not compose never reaches the graph.
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

export interface SubgraphSource {
  readonly name: string;
  /** Where the gateway reaches the subgraph over HTTP. */
  readonly url: string;
  readonly sdl: string;
}

export type Composition = { readonly ok: true; readonly supergraphSdl: string } | { readonly ok: false; readonly errors: string[] };

export function composeSupergraph(subgraphs: readonly SubgraphSource[]): Composition {
  let services;
  try {
    services = [...subgraphs]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) }));
  } catch (e) {
    return { ok: false, errors: [`a subgraph SDL does not parse: ${(e as Error).message}`] };
  }
  const result = composeServices(services);
  if (result.errors) return { ok: false, errors: result.errors.map((e) => e.message) };
  return { ok: true, supergraphSdl: result.supergraphSdl };
}
