// The classes of error a running view meets. Bad records are not errors here: decode and fold
// turn them into dead letters. What is left is either retriable (the broker or Redis is slow,
// unreachable or refusing for a while: back off and try the same step again, within a bound) or
// fatal (the view cannot go on correctly: stop it and say why, once).

/** Stops the view: retrying would not help and skipping would make the view wrong. */
export class FatalProjectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The fold (or `reads`) is broken rather than the event bad: it threw a TypeError, a
 * ReferenceError or the like, or changed an entity `reads` did not name, or returned a state
 * that does not serialize. Dead-lettering would send every later event the same way.
 */
export class ProjectionBugError extends FatalProjectionError {}

/** The view's state in Redis cannot be continued from (e.g. its checkpoint lies before the log start). */
export class UnrecoverableViewError extends FatalProjectionError {}

export type ErrorClass = 'retriable' | 'fatal';

export interface ClassifiedError {
  readonly class: ErrorClass;
  /** What kind of trouble, for logs and the failed state: e.g. "Redis refused the command (NOREPLICAS)". */
  readonly cause: string;
  readonly message: string;
}

/** Error classes that only a programming mistake raises: a fold that throws one is broken. */
const PROGRAMMING_ERRORS: ReadonlyArray<abstract new (...args: never[]) => Error> = [
  TypeError,
  ReferenceError,
  RangeError,
  SyntaxError,
  EvalError,
  URIError,
];

/** Whether an error a fold threw says the fold is broken, not the event. */
export function isProgrammingError(e: unknown): boolean {
  return e instanceof FatalProjectionError || PROGRAMMING_ERRORS.some((c) => e instanceof c);
}

/** Replies a Redis server gives while it cannot serve for a moment (failover, loading, no replicas). */
const REDIS_TRANSIENT_REPLIES = /^(NOREPLICAS|READONLY|LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|OOM|NOSCRIPT)\b/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Classes an error from a step of the runtime. Only FatalProjectionError (raised by the steps
 * themselves) is fatal; every other error comes from the broker or Redis and is retried within
 * the retry bound: named causes for the known ones, "unexpected error" for the rest (a broker
 * refusing for lack of rights, say, may be fixed while the view waits).
 */
export function classifyError(e: unknown): ClassifiedError {
  const message = messageOf(e);
  if (e instanceof FatalProjectionError) return { class: 'fatal', cause: e.name, message };
  const err = e as { name?: unknown; code?: unknown; retriable?: unknown } | null;
  const name = typeof err?.name === 'string' ? err.name : '';
  const code = typeof err?.code === 'string' ? err.code : '';
  const retriable = (cause: string): ClassifiedError => ({ class: 'retriable', cause, message });
  if (name === 'ReplyError' || REDIS_TRANSIENT_REPLIES.test(message)) {
    const reply = /^([A-Z]+)\b/.exec(message)?.[1];
    return retriable(`Redis refused the command${reply ? ` (${reply})` : ''}`);
  }
  if (name === 'MaxRetriesPerRequestError' || /Connection is closed|Stream isn't writeable|Failed to refresh slots cache/.test(message))
    return retriable('Redis connection lost');
  if (/Command timed out/.test(message)) return retriable('Redis timed out');
  if (name.startsWith('KafkaJS')) {
    if (/Timeout/.test(name) || /timed? ?out/i.test(message)) return retriable('broker timed out');
    if (/Connection/.test(name)) return retriable('broker connection lost');
    return retriable(`broker error (${name})`);
  }
  if (NETWORK_CODES.has(code)) return retriable(`connection failed (${code})`);
  return retriable('unexpected error');
}
