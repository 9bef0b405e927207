// Starts the gateway a run measures as its own process, so /proc/<pid> holds its CPU time and
// memory alone: this gateway (gateway/main.ts, registry mode, composing what the benchmark's
// subgraphs announced) or Hive Gateway (hiveGateway.ts, on the same subgraphs composed once).
import path from 'node:path';
import { startChild, type ChildHandle } from '../gateway/childProcess';
import { waitFor } from '../../test/support/waitFor';
import type { GatewayName } from './benchOptions';

export interface GatewayUnderTestOptions {
  readonly name: GatewayName;
  /** The environment every benchmark process shares (namespace, identity secret, log level). */
  readonly env: NodeJS.ProcessEnv;
  /** What this gateway verifies client tokens with. */
  readonly jwtSecret: string;
  /** The composed supergraph Hive Gateway serves. */
  readonly supergraphFile: string;
  /** Subgraphs the composed supergraph must hold before this gateway counts as ready. */
  readonly subgraphCount: number;
  readonly profileDir: string | null;
}

export interface GatewayUnderTest {
  readonly process: ChildHandle;
  /** graphql-ws URL for clients. */
  readonly wsUrl: string;
}

export async function startGatewayUnderTest(opts: GatewayUnderTestOptions): Promise<GatewayUnderTest> {
  // A directory per gateway run: Node names each thread's profile itself (tsx's loader runs in
  // a worker thread of its own, and a fixed name would let its profile overwrite the main one).
  const nodeArgs = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, `${opts.name}-${Date.now()}`)}`] : [];
  const env: NodeJS.ProcessEnv = { ...opts.env, PORT: '0' };
  // Apollo's libraries report to a vendor when these are present; no contender may.
  for (const key of ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT']) delete env[key];
  let child: ChildHandle;
  switch (opts.name) {
    case 'streamgraph': {
      child = await startChild({
        name: 'streamgraph',
        script: path.join(__dirname, '../../gateway/main.ts'),
        env: { ...env, SUPERGRAPH_SOURCE: 'registry', JWT_SECRET: opts.jwtSecret },
        ready: /ready at (\S+)/,
        nodeArgs,
      });
      // "ready at" means listening; the registry's composition may still be on its way.
      const ready = child.url.replace(/\/graphql$/, '/ready');
      await waitFor(
        async () => {
          const body = (await (await fetch(ready)).json()) as { supergraph?: { phase?: string; subgraphs?: string[] } };
          return body.supergraph?.phase === 'composed' && (body.supergraph.subgraphs?.length ?? 0) >= opts.subgraphCount;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'the gateway to compose the subgraphs from the registry' },
      ).catch(async (e: unknown) => {
        await child.stop();
        throw e;
      });
      break;
    }
    case 'hive':
      child = await startChild({
        name: 'hive',
        script: path.join(__dirname, 'hiveGateway.ts'),
        env: { ...env, SUPERGRAPH_FILE: opts.supergraphFile, APOLLO_TELEMETRY_DISABLED: '1' },
        ready: /ready at (\S+)/,
        nodeArgs,
      });
      break;
  }
  return { process: child, wsUrl: child.url.replace(/^http/, 'ws') };
}
