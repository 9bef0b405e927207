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
}

/** Declares a subgraph, keeping each view's projection type for what is built from it. */
export function declareSubgraph<const V extends ViewDeclarations>(declaration: SubgraphDeclaration<V>): SubgraphDeclaration<V> {
  return declaration;
}

/** The state type a projection folds into. */
export type StateOf<P> = P extends Projection<infer _C, infer S> ? S : never;
