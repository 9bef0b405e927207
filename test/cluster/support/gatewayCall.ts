// One GraphQL request to a gateway of the local cluster, as the chaos test and the soak make them:
// a bounded wait, so a request to a gateway that was just killed fails instead of hanging.
import type { NodeProcess } from './testCluster';

export interface GatewayAnswer {
  data?: any;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export async function gatewayCall(gw: NodeProcess, token: string, query: string, variables: Record<string, unknown> = {}): Promise<GatewayAnswer> {
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  return (await res.json()) as GatewayAnswer;
}
