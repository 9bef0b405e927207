// Calls a subgraph as the gateway would: GraphQL over HTTP and graphql-ws, with a signed
// identity. Tests use it to act as any caller.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { IDENTITY_HEADER, signIdentity, type Identity, type Role } from '../../platform/identity';

export const TEST_IDENTITY_SECRET = 'test-identity-secret-0123456789';

export interface GraphQLResult<T = Record<string, any>> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, any> }>;
}

export const as = (sub: string | null, ...roles: Role[]): Identity => ({ sub, roles });
export const anonymous: Identity = { sub: null, roles: [] };

/** POSTs an operation to `url` as `identity` (null sends no identity at all). */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  identity: Identity | null = anonymous,
  secret = TEST_IDENTITY_SECRET,
): Promise<GraphQLResult<T> & { status: number }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (identity) headers[IDENTITY_HEADER] = signIdentity(identity, secret);
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...((await res.json()) as GraphQLResult<T>) };
}

/** A graphql-ws client connected as `identity`; dispose it after the test. */
export function wsClient(wsUrl: string, identity: Identity, secret = TEST_IDENTITY_SECRET): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: () => ({ [IDENTITY_HEADER]: signIdentity(identity, secret) }),
  });
}

/** Subscribes and collects every payload into an array the test can wait on. */
export function collect<T = Record<string, any>>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const received: GraphQLResult<T>[] = [];
  let error: unknown;
  let completed = false;
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => void received.push(v as GraphQLResult<T>),
      error: (e) => void (error = e),
      complete: () => void (completed = true),
    },
  );
  return {
    received,
    error: () => error,
    completed: () => completed,
    dispose,
  };
}
