// The gateway's operation limits from the environment (GATEWAY_MAX_* settings).
import { envWholeNumber } from '../platform/envValues';
import { DEFAULT_LIMITS, type OperationLimits } from './limits';

/** Each setting, its variable and its smallest sensible value (0 aliases is a real policy; a 0 list size would make lists free). */
const ENV_SETTINGS: ReadonlyArray<{ key: 'maxDepth' | 'maxAliases' | 'maxCost' | 'maxBodyBytes' | 'defaultListSize'; variable: string; min: number }> = [
  { key: 'maxDepth', variable: 'GATEWAY_MAX_DEPTH', min: 1 },
  { key: 'maxAliases', variable: 'GATEWAY_MAX_ALIASES', min: 0 },
  { key: 'maxCost', variable: 'GATEWAY_MAX_COST', min: 1 },
  { key: 'maxBodyBytes', variable: 'GATEWAY_MAX_BODY_BYTES', min: 1 },
  { key: 'defaultListSize', variable: 'GATEWAY_DEFAULT_LIST_SIZE', min: 1 },
];

/**
 * GATEWAY_MAX_DEPTH, GATEWAY_MAX_ALIASES, GATEWAY_MAX_COST, GATEWAY_MAX_BODY_BYTES and
 * GATEWAY_DEFAULT_LIST_SIZE, each a whole number; unset or blank keeps the default.
 * Throws ConfigError with a one-line fix on anything else.
 */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): OperationLimits {
  const limits: Record<keyof OperationLimits, number> = { ...DEFAULT_LIMITS };
  for (const { key, variable, min } of ENV_SETTINGS) {
    limits[key] = envWholeNumber(env, variable, DEFAULT_LIMITS[key], min);
  }
  return Object.freeze(limits);
}
