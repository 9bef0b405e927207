// Runs a query plan of the Rust planner (@graphql-hive/router-query-planner): fetches to the
// subgraphs in the plan's order, entity representations built from what earlier fetches
// returned, their answers merged back where they belong, and every subgraph error placed at
// its path in the client's response. The result is the merged data, which shapeResponse.ts
// then fits to the client's operation.
import type {
  BatchFetchNode,
  FetchNode,
  FetchRewrite,
  FlattenNodePathSegment,
  FetchNodePathSegment,
  PlanNode,
  RequiresSelection,
} from './hivePlanner';
import type { GraphQLFormattedError } from 'graphql';

export type ResponsePath = ReadonlyArray<string | number>;

export interface SubgraphRequest {
  readonly query: string;
  readonly operationName?: string;
  readonly variables: Record<string, unknown>;
}

export interface SubgraphAnswer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: ReadonlyArray<GraphQLFormattedError>;
}

/** Sends one fetch to a subgraph. `path` is where its data lands in the response (for the data source's errors). */
export type SendFetch = (serviceName: string, request: SubgraphRequest, path: ResponsePath) => Promise<SubgraphAnswer>;

export interface PlanExecution {
  readonly variables: Record<string, unknown>;
  readonly send: SendFetch;
  /** Whether an object of `typename` matches `typeCondition` (abstract types included). */
  readonly matches: (typeCondition: string, typename: string) => boolean;
}

export interface ExecutedPlan {
  readonly data: Record<string, unknown>;
  readonly errors: GraphQLFormattedError[];
}

type Obj = Record<string, unknown>;

/**
 * Set (to true) on an entity a subgraph answered `null` for in `_entities`, without an error:
 * the subgraph knows no such entity, so the fields it was asked for are absent from the data
 * as its own answer, not as fields no fetch provided (shapeResponse.ts reports those). A
 * symbol: no key of the data, invisible to JSON and to Object.keys.
 */
export const ANSWERED_NULL: unique symbol = Symbol('answeredNull');

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function executePlan(node: PlanNode | undefined, exec: PlanExecution): Promise<ExecutedPlan> {
  const state: ExecutedPlan = { data: {}, errors: [] };
  if (node) await run(node, state, exec);
  return state;
}

async function run(node: PlanNode, state: ExecutedPlan, exec: PlanExecution): Promise<void> {
  switch (node.kind) {
    case 'Sequence':
      for (const n of node.nodes) await run(n, state, exec);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((n) => run(n, state, exec)));
      return;
    case 'Condition': {
      const branch = exec.variables[node.condition] ? node.ifClause : node.elseClause;
      if (branch) await run(branch, state, exec);
      return;
    }
    case 'Flatten': {
      const entities: Located[] = [];
      collect(state.data, node.path, 0, [], entities, exec);
      if (node.node.kind === 'Fetch') await entityFetch(node.node, entities, state, exec);
      else if (node.node.kind === 'BatchFetch') await batchFetch(node.node, state, exec);
      else throw new Error(`a Flatten node around ${node.node.kind} is not supported`);
      return;
    }
    case 'Fetch':
      if (node.requires?.length) await entityFetch(node, [{ value: state.data, path: [] }], state, exec);
      else await rootFetch(node, state, exec);
      return;
    case 'BatchFetch':
      await batchFetch(node, state, exec);
      return;
    case 'Subscription':
      throw new Error('a subscription plan runs per event (gateway/subscriptions), not as a query');
    case 'Defer':
      throw new Error('@defer is not supported by this gateway');
  }
}

/** An object in the response, and where it is. */
interface Located {
  readonly value: Obj;
  readonly path: (string | number)[];
}

function collect(value: unknown, path: readonly FlattenNodePathSegment[], i: number, at: (string | number)[], out: Located[], exec: PlanExecution): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    // '@' says "each element"; a list met elsewhere is walked the same way.
    const next = path[i] === '@' ? i + 1 : i;
    value.forEach((v, n) => collect(v, path, next, [...at, n], out, exec));
    return;
  }
  if (!isObj(value)) return;
  if (i === path.length) {
    out.push({ value, path: at });
    return;
  }
  const seg = path[i];
  if (seg === '@') return collect(value, path, i + 1, at, out, exec);
  if ('Field' in seg) return collect(value[seg.Field], path, i + 1, [...at, seg.Field], out, exec);
  if ('TypeCondition' in seg) {
    const typename = value.__typename;
    if (typeof typename === 'string' && seg.TypeCondition.some((t) => exec.matches(t, typename))) collect(value, path, i + 1, at, out, exec);
  }
}

const pick = (variables: Record<string, unknown>, names: readonly string[] | undefined): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const n of names ?? []) if (variables[n] !== undefined) out[n] = variables[n];
  return out;
};

