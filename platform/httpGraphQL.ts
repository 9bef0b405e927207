// The HTTP edges every GraphQL server here shares (gateway, subgraphs, test fixtures):
// writing Apollo Server's response to a node response, and naming the operation for metrics.
import type http from 'node:http';
import type { HTTPGraphQLResponse } from '@apollo/server';

/** Writes headers, status and (complete or chunked) body of an Apollo Server HTTP response. */
export async function sendGraphQLResponse(res: http.ServerResponse, result: HTTPGraphQLResponse): Promise<void> {
  for (const [k, v] of result.headers) res.setHeader(k, v);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}

/** The operation name a request body gives, else null (operationLabels bounds it for metrics). */
export function operationNameOf(body: unknown): string | null {
  if (body && typeof body === 'object' && 'operationName' in body && typeof body.operationName === 'string') return body.operationName;
  return null;
}
