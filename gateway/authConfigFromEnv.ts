// The gateway's client authentication settings from the environment: which key verifies tokens
// (JWT_SECRET, JWT_PUBLIC_KEY_FILE or JWKS_FILE), the required claims, and the development secret.
import fs from 'node:fs';
import type { JsonWebKey } from 'node:crypto';
import { ConfigError } from '../platform/configError';
import { loadVerificationKeys, type AuthConfig } from './auth';

/**
 * The secret `npm start` and `npm run token` use when no key is configured, so the stack works
 * out of the box. It is public (it is in this file), hence refused when NODE_ENV=production.
 */
export const DEV_JWT_SECRET = 'streamgraph-dev-jwt-secret';

/** RFC 7518 3.2: an HS256 key must be at least as long as the hash (256 bits). */
const MIN_PRODUCTION_SECRET_LENGTH = 32;

const KEY_VARIABLES = ['JWT_SECRET', 'JWT_PUBLIC_KEY_FILE', 'JWKS_FILE'] as const;
type KeyVariable = (typeof KEY_VARIABLES)[number];

/**
 * JWT_SECRET (HS256), JWT_PUBLIC_KEY_FILE (RSA public key PEM, RS256) or JWKS_FILE (JSON
 * `{keys:[...]}`, RS256 by kid): exactly one. JWT_ISSUER and JWT_AUDIENCE are optional.
 * Without a key, development uses DEV_JWT_SECRET and production fails. Key files are read and
 * parsed here, so a bad file fails at start with a ConfigError naming the variable and file.
 */
export function authConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const production = env.NODE_ENV === 'production';
  const config: AuthConfig = { ...keySourceFromEnv(env, production) };
  const issuer = value(env, 'JWT_ISSUER');
  const audience = value(env, 'JWT_AUDIENCE');
  if (issuer !== undefined) config.issuer = issuer;
  if (audience !== undefined) config.audience = audience;
  return config;
}

function keySourceFromEnv(env: NodeJS.ProcessEnv, production: boolean): AuthConfig {
  const set = KEY_VARIABLES.filter((name) => value(env, name) !== undefined);
  if (set.length > 1) {
    throw new ConfigError(`${set.join(' and ')} are set; set only one JWT key source (${KEY_VARIABLES.join(', ')})`);
  }
  const variable = set[0];
  if (variable === undefined) {
    if (production) {
      throw new ConfigError(
        'no JWT key configured and NODE_ENV=production refuses the development secret; set JWT_SECRET (HS256), JWT_PUBLIC_KEY_FILE (RS256 PEM) or JWKS_FILE (RS256 JWKS)',
      );
    }
    return { hs256Secret: DEV_JWT_SECRET };
  }
  if (variable === 'JWT_SECRET') return { hs256Secret: checkSecret(env.JWT_SECRET as string, production) };
  const file = value(env, variable) as string;
  const text = readKeyFile(variable, file);
  // Parse the keys now: a bad file should stop the gateway at start, not fail every request.
  try {
    const source = variable === 'JWKS_FILE' ? { jwks: parseJwks(text) } : { rs256PublicKeyPem: text };
    loadVerificationKeys(source);
    return source;
  } catch (e) {
    throw new ConfigError(`${variable}=${file}: ${(e as Error).message}`);
  }
}

function checkSecret(secret: string, production: boolean): string {
  if (!production) return secret;
  if (secret === DEV_JWT_SECRET) {
    throw new ConfigError('JWT_SECRET is the public development secret; with NODE_ENV=production set a private one (e.g. `openssl rand -base64 32`)');
  }
  if (secret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    throw new ConfigError(
      `JWT_SECRET is ${secret.length} characters; HS256 needs at least ${MIN_PRODUCTION_SECRET_LENGTH} in production (e.g. \`openssl rand -base64 32\`)`,
    );
  }
  return secret;
}

function readKeyFile(variable: KeyVariable, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(`${variable}=${file} cannot be read (${reason}); point it at a readable file`);
  }
}

function parseJwks(text: string): { keys: JsonWebKey[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`the file is not valid JSON (${(e as Error).message}); it must hold {"keys":[...]}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new ConfigError('the file has no "keys" array; it must hold {"keys":[...]} as served by the identity provider');
  return { keys: keys as JsonWebKey[] };
}

/** A setting counts as unset when blank, as in the Kafka and Redis settings. */
function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}
