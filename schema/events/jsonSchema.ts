// What a payload check accepts, as JSON Schema (draft 2020-12), remembered beside the check
// function itself: the validators (validate.ts, cdc.ts) say what they accept when they are made,
// so a contract's machine-readable schema is derived from the very checks that run, never
// written twice. schema/contracts builds each topic's schema from these and compares versions.

/** The part of JSON Schema the validator kit produces. */
export interface JsonSchema {
  readonly type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly string[];
  readonly const?: string | number;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly title?: string;
  readonly description?: string;
  readonly $schema?: string;
  readonly $id?: string;
  readonly [extension: `x-${string}`]: unknown;
}

// Weak: checks are made once per contract, and a check nobody holds should not be kept alive.
const described = new WeakMap<object, JsonSchema>();
const optionals = new WeakSet<object>();

/** Records what `check` accepts; returns it unchanged. */
export function describedAs<F extends (...args: never[]) => unknown>(check: F, schema: JsonSchema, opts: { optional?: boolean } = {}): F {
  described.set(check, schema);
  if (opts.optional) optionals.add(check);
  return check;
}

/** What `check` accepts; `{}` (anything) for a check that does not say, so a reader learns it is unconstrained. */
export function jsonSchemaOf(check: unknown): JsonSchema {
  return (typeof check === 'function' && described.get(check)) || {};
}

/** Whether a field with this check may be left out of its object. */
export const isOptionalCheck = (check: unknown): boolean => typeof check === 'function' && optionals.has(check);
