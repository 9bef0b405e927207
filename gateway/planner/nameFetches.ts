// Names every fetch of a plan after the client's operation, the way federation gateways do
// (`<Operation>__<subgraph>__<n>`), so a subgraph's logs and its per-operation metrics say
// which client operation a request serves. The Rust planner leaves fetches unnamed.
import type { FetchNode, PlanNode, QueryPlan } from './hivePlanner';

/** A GraphQL name from anything: invalid characters become `_`. */
const asName = (s: string) => s.replace(/[^_0-9A-Za-z]/g, '_');

export function nameFetches(plan: QueryPlan, operationName: string | null | undefined): QueryPlan {
  if (!operationName || !plan.node) return plan;
  let n = 0;
  const name = (fetch: FetchNode): FetchNode => {
    const opName = `${asName(operationName)}__${asName(fetch.serviceName)}__${n++}`;
    const m = /^\s*(query|mutation|subscription)?\s*([({])/.exec(fetch.operation);
    if (!m || fetch.operationName) return fetch;
    const kind = m[1] ?? 'query';
    return { ...fetch, operationName: opName, operation: `${kind} ${opName}${fetch.operation.slice(m[0].length - 1)}` };
  };
  const walk = (node: PlanNode): PlanNode => {
    switch (node.kind) {
      case 'Fetch':
        return name(node);
      case 'Subscription':
        return { ...node, primary: name(node.primary) };
      case 'Sequence':
      case 'Parallel':
        return { ...node, nodes: node.nodes.map(walk) };
      case 'Flatten':
        return { ...node, node: walk(node.node) };
      case 'Condition':
        return { ...node, ifClause: node.ifClause && walk(node.ifClause), elseClause: node.elseClause && walk(node.elseClause) };
      default:
        return node;
    }
  };
  return { ...plan, node: walk(plan.node) };
}
