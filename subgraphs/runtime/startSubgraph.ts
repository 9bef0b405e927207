// Starts a subgraph process's parts in order (runtime and views, then the server) and
// returns one handle that stops them in reverse.
import type { BaseContext } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Identity } from './identity';
import { createSubgraphRuntime, type SubgraphRuntime, type SubgraphRuntimeConfig } from './subgraphRuntime';
import { startSubgraphServer } from './subgraphServer';

export interface SubgraphOptions extends Omit<SubgraphRuntimeConfig, 'name'> {
  /** @default 0: a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The secret the gateway signs forwarded identities with (GATEWAY_IDENTITY_SECRET). */
  readonly identitySecret: string;
}

export interface SubgraphHandle {
  readonly name: string;
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly runtime: SubgraphRuntime;
  close(): Promise<void>;
}

/** What a subgraph builds on its runtime: its schema and a per-request context. */
export interface SubgraphParts<C extends BaseContext> {
  readonly schema: GraphQLSchema;
  readonly context: (identity: Identity) => C;
}

export async function startSubgraph<C extends BaseContext>(
  name: string,
  opts: SubgraphOptions,
  build: (runtime: SubgraphRuntime) => Promise<SubgraphParts<C>>,
): Promise<SubgraphHandle> {
  const runtime = await createSubgraphRuntime({ ...opts, name });
  try {
    const parts = await build(runtime);
    const server = await startSubgraphServer({
      name,
      schema: parts.schema,
      port: opts.port,
      host: opts.host,
      identitySecret: opts.identitySecret,
      context: parts.context,
      readiness: () => runtime.readiness(),
      registry: runtime.registry,
      logger: runtime.logger,
    });
    let closing: Promise<void> | undefined;
    return {
      name,
      url: server.url,
      wsUrl: server.wsUrl,
      port: server.port,
      runtime,
      // Idempotent: a test's afterAll and a signal handler may both close.
      close: () =>
        (closing ??= (async () => {
          await server.close();
          await runtime.close();
        })()),
    };
  } catch (e) {
    await runtime.close();
    throw e;
  }
}