/** A subgraph error as the client sees it: its path translated, the subgraph named. */
function clientError(e: GraphQLFormattedError, serviceName: string, path: ResponsePath | undefined): GraphQLFormattedError {
  const extensions = { ...e.extensions, code: e.extensions?.code ?? 'DOWNSTREAM_SERVICE_ERROR', serviceName: e.extensions?.serviceName ?? serviceName };
  return path ? { message: e.message, path: [...path], extensions } : { message: e.message, extensions };
}

async function send(exec: PlanExecution, state: ExecutedPlan, serviceName: string, request: SubgraphRequest, path: ResponsePath): Promise<SubgraphAnswer> {
  try {
    return await exec.send(serviceName, request, path);
  } catch (e) {
    const err = e as { message?: string; extensions?: Record<string, unknown> };
    state.errors.push({ message: err.message ?? `fetching from ${serviceName} failed`, extensions: { code: err.extensions?.code ?? 'DOWNSTREAM_SERVICE_ERROR', serviceName } });
    return {};
  }
}

async function rootFetch(node: FetchNode, state: ExecutedPlan, exec: PlanExecution): Promise<void> {
  const answer = await send(exec, state, node.serviceName, { query: node.operation, operationName: node.operationName, variables: pick(exec.variables, node.variableUsages) }, []);
  for (const e of answer.errors ?? []) state.errors.push(clientError(e, node.serviceName, e.path));
  if (isObj(answer.data)) {
    applyRewrites(answer.data, node.outputRewrites, exec);
    deepMerge(state.data, answer.data);
  }
}

/** Representations of `entities` (each distinct one once), and which entities each stands for. */
function representations(entities: readonly Located[], requires: readonly RequiresSelection[], inputRewrites: readonly FetchRewrite[] | undefined, exec: PlanExecution) {
  const reps: Obj[] = [];
  const owners: number[][] = [];
  const seen = new Map<string, number>();
  entities.forEach((entity, n) => {
    const rep = project(entity.value, requires, exec);
    if (!rep || typeof rep.__typename !== 'string') return;
    applyRewrites(rep, inputRewrites, exec);
    const key = JSON.stringify(rep);
    let at = seen.get(key);
    if (at === undefined) {
      at = reps.length;
      seen.set(key, at);
      reps.push(rep);
      owners.push([]);
    }
    owners[at].push(n);
  });
  return { reps, owners };
}

async function entityFetch(node: FetchNode, entities: readonly Located[], state: ExecutedPlan, exec: PlanExecution): Promise<void> {
  const { reps, owners } = representations(entities, node.requires ?? [], node.inputRewrites, exec);
  if (reps.length === 0) return;
  const variables = { ...pick(exec.variables, node.variableUsages), representations: reps };
  const answer = await send(exec, state, node.serviceName, { query: node.operation, operationName: node.operationName, variables }, entities[0]?.path ?? []);
  const received = answer.data?._entities;
  for (const e of answer.errors ?? []) {
    const i = e.path?.[0] === '_entities' && typeof e.path[1] === 'number' ? e.path[1] : null;
    if (i === null || !owners[i]) state.errors.push(clientError(e, node.serviceName, undefined));
    else for (const n of owners[i]) state.errors.push(clientError(e, node.serviceName, [...entities[n].path, ...e.path!.slice(2)]));
  }
  if (!Array.isArray(received)) return;
  received.forEach((value, i) => {
    if (!owners[i]) return;
    if (value === null) return markAnsweredNull(entities, owners[i]);
    if (!isObj(value)) return;
    applyRewrites(value, node.outputRewrites, exec);
    for (const n of owners[i]) deepMerge(entities[n].value, value);
  });
}

function markAnsweredNull(entities: readonly Located[], owners: readonly number[]): void {
  for (const n of owners) (entities[n].value as Record<PropertyKey, unknown>)[ANSWERED_NULL] = true;
}

