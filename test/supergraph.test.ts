// The checked-in supergraph is what the subgraphs compose into, both from their SDL files
// and from what the running subgraphs serve as `_service { sdl }`.
import fs from 'node:fs';
import { composeSupergraph } from '../gateway/supergraph/compose';
import { SUPERGRAPH_PATH } from '../schema/subgraphs';
import { declarationOf } from '../scripts/declarations';
import { startCatalogSubgraph } from '../subgraphs/catalog';
import { startCustomersSubgraph } from '../subgraphs/customers';
import { startMeshSubgraph } from '../subgraphs/mesh';
import { startOrdersSubgraph } from '../subgraphs/orders';
import type { SubgraphHandle } from '../subgraphs/runtime/startSubgraph';
import { composeCheckedInSubgraphs } from '../scripts/compose';
import { as, gql, TEST_IDENTITY_SECRET } from './support/graphqlClient';
import { createNamespace } from './support/namespace';

const checkedIn = () => fs.readFileSync(SUPERGRAPH_PATH, 'utf8');

it('schema/supergraph.graphql is the composition of the subgraph SDL files (run `npm run compose` if not)', () => {
  const result = composeCheckedInSubgraphs();
  if (!result.ok) throw new Error(result.errors.join('\n'));
  expect(result.supergraphSdl).toBe(checkedIn());
});

describe('running subgraphs', () => {
  const handles: SubgraphHandle[] = [];
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
  });

  it('serve SDL that composes into the checked-in supergraph', async () => {
    const namespace = await createNamespace('supergraph');
    const opts = { namespace, identitySecret: TEST_IDENTITY_SECRET, port: 0 };
    handles.push(
      ...(await Promise.all([startCustomersSubgraph(opts), startCatalogSubgraph(opts), startOrdersSubgraph(opts), startMeshSubgraph(opts)])),
    );
    const served = await Promise.all(
      handles.map(async (h) => {
        const res = await gql<{ _service: { sdl: string } }>(h.url, '{ _service { sdl } }', {}, as('admin', 'admin'));
        const { port } = declarationOf(h.name);
        return { name: h.name, url: `http://127.0.0.1:${port}/graphql`, sdl: res.data!._service.sdl };
      }),
    );
    const result = composeSupergraph(served);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.supergraphSdl).toBe(checkedIn());
  });
});
