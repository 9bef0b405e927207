// Starts a subgraph from its declaration in one order for every subgraph: its schema (so a
// broken SDL fails before any consumer group is joined), its declared views, the per-request
// context over them, then the server; returns one handle that stops them in reverse.
import { printSubgraphSchema } from '@apollo/subgraph';
import type DataLoader from 'dataloader';
import type { GraphQLSchema } from 'graphql';
import { ConfigError } from '../../platform/configError';
import { announceSubgraph, type PublishOnStart } from '../../platform/announceSubgraph';
import type { Identity } from '../../platform/identity';
import type { StateOf, SubgraphDeclaration, ViewDeclarations } from './declaration';
import { dataProductAnnouncement } from './dataProductAnnouncement';
import { createSubgraphRuntime, type SubgraphRuntime, type SubgraphRuntimeConfig, type View } from './subgraphRuntime';
import { startSubgraphServer } from './subgraphServer';

/** The running views of a declaration, by the names it gives them. */
export type ViewsOf<V extends ViewDeclarations> = { readonly [K in keyof V]: View<StateOf<V[K]>> };
/** One DataLoader per view, for one request: every id asked for in a tick is read in one Redis round trip. */
export type LoadersOf<V extends ViewDeclarations> = { readonly [K in keyof V]: DataLoader<string, StateOf<V[K]> | undefined> };

/** What every resolver of a subgraph gets: the verified caller, the runtime (for writes), the views and this request's loaders. */
export interface SubgraphContext<V extends ViewDeclarations> {
  readonly identity: Identity;
  readonly runtime: SubgraphRuntime;
  readonly views: ViewsOf<V>;
  readonly loaders: LoadersOf<V>;
}

export interface SubgraphOptions extends Omit<SubgraphRuntimeConfig, 'name'> {
  /** @default 0: a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The secret the gateway signs forwarded identities with (GATEWAY_IDENTITY_SECRET). */
  readonly identitySecret: string;
  /** Stack traces in error responses (GATEWAY_DEBUG_ERRORS). @default false */
  readonly debugErrors?: boolean;
  /** Register this instance (and publish its schema per `publishOnStart`) for the gateway's registry mode. @default true */
  readonly register?: boolean;
  /** When this instance publishes its schema at start (SUBGRAPH_PUBLISH_ON_START). @default 'first' */
  readonly publishOnStart?: PublishOnStart;
  /** The URL the gateway should use, when it is not the one listened on (SUBGRAPH_ADVERTISED_URL). */
  readonly advertisedUrl?: string;
}

export interface SubgraphHandle<V extends ViewDeclarations = ViewDeclarations> {
  readonly name: string;
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly runtime: SubgraphRuntime;
  /** The running views (tests read their round trips and wait on their offsets). */
  readonly views: ViewsOf<V>;
  close(): Promise<void>;
}

/** Refuses to start when a topic the views fold is missing: subgraphs never create topics. */
async function checkTopics(runtime: SubgraphRuntime, declared: ViewDeclarations): Promise<void> {
  const admin = runtime.kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(Object.values(declared).map((p) => runtime.topic(p.topic)))].filter((t) => !existing.has(t));
    if (missing.length > 0)
      throw new ConfigError(`topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} missing: npm run topics creates every declared topic (in STREAMGRAPH_NAMESPACE)`);
  } finally {
    await admin.disconnect();
  }
}

/** Starts every declared view; their consumer groups join in parallel. */
async function startViews<V extends ViewDeclarations>(runtime: SubgraphRuntime, declared: V): Promise<ViewsOf<V>> {
  const started = await Promise.all(Object.entries(declared).map(async ([key, projection]) => [key, await runtime.view(projection)] as const));
  return Object.fromEntries(started) as ViewsOf<V>;
}

/** This request's loaders, each made when first used: their caches never outlive one caller's request. */
function loadersOf<V extends ViewDeclarations>(views: ViewsOf<V>): LoadersOf<V> {
  const loaders = {};
  for (const [key, view] of Object.entries<View<unknown>>(views)) {
    let loader: DataLoader<string, unknown> | undefined;
    Object.defineProperty(loaders, key, { enumerable: true, get: () => (loader ??= view.loader()) });
  }
  return loaders as LoadersOf<V>;
}

/** Views, then context, then schema, then server: the one way every subgraph starts. */
export async function startSubgraph<V extends ViewDeclarations>(
  declaration: SubgraphDeclaration<V>,
  opts: SubgraphOptions,
  createSchema: () => GraphQLSchema,
): Promise<SubgraphHandle<V>> {
  const { name } = declaration;
  const runtime = await createSubgraphRuntime({ ...opts, name });
  try {
    // Built first so a broken SDL fails before any consumer group is joined.
    const schema = createSchema();
    // Resolved before anything joins, so a dataProducts.ts naming a view that is not declared fails the start.
    const dataProducts = dataProductAnnouncement(declaration);
    await checkTopics(runtime, declaration.views);
    const views = await startViews(runtime, declaration.views);
    const context = (identity: Identity): SubgraphContext<V> => ({ identity, runtime, views, loaders: loadersOf(views) });
    const server = await startSubgraphServer({
      name,
      schema,
      port: opts.port,
      host: opts.host,
      identitySecret: opts.identitySecret,
      debugErrors: opts.debugErrors,
      context,
      readiness: () => runtime.readiness(),
      registry: runtime.registry,
      logger: runtime.logger,
      awaitPositions: (positions, timeoutMs) => runtime.awaitPositions(positions, timeoutMs),
      freshness: () => runtime.freshness(),
    });
    // Registry mode: the instance registers for routing; on its subgraph's first start it also
    // publishes the schema, so a new subgraph joins the graph without a gateway redeploy. Its
    // schema stays in the graph when this instance stops (close only deregisters the instance).
    const announcement =
      opts.register === false
        ? null
        : await announceSubgraph(
            runtime.redis,
            {
              name,
              url: opts.advertisedUrl ?? server.url,
              wsUrl: (opts.advertisedUrl ?? server.url).replace(/^http/, 'ws'),
              sdl: printSubgraphSchema(schema),
            },
            { namespace: runtime.namespace, publish: opts.publishOnStart, logger: runtime.logger, dataProducts },
          );
    let closing: Promise<void> | undefined;
    return {
      name,
      url: server.url,
      wsUrl: server.wsUrl,
      port: server.port,
      runtime,
      views,
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
