// Reading single settings from the environment, the same way in every config module.
import { ConfigError } from './configError';

/** Unset and blank are the same: `FOO= npm start` must not mean "FOO is the empty string". */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** true/1/yes or false/0/no; anything else is a ConfigError naming the setting. */
export function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = envValue(env, name);
  if (raw === undefined) return undefined;
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ConfigError(`${name}="${raw}" is not a boolean; set it to true or false`);
}

/**
 * A whole number of at least `min`, or `fallback` when unset or blank. Digits only: Number()
 * would accept "1e3", "0x10" and "12.0", which nobody means in a setting. The one parser of
 * numeric settings, so every setting explains a bad value the same way.
 */
export function envWholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = envValue(env, name);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(`${name}="${raw}" is not a whole number of at least ${min}; set it like ${name}=${fallback} or unset it for the default (${fallback})`);
  return n;
}
