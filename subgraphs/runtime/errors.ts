// The GraphQL errors subgraphs return, one constructor per code the public contract names.
import { GraphQLError } from 'graphql';
import type { WrittenAt } from './producer';

const err = (code: string, message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, ...extensions } });

export const forbidden = (message = 'not allowed') => err('FORBIDDEN', message);
export const unauthenticated = (message = 'sign in first') => err('UNAUTHENTICATED', message);
export const notFound = (what: string, id: string) => err('NOT_FOUND', `${what} ${id} does not exist`, { id });
export const badInput = (message: string, field?: string) => err('BAD_USER_INPUT', message, field ? { field } : {});
export const invalidTransition = (from: string, to: string) =>
  err('INVALID_TRANSITION', `an order cannot go from ${from} to ${to}`, { from, to });

/** Items the store has none of, as the refusing subgraph's view shows them: `items` names each product. */
export const outOfStock = (items: ReadonlyArray<{ productId: string; name?: string }>) =>
  err('OUT_OF_STOCK', `out of stock at this store: ${items.map((i) => i.name ?? i.productId).join(', ')}`, { items: items.map((i) => i.productId) });

/** A change to an order that is over (delivered or canceled). */
export const orderFinished = (status: string) => err('INVALID_TRANSITION', `the order is ${status}: nothing about its delivery can change`, { from: status });

/**
 * The event was written (it will be applied) but the view had not applied it within the
 * wait. Retrying the mutation would write it twice; re-reading later is what helps.
 */
export const acceptedNotApplied = (at: WrittenAt, timeoutMs: number) =>
  err(
    'ACCEPTED_NOT_APPLIED',
    `the change was accepted (${at.topic}[${at.partition}]@${at.offset}) but is not readable yet after ${timeoutMs} ms; read it again shortly`,
    { topic: at.topic, partition: at.partition, offset: at.offset },
  );
