// Development tokens: HS256 JWTs signed with the gateway's shared secret, for `npm run token`
// and tests. With RS256 keys only the identity provider holds the private key, so none are made here.
import jwt from 'jsonwebtoken';
import { ROLES, type Role } from '../platform/identity';
import { ConfigError } from '../platform/configError';
import { authConfigFromEnv, DEV_JWT_SECRET } from './authConfigFromEnv';

export interface DevTokenOptions {
  /** The customer, shopper or store id. */
  sub: string;
  roles: readonly Role[];
  /** Lifetime in seconds. @default 3600 */
  expiresInSec?: number;
  /** @default DEV_JWT_SECRET */
  secret?: string;
  /** Set when the gateway checks `iss` (JWT_ISSUER). */
  issuer?: string;
  /** Set when the gateway checks `aud` (JWT_AUDIENCE). */
  audience?: string;
}

/** Signs an HS256 token the gateway accepts; throws on an empty sub, an unknown role or a non-positive lifetime. */
export function signDevToken({ sub, roles, expiresInSec = 3600, secret = DEV_JWT_SECRET, issuer, audience }: DevTokenOptions): string {
  if (sub === '') throw new Error('sub must be a non-empty string');
  const unknown = roles.filter((r) => !isRole(r));
  if (unknown.length) throw new Error(`unknown role ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
  if (!Number.isInteger(expiresInSec) || expiresInSec <= 0) throw new Error(`expiresInSec must be a positive whole number of seconds, got ${expiresInSec}`);
  const options: jwt.SignOptions = { algorithm: 'HS256', subject: sub, expiresIn: expiresInSec };
  if (issuer !== undefined) options.issuer = issuer;
  if (audience !== undefined) options.audience = audience;
  return jwt.sign({ roles: [...roles] }, secret, options);
}

export const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value);

/**
 * The secret, issuer and audience the gateway would use with this environment, so a dev token
 * passes its checks. Throws ConfigError when the gateway verifies RS256 (or has no key in production).
 */
export function devTokenSigningFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<DevTokenOptions, 'secret' | 'issuer' | 'audience'> {
  const config = authConfigFromEnv(env);
  if (config.hs256Secret === undefined) {
    const variable = config.jwks ? 'JWKS_FILE' : 'JWT_PUBLIC_KEY_FILE';
    throw new ConfigError(
      `${variable} is set, so the gateway accepts only RS256 tokens, which must come from the identity provider; unset it and set JWT_SECRET to use dev tokens`,
    );
  }
  return { secret: config.hs256Secret, issuer: config.issuer, audience: config.audience };
}
