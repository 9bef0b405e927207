// What a subgraph is, in one value its folder exports (`subgraphs/<name>/declaration.ts`):
// its name, where it listens, the topics it owns and the views it builds. The subgraph starts
// from it (startSubgraph, runSubgraphMain), and the operations CLIs (topics, lag, dlq,
// rebuild) learn every topic and view from the declarations they find.
import type { TopicContract } from '../../schema/events';
import type { AnyProjection, Projection } from './projection';

/** The views a subgraph builds, by the name its code calls them (`orders`, `prices`). */
export type ViewDeclarations = Readonly<Record<string, AnyProjection>>;

export interface SubgraphDeclaration<V extends ViewDeclarations = ViewDeclarations> {
  /** The registry name, the log and metrics label, the prefix of its consumer groups. */
  readonly name: string;
  /** The default port; `portVariable` overrides it at run time. */
  readonly port: number;
  /** The setting naming its port (`ORDERS_PORT`). */
  readonly portVariable: string;
  /** The topics it writes, as contract values (every other subgraph only reads them). */
  readonly topics: readonly TopicContract[];
  /** The views it builds, each a projection of one topic. */
  readonly views: V;
  /** Its data products (dataProducts.ts), announced with its schema in the registry. @default none */
  readonly dataProducts?: readonly DataProductDeclaration[];
}

/** Declares a subgraph, keeping each view's projection type for what is built from it. */
export function declareSubgraph<const V extends ViewDeclarations>(declaration: SubgraphDeclaration<V>): SubgraphDeclaration<V> {
  return declaration;
}

/** The state type a projection folds into. */
export type StateOf<P> = P extends Projection<infer _C, infer S> ? S : never;

/**
 * A subgraph's data products: what it offers other teams and analysts, next to its code
 * (`subgraphs/<name>/dataProducts.ts`). Topics, views, contracts and the consumer groups are
 * not repeated here: they come from the declaration and its contracts when the subgraph
 * announces the products (dataProductAnnouncement.ts), so a changed topic follows by itself.
 */
export interface DataProductDeclaration {
  /** Unique in the graph: `customers`, `catalog`. */
  readonly name: string;
  /** The owning team, and how to reach it (a channel, an address). */
  readonly team: string;
  readonly contact: string;
  readonly description: string;
  /** The topics it produces, by contract name. @default every topic the subgraph declares that no other product of it lists */
  readonly topics?: readonly string[];
  /**
   * The views built for it, by the key the declaration gives them (`profiles`), each with the
   * GraphQL fields it backs as `Type.field`. A view of the subgraph no product lists belongs to
   * its first product, backing no field yet.
   */
  readonly views?: Readonly<Record<string, readonly string[]>>;
  readonly serviceLevels: ServiceLevels;
}

/** What the owning team promises about a product; the mesh subgraph measures each live. */
export interface ServiceLevels {
  /** Breached while a partition of one of its views lags more than `records`, or has lagged for more than `seconds`. */
  readonly maxLag: { readonly records: number; readonly seconds: number };
  /** Breached while its newest applied event is older than this; null: the topic may be quiet. */
  readonly maxEventAgeSeconds: number | null;
  /** Breached while the share of its events over the last hour that were valid (not dead-lettered) is below this (0..1). */
  readonly minValidShare: number;
}

/** Declares data products (dataProducts.ts files), keeping their literal types. */
export function defineDataProducts<const P extends readonly DataProductDeclaration[]>(products: P): P {
  return products;
}

