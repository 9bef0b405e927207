// Entry point of the mesh subgraph process: settings from the environment (its port setting,
// MESH_SAMPLE_MS and those every subgraph reads), start, stop cleanly on SIGINT/SIGTERM.
import { runSubgraphMain } from '../runtime/runSubgraphMain';
import { declaration } from './declaration';
import { startMeshSubgraph } from './index';

runSubgraphMain(declaration, startMeshSubgraph);
