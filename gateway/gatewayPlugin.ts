// The gateway's Apollo Server plugin and error formatting: the safelist, operation resolution
// (no unknown names, no subscriptions over HTTP), the operation limits, admitting documents into
// the cache once within them, naming the operation for metrics, and the freshness and
// consistency token extensions of every response, and errors that @apollo/gateway would leave
// out of `errors`.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { encodeConsistencyToken } from '../platform/consistency';
import type { OperationLabels } from '../platform/operationLabels';
import { nameOperationSpan } from '../platform/tracing';
import type { AdmittedDocumentStore } from './documentStore';
import type { GatewayContext } from './execution/context';
import { checkLimits, type OperationLimits } from './limits';
import { safelistRefusal } from './safelist';

export interface GatewayPluginOptions {
  /** Only these operation hashes run; null: any valid operation. */
  readonly safelist: ReadonlySet<string> | null;
  readonly limits: OperationLimits;
  readonly documents: AdmittedDocumentStore;
  readonly operationLabels: OperationLabels;
  /** Told of every operation that passed validation and the limits (the registry's schema checks read them). */
  readonly onServed?: (queryHash: string, operationName: string | null, text: string) => void;
}

export function createGatewayPlugin(opts: GatewayPluginOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveSource({ queryHash }) {
          const refused = safelistRefusal(opts.safelist, queryHash, { http: { status: 403 } });
          if (refused) throw refused;
        },
        async didResolveOperation({ document, operationName, request, schema, operation, contextValue, queryHash, source }) {
          if (!operation)
            throw new GraphQLError(
              request.operationName
                ? `Unknown operation named "${request.operationName.slice(0, 100)}".`
                : 'Must provide operation name if query contains multiple operations.',
              { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } },
            );
          if (operation.operation === 'subscription')
            throw new GraphQLError('subscriptions are served over graphql-ws (protocol graphql-transport-ws) on this same URL', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          // Introspection is held to limits of its own (see limits.ts), never exempt.
          const errors = checkLimits(schema, document, operationName, request.variables, opts.limits);
          if (errors.length > 0) {
            const [first] = errors;
            throw new GraphQLError(first!.message, { nodes: first!.nodes, extensions: { ...first!.extensions, http: { status: 400 } } });
          }
          // Only now is the document known to be within every limit: keep it.
          opts.documents.admit(document);
          contextValue.metricLabels.operation = opts.operationLabels.labelOf(operationName);
          // The request's span (tracing on) says what ran: type and name, never variables.
          nameOperationSpan(contextValue.trace, operation.operation, operationName, contextValue.metricLabels.operation);
          opts.onServed?.(queryHash, operationName, source);
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const { valueCompletion, ...rest } = (result.extensions ?? {}) as Record<string, unknown>;
          const ext: Record<string, unknown> = rest;
          // @apollo/gateway reports a null in a non-null position (an entity a subgraph could not
          // resolve, a subgraph returning null for a non-null field) only in this extension when
          // no other error occurred, so the client sees data: null and no error. It belongs in errors.
          if (Array.isArray(valueCompletion) && valueCompletion.length > 0)
            result.errors = [...(result.errors ?? []), ...valueCompletion.map(nullViolation)];
          if (Object.keys(contextValue.freshness).length > 0) ext.freshness = contextValue.freshness;
          if (contextValue.written.length > 0) ext.consistencyToken = encodeConsistencyToken(contextValue.written);
          result.extensions = Object.keys(ext).length > 0 ? ext : undefined;
        },
      };
    },
  };
}

/** A value completion error of @apollo/gateway as a client error, with its path. */
function nullViolation(e: { message?: unknown; path?: unknown }): GraphQLFormattedError {
  return {
    message: typeof e.message === 'string' ? e.message : 'a subgraph returned null for a non-null field',
    ...(Array.isArray(e.path) ? { path: e.path as (string | number)[] } : {}),
    extensions: { code: 'NON_NULL_VIOLATION' },
  };
}

/** Apollo Server's `formatError`: subgraphs' errors pass through the gateway, so their stack traces go too unless debugging. */
export function formatGatewayError(debugErrors: boolean): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => withClientCode(debugErrors ? formatted : withoutStacktrace(formatted), error);
}

/** A formatted error without the stack traces Apollo Server or a subgraph put in its extensions. */
function withoutStacktrace(error: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = error.extensions;
  if (!extensions || (!('stacktrace' in extensions) && !('exception' in extensions))) return error;
  const { stacktrace: _s, exception: _e, ...rest } = extensions as Record<string, unknown>;
  return { ...error, extensions: rest };
}

/**
 * Apollo Server refuses some requests with a GraphQLError that has an HTTP 4xx status but no
 * code (a persisted-query hash that does not match, an unknown persisted-query version), which
 * it then formats as INTERNAL_SERVER_ERROR. Such refusals are the client's: BAD_REQUEST.
 */
function withClientCode(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR') return formatted;
  const status = (error as { extensions?: { http?: { status?: number } } } | null)?.extensions?.http?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST' } };
}
