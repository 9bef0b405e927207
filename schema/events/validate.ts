// A tiny validator kit for event contracts: each check returns the value typed or
// throws a ContractViolation naming the field path, what was expected and what was found.
// Each check also says what it accepts as JSON Schema (jsonSchema.ts), for the contracts' schemas.
import { describedAs, isOptionalCheck, jsonSchemaOf } from './jsonSchema';

/** An event does not match its contract. Never retriable: the same bytes fail the same way. */
export class ContractViolation extends Error {
  readonly retriable = false;
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${path}: expected ${expected}, found ${found}`);
    this.name = 'ContractViolation';
  }
}

export type Check<T> = (value: unknown, path: string) => T;
export type Checked<C> = C extends Check<infer T> ? T : never;

/** Describes a found value briefly and safely (long strings are cut) for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string': {
      const s = value.length > 40 ? `${value.slice(0, 40)}…` : value;
      return `the string ${JSON.stringify(s)}`;
    }
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

// A lone surrogate is not text: UTF-8 encoders replace it with U+FFFD, so it would not
// survive the trip through Kafka and Redis as the value a client sent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The index of the first unpaired UTF-16 surrogate in `s`, or -1 when `s` is well-formed text. */
export function loneSurrogateAt(s: string): number {
  const m = LONE_SURROGATE.exec(s);
  return m ? m.index : -1;
}

export const str =
  (opts: { min?: number; max?: number } = {}): Check<string> =>
  describedAs<Check<string>>((v, path) => {
    const min = opts.min ?? 1;
    const max = opts.max ?? 512;
    if (typeof v !== 'string') throw new ContractViolation(path, 'a string', describe(v));
    if (v.length < min || v.length > max)
      throw new ContractViolation(path, `a string of ${min} to ${max} characters`, `${v.length} characters`);
    const at = loneSurrogateAt(v);
    if (at >= 0) throw new ContractViolation(path, 'well-formed text', `a lone UTF-16 surrogate at character ${at}`);
    return v;
  }, { type: 'string', minLength: opts.min ?? 1, maxLength: opts.max ?? 512 });

export const int =
  (opts: { min?: number; max?: number } = {}): Check<number> =>
  describedAs<Check<number>>((v, path) => {
    const min = opts.min ?? Number.MIN_SAFE_INTEGER;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof v !== 'number' || !Number.isSafeInteger(v))
      throw new ContractViolation(path, 'an integer', describe(v));
    if (v < min || v > max) throw new ContractViolation(path, `an integer from ${min} to ${max}`, describe(v));
    return v;
  }, { type: 'integer', minimum: opts.min ?? Number.MIN_SAFE_INTEGER, maximum: opts.max ?? Number.MAX_SAFE_INTEGER });

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export const isoTime = (): Check<string> => describedAs<Check<string>>((v, path) => {
  if (typeof v !== 'string' || !ISO_DATE.test(v) || Number.isNaN(Date.parse(v)))
    throw new ContractViolation(path, 'an ISO-8601 time', describe(v));
  return v;
}, { type: 'string', format: 'date-time' });

export const oneOf =
  <T extends string>(values: readonly T[]): Check<T> =>
  describedAs<Check<T>>((v, path) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
      throw new ContractViolation(path, `one of ${values.join(', ')}`, describe(v));
    return v as T;
  }, { type: 'string', enum: [...values] });

export const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  describedAs<Check<T | undefined>>((v, path) =>
    v === undefined || v === null ? undefined : check(v, path), { anyOf: [jsonSchemaOf(check), { type: 'null' }] }, { optional: true });

export const array =
  <T>(item: Check<T>, opts: { min?: number; max?: number } = {}): Check<T[]> =>
  describedAs<Check<T[]>>((v, path) => {
    const min = opts.min ?? 0;
    const max = opts.max ?? 1000;
    if (!Array.isArray(v)) throw new ContractViolation(path, 'an array', describe(v));
    if (v.length < min || v.length > max)
      throw new ContractViolation(path, `an array of ${min} to ${max} items`, describe(v));
    return v.map((x, i) => item(x, `${path}[${i}]`));
  }, { type: 'array', items: jsonSchemaOf(item), minItems: opts.min ?? 0, maxItems: opts.max ?? 1000 });

type Shape = Record<string, Check<unknown>>;
type FromShape<S extends Shape> = { [K in keyof S as undefined extends Checked<S[K]> ? never : K]: Checked<S[K]> } & {
  [K in keyof S as undefined extends Checked<S[K]> ? K : never]?: Checked<S[K]>;
};

/** An object with exactly the given fields; unknown fields are rejected so typos never pass. */
export const obj =
  <S extends Shape>(shape: S): Check<FromShape<S>> =>
  describedAs<Check<FromShape<S>>>((v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ContractViolation(path, 'an object', describe(v));
    const input = v as Record<string, unknown>;
    for (const k of Object.keys(input)) {
      if (!(k in shape)) throw new ContractViolation(`${path}.${k}`, 'no such field', describe(input[k]));
    }
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) {
      const value = check(input[k], `${path}.${k}`);
      if (value !== undefined) out[k] = value;
    }
    return out as FromShape<S>;
  }, {
    type: 'object',
    properties: Object.fromEntries(Object.entries(shape).map(([k, check]) => [k, jsonSchemaOf(check)])),
    required: Object.keys(shape).filter((k) => !isOptionalCheck(shape[k])),
    additionalProperties: false,
  });
