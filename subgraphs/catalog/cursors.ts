// Connection cursors of the catalog: the runtime pager's (score, id) position, made per edge.
// The runtime's ViewReader returns only a page's endCursor, while every edge needs one and a
// search may stop in the middle of a page, so the catalog encodes positions itself in the
// reader's format (base64url JSON [score, id]); the integration test checks the two agree.
import { badInput } from '../runtime/errors';

export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

export interface Connection<T> {
  readonly edges: Edge<T>[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

export const emptyConnection = <T>(): Connection<T> => ({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });

/** The cursor of the index member `id` with `score`. */
export function encodeCursor(score: number, id: string): string {
  return Buffer.from(JSON.stringify([score, id])).toString('base64url');
}

/** Checks a client's `after` before it reaches the reader, so a bad one is the client's error, not a 500. */
export function checkCursor(after: string | null | undefined, field = 'after'): string | null {
  if (after === null || after === undefined) return null;
  try {
    const v = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string') return after;
  } catch {
    /* reported below */
  }
  throw badInput(`${field} is not a cursor from this connection: pass a cursor or endCursor it returned`, field);
}

/** Checks a page size: an integer from 0 to `max`. */
export function checkFirst(first: number, max: number, field = 'first'): number {
  if (!Number.isInteger(first) || first < 0 || first > max) throw badInput(`${field} must be from 0 to ${max}`, field);
  return first;
}
