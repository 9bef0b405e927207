// The Rust query planner (@graphql-hive/router-query-planner, MIT, a native addon). The package is
// an ES module with a CommonJS entry; this project compiles to CommonJS, so its types are read in
// import mode and the value is required through the package's `require` export.
export type {
  BatchFetchNode,
  FetchNode,
  FetchRewrite,
  FetchNodePathSegment,
  FlattenNodePathSegment,
  PlanNode,
  QueryPlan,
  RequiresSelection,
} from '@graphql-hive/router-query-planner' with { 'resolution-mode': 'import' };

type HivePlannerModule = typeof import('@graphql-hive/router-query-planner', { with: { 'resolution-mode': 'import' } });

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { QueryPlanner } = require('@graphql-hive/router-query-planner') as HivePlannerModule;
export type QueryPlanner = InstanceType<HivePlannerModule['QueryPlanner']>;
