// Starts a subgraph process's parts in order (runtime and views, then the server) and
// returns one handle that stops them in reverse.
import type { BaseContext } from '@apollo/server';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { announceSubgraph } from '../../platform/registry';
import type { Identity } from '../../platform/identity';
import { createSubgraphRuntime, type SubgraphRuntime, type SubgraphRuntimeConfig } from './subgraphRuntime';
import { startSubgraphServer } from './subgraphServer';

export interface SubgraphOptions extends Omit<SubgraphRuntimeConfig, 'name'> {
  /** @default 0: a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The secret the gateway signs forwarded identities with (GATEWAY_IDENTITY_SECRET). */
  readonly identitySecret: string;
  /** Stack traces in error responses (GATEWAY_DEBUG_ERRORS). @default false */
  readonly debugErrors?: boolean;
  /** Announce in the registry for the gateway's registry mode. @default true */
  readonly register?: boolean;
  /** The URL the gateway should use, when it is not the one listened on (SUBGRAPH_ADVERTISED_URL). */
  readonly advertisedUrl?: string;
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
      debugErrors: opts.debugErrors,
      context: parts.context,
      readiness: () => runtime.readiness(),
      registry: runtime.registry,
      logger: runtime.logger,
      awaitPositions: (positions, timeoutMs) => runtime.awaitPositions(positions, timeoutMs),
      freshness: () => runtime.freshness(),
    });
    // Registry mode: the gateway composes whatever is announced, so a new subgraph joins the
    // graph without a gateway redeploy.
    const announcement =
      opts.register === false
        ? null
        : await announceSubgraph(
            runtime.redis,
            {
              name,
              url: opts.advertisedUrl ?? server.url,
              wsUrl: (opts.advertisedUrl ?? server.url).replace(/^http/, 'ws'),
              sdl: printSubgraphSchema(parts.schema),
            },
            { namespace: runtime.namespace },
          );
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
          await announcement?.close();
          await server.close();
          await runtime.close();
        })()),
    };
  } catch (e) {
    await runtime.close();
    throw e;
  }
}
