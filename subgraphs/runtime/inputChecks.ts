// Checks of client input shared by every subgraph's mutations, so a client's mistake is
// always its BAD_USER_INPUT naming its own field, never an internal error or a contract path.
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import {
  ContractViolation,
  createEvent,
  loneSurrogateAt,
  type EventOfType,
  type EventTypeOf,
  type PayloadOf,
  type TopicContract,
} from '../../schema/events';
import { badInput } from './errors';

/** The contract's limit on every id (schema/events/payloads.ts). */
export const MAX_ID_LENGTH = 128;

/** The path (`input.items[0].productId`) of the first string holding a lone UTF-16 surrogate, or null. */
export function loneSurrogatePath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return loneSurrogateAt(value) >= 0 ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = loneSurrogatePath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = loneSurrogatePath(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return null;
}

/** Refuses arguments holding a lone surrogate, naming the argument path. */
export function refuseLoneSurrogates(args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) {
    const path = loneSurrogatePath(value, name);
    // JSON.parse accepts "\ud800" in variables; no event, view key or log line may carry it.
    if (path) throw badInput(`${path} is not valid text: it holds a lone UTF-16 surrogate`, path);
  }
}

const guarded = new WeakSet<object>();

/**
 * Makes every mutation of `schema` refuse malformed text before its own resolver runs, so
 * each mutation (a scaffolded subgraph's too) checks this first without repeating it.
 * Idempotent: a schema served twice is wrapped once.
 */
export function guardMutationInput(schema: GraphQLSchema): void {
  const mutation = schema.getMutationType();
  if (!mutation) return;
  for (const field of Object.values(mutation.getFields())) {
    if (guarded.has(field)) continue;
    guarded.add(field);
    const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args: Record<string, unknown>, context, info) => {
      refuseLoneSurrogates(args);
      return resolve(source, args, context, info);
    };
  }
}

/** Refuses an id argument the contract could not carry, naming the field and the limit. */
export function checkId(value: string, field: string): string {
  if (value.length === 0 || value.length > MAX_ID_LENGTH) throw badInput(`${field} must be 1 to ${MAX_ID_LENGTH} characters`, field);
  if (loneSurrogateAt(value) >= 0) throw badInput(`${field} is not valid text: it holds a lone UTF-16 surrogate`, field);
  return value;
}

/** The identity's subject, as written into events: the caller's id in the token. */
export const TOKEN_SUB = 'token.sub';

/**
 * Builds an event from client input. `fields` names, for each payload field the client
 * supplied, the GraphQL path it came from (`{ name: 'input.name' }`). A contract violation on
 * one of those becomes BAD_USER_INPUT naming that path and the limit; the contract's own path
 * and the value stay out of the answer. A violation on a field the server filled in is a bug
 * and stays an internal error.
 */
export function eventFromInput<C extends TopicContract, T extends EventTypeOf<C>>(
  topic: C,
  type: T,
  payload: PayloadOf<C, T>,
  fields: Readonly<Partial<Record<string, string>>>,
): EventOfType<C, T> {
  try {
    return createEvent(topic, type, payload);
  } catch (e) {
    throw inputErrorOf(e, fields);
  }
}

/** The caller's error for a contract violation on input fields; anything else unchanged. */
export function inputErrorOf(e: unknown, fields: Readonly<Partial<Record<string, string>>>): unknown {
  if (!(e instanceof ContractViolation)) return e;
  const m = /^event\.payload\.([^.[]+)(.*)$/.exec(e.path);
  const source = m ? fields[m[1]] : undefined;
  if (!m || source === undefined) return e;
  const field = `${source}${m[2]}`;
  return badInput(`${field} must be ${e.expected}`, field);
}
