// Safelist mode (GATEWAY_SAFELIST_FILE): only operations whose text hashes to a listed sha256 run,
// over HTTP and graphql-ws alike.
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';

/** sha256 hex of an operation's text, as the safelist lists it (and as Apollo Server's queryHash is). */
export const operationHash = (query: string) => createHash('sha256').update(query).digest('hex');

/**
 * The refusal of an operation not on the safelist, or null when it is listed or there is no
 * safelist. `extensions` adds to the code (over HTTP: the 403 status).
 */
export function safelistRefusal(safelist: ReadonlySet<string> | null, hash: string, extensions: Record<string, unknown> = {}): GraphQLError | null {
  if (!safelist || safelist.has(hash)) return null;
  return new GraphQLError('this operation is not on the safelist', { extensions: { code: 'OPERATION_NOT_SAFELISTED', ...extensions } });
}
