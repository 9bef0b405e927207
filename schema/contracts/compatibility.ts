// Whether a new version of a contract can still read every event the old one accepted: the
// BACKWARD rule of schema registries. Views replay their topics from the start, so a reader
// that refuses an old event dead-letters history. Refused: a removed (or renamed) field or event
// type, a narrowed type (shorter strings, a smaller range, fewer enum values, null no longer
// allowed), a new required field, a changed type or event version. Pure.
import type { JsonSchema } from '../events/jsonSchema';
import { eventSchemas } from './topicSchema';

const isAny = (s: JsonSchema) => Object.keys(s).filter((k) => !['title', 'description'].includes(k)).length === 0;

/** Splits `anyOf: [X, {type: null}]` (optional and nullable fields) into X and whether null is accepted. */
function unwrapNull(s: JsonSchema): { inner: JsonSchema; nullable: boolean } {
  if (s.anyOf && s.anyOf.length === 2) {
    const nul = s.anyOf.findIndex((x) => x.type === 'null');
    if (nul >= 0) return { inner: s.anyOf[1 - nul], nullable: true };
  }
  return { inner: s, nullable: s.type === 'null' };
}

const lower = (o: number | undefined, n: number | undefined) => (o === undefined ? n === undefined : n === undefined || n <= o);
const upper = (o: number | undefined, n: number | undefined) => (o === undefined ? n === undefined : n === undefined || n >= o);

/** Why a reader with schema `next` would refuse some value `prev` accepts; empty when it accepts them all. */
export function backwardProblems(prev: JsonSchema, next: JsonSchema, at = '$'): string[] {
  if (isAny(next)) return [];
  if (isAny(prev)) return [`${at}: was unconstrained, now ${next.type ?? 'constrained'} (narrowed)`];
  const p = unwrapNull(prev);
  const n = unwrapNull(next);
  const problems: string[] = [];
  if (p.nullable && !n.nullable) problems.push(`${at}: no longer accepts null (narrowed)`);
  const a = p.inner;
  const b = n.inner;
  if (isAny(b)) return problems;
  if ('const' in a || 'const' in b) {
    if (a.const !== b.const) problems.push(`${at}: was ${JSON.stringify(a.const ?? a.type)}, now ${JSON.stringify(b.const ?? b.type)} (changed)`);
    return problems;
  }
  if (a.type !== b.type) return [...problems, `${at}: type changed from ${a.type} to ${b.type}`];
  if (a.format !== b.format && b.format !== undefined) problems.push(`${at}: now requires format ${b.format} (narrowed)`);
  if (!lower(a.minLength, b.minLength) || !upper(a.maxLength, b.maxLength))
    problems.push(`${at}: length ${a.minLength ?? 0}..${a.maxLength ?? '∞'} narrowed to ${b.minLength ?? 0}..${b.maxLength ?? '∞'}`);
  if (!lower(a.minimum, b.minimum) || !upper(a.maximum, b.maximum))
    problems.push(`${at}: range ${a.minimum ?? '-∞'}..${a.maximum ?? '∞'} narrowed to ${b.minimum ?? '-∞'}..${b.maximum ?? '∞'}`);
  if (b.enum) {
    const gone = (a.enum ?? []).filter((v) => !b.enum!.includes(v));
    if (!a.enum) problems.push(`${at}: now only ${b.enum.join(', ')} (narrowed)`);
    else if (gone.length) problems.push(`${at}: no longer accepts ${gone.join(', ')} (narrowed)`);
  }
  if (a.type === 'array') {
    if (!lower(a.minItems, b.minItems) || !upper(a.maxItems, b.maxItems))
      problems.push(`${at}: item count ${a.minItems ?? 0}..${a.maxItems ?? '∞'} narrowed to ${b.minItems ?? 0}..${b.maxItems ?? '∞'}`);
    if (a.items && b.items) problems.push(...backwardProblems(a.items, b.items, `${at}[]`));
  }
  if (a.type === 'object') {
    const ap = a.properties ?? {};
    const bp = b.properties ?? {};
    const aRequired = new Set(a.required ?? []);
    for (const [field, schema] of Object.entries(ap)) {
      if (field in bp) problems.push(...backwardProblems(schema, bp[field], `${at}.${field}`));
      else if (b.additionalProperties === false) problems.push(`${at}.${field}: removed or renamed (events that carry it would be refused)`);
    }
    for (const field of b.required ?? []) {
      if (!(field in ap)) problems.push(`${at}.${field}: new required field (older events lack it; add it as optional)`);
      else if (!aRequired.has(field)) problems.push(`${at}.${field}: was optional, now required`);
    }
    if (a.additionalProperties !== false && b.additionalProperties === false) problems.push(`${at}: no longer accepts other fields (narrowed)`);
  }
  return problems;
}

/** Problems of a topic schema against its previous version: per event type, and event types removed. */
export function topicBackwardProblems(prev: JsonSchema, next: JsonSchema): string[] {
  const before = eventSchemas(prev);
  const after = eventSchemas(next);
  const problems: string[] = [];
  for (const [type, schema] of before) {
    const now = after.get(type);
    if (!now) problems.push(`${type}: event type removed (a type is never removed)`);
    else problems.push(...backwardProblems(schema, now, type));
  }
  return problems;
}