async function batchFetch(node: BatchFetchNode, state: ExecutedPlan, exec: PlanExecution): Promise<void> {
  const variables: Record<string, unknown> = pick(exec.variables, node.variableUsages);
  const parts = node.entityBatch.aliases.map((alias) => {
    const entities: Located[] = [];
    for (const p of alias.paths) collect(state.data, p, 0, [], entities, exec);
    const reps = representations(entities, alias.requires, alias.inputRewrites, exec);
    variables[alias.representationsVariableName] = reps.reps;
    return { alias, entities, ...reps };
  });
  if (parts.every((p) => p.reps.length === 0)) return;
  const answer = await send(exec, state, node.serviceName, { query: node.operation, operationName: node.operationName, variables }, []);
  for (const e of answer.errors ?? []) {
    const part = parts.find((p) => p.alias.alias === e.path?.[0]);
    const i = typeof e.path?.[1] === 'number' ? e.path[1] : null;
    if (!part || i === null || !part.owners[i]) state.errors.push(clientError(e, node.serviceName, undefined));
    else for (const n of part.owners[i]) state.errors.push(clientError(e, node.serviceName, [...part.entities[n].path, ...e.path!.slice(2)]));
  }
  for (const part of parts) {
    const received = answer.data?.[part.alias.alias];
    if (!Array.isArray(received)) continue;
    received.forEach((value, i) => {
      if (!part.owners[i]) return;
      if (value === null) return markAnsweredNull(part.entities, part.owners[i]);
      if (!isObj(value)) return;
      applyRewrites(value, part.alias.outputRewrites, exec);
      for (const n of part.owners[i]) deepMerge(part.entities[n].value, value);
    });
  }
}

/** The fields `selections` name, read from `value` (a representation, or part of one). */
function project(value: unknown, selections: readonly RequiresSelection[], exec: PlanExecution): Obj | null {
  if (!isObj(value)) return null;
  const out: Obj = {};
  for (const sel of selections) {
    if (sel.kind === 'InlineFragment') {
      const typename = value.__typename;
      if (sel.skipIf && exec.variables[sel.skipIf]) continue;
      if (sel.includeIf && !exec.variables[sel.includeIf]) continue;
      if (typeof typename === 'string' && !exec.matches(sel.typeCondition, typename)) continue;
      const inner = project(value, sel.selections, exec);
      if (inner) deepMerge(out, inner);
    } else if (sel.kind === 'Field') {
      // The planner's requires name the key the value has in the fetched data (`name`, e.g. an
      // internal alias for `comments(limit: 3)` beside the client's `comments(limit: 1)`) and
      // the key the subgraph expects in the representation (`alias`, e.g. `comments`).
      const v = value[sel.name];
      if (v === undefined) continue;
      out[sel.alias ?? sel.name] = sel.selections ? projectValue(v, sel.selections, exec) : v;
    }
  }
  return out;
}

function projectValue(v: unknown, selections: readonly RequiresSelection[], exec: PlanExecution): unknown {
  if (Array.isArray(v)) return v.map((x) => projectValue(x, selections, exec));
  if (isObj(v)) return project(v, selections, exec);
  return v;
}

/** Applies input or output rewrites (set a value, rename a key) along their paths. */
function applyRewrites(target: Obj, rewrites: readonly FetchRewrite[] | undefined, exec: PlanExecution): void {
  for (const r of rewrites ?? []) {
    if ('ValueSetter' in r && r.ValueSetter) rewriteAt(target, r.ValueSetter.path, 0, exec, (obj, key) => void (obj[key] = r.ValueSetter.setValueTo));
    else if ('KeyRenamer' in r && r.KeyRenamer)
      rewriteAt(target, r.KeyRenamer.path, 0, exec, (obj, key) => {
        if (!(key in obj)) return;
        obj[r.KeyRenamer.renameKeyTo] = obj[key];
        delete obj[key];
      });
    else if ('setValueTo' in r) {
      const setter = r as { path: FetchNodePathSegment[]; setValueTo: string };
      rewriteAt(target, setter.path, 0, exec, (obj, key) => void (obj[key] = setter.setValueTo));
    }
  }
}

function rewriteAt(value: unknown, path: readonly FetchNodePathSegment[], i: number, exec: PlanExecution, apply: (obj: Obj, key: string) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) rewriteAt(v, path, i, exec, apply);
    return;
  }
  if (!isObj(value) || i >= path.length) return;
  const seg = path[i];
  if ('TypenameEquals' in seg) {
    const typename = value.__typename;
    if (typeof typename === 'string' && seg.TypenameEquals.some((t) => exec.matches(t, typename))) rewriteAt(value, path, i + 1, exec, apply);
    return;
  }
  if (i === path.length - 1) apply(value, seg.Key);
  else rewriteAt(value[seg.Key], path, i + 1, exec, apply);
}

/** Merges `source` into `target`: objects field by field, lists of equal length element by element. */
export function deepMerge(target: Obj, source: Obj): void {
  for (const key of Object.keys(source)) {
    const s = source[key];
    const t = target[key];
    if (isObj(t) && isObj(s)) deepMerge(t, s);
    else if (Array.isArray(t) && Array.isArray(s) && t.length === s.length)
      t.forEach((x, n) => {
        if (isObj(x) && isObj(s[n])) deepMerge(x, s[n] as Obj);
        else t[n] = s[n];
      });
    else target[key] = s;
  }
}
