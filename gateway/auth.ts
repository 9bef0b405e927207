// Client authentication at the gateway: turns an `Authorization: Bearer <JWT>` value into the
// Identity the gateway forwards to subgraphs, or an AuthError saying exactly what is wrong.
// Its settings from the environment: authConfigFromEnv.ts.
import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ANONYMOUS, ROLES, type Identity, type Role } from '../platform/identity';
import { ConfigError } from '../platform/configError';

/** How tokens are checked. Exactly one of `hs256Secret`, `rs256PublicKeyPem` and `jwks` is set. */
export interface AuthConfig {
  /** Shared secret; tokens must be HS256. */
  hs256Secret?: string;
  /** The identity provider's RSA public key (PEM); tokens must be RS256. */
  rs256PublicKeyPem?: string;
  /** The identity provider's RSA keys; tokens must be RS256 and name one by `kid` (optional when there is one key). */
  jwks?: { keys: JsonWebKey[] };
  /** When set, the `iss` claim must equal it. */
  issuer?: string;
  /** When set, the `aud` claim must be (or contain) it. */
  audience?: string;
  /** Allowed clock skew between the token issuer and this gateway, for `exp` and `nbf`. @default 5 */
  clockToleranceSec?: number;
}

/** The caller could not be authenticated; never retriable with the same token. */
export class AuthError extends Error {
  readonly code = 'UNAUTHENTICATED';
  override readonly name = 'AuthError';
}

/** A verified caller; `expiresAt` (ms since epoch) lets long-lived connections close when the token lapses. */
export interface VerifiedToken {
  readonly identity: Identity;
  /** null for anonymous callers, whose "session" never expires. */
  readonly expiresAt: number | null;
}

export interface Authenticator {
  /** Verifies an Authorization header value; throws AuthError. No header at all means anonymous. */
  verify(authorization: string | undefined | null): VerifiedToken;
}

// ---------------------------------------------------------------------------------------------
// Keys

type Algorithm = 'HS256' | 'RS256';

/** The one algorithm a configuration accepts and how to find the key for a token's `kid`. */
export interface VerificationKeys {
  readonly algorithm: Algorithm;
  keyFor(kid: string | undefined): KeyObject;
}

/** The key(s) a configuration verifies with; throws ConfigError for a bad configuration. */
export function loadVerificationKeys(config: AuthConfig): VerificationKeys {
  const sources = (['hs256Secret', 'rs256PublicKeyPem', 'jwks'] as const).filter((k) => config[k] !== undefined);
  if (sources.length !== 1) {
    throw new ConfigError(`AuthConfig needs exactly one of hs256Secret, rs256PublicKeyPem, jwks; got ${sources.length ? sources.join(', ') : 'none'}`);
  }
  if (config.hs256Secret !== undefined) return secretKeys(config.hs256Secret);
  if (config.rs256PublicKeyPem !== undefined) return pemKeys(config.rs256PublicKeyPem);
  return jwksKeys(config.jwks as { keys: JsonWebKey[] });
}

function secretKeys(secret: string): VerificationKeys {
  if (secret === '') throw new ConfigError('hs256Secret is empty; set JWT_SECRET to a long random string');
  // An explicit secret KeyObject: jsonwebtoken would otherwise try a PEM-looking string as a public key.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return { algorithm: 'HS256', keyFor: () => key };
}

function pemKeys(pem: string): VerificationKeys {
  // createPublicKey would happily derive a public key from a private one; the gateway should never hold it.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError('the key is a private key; give the gateway only the public key (openssl rsa -in key.pem -pubout)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new ConfigError(`the key is not a PEM public key (${(e as Error).message}); expected -----BEGIN PUBLIC KEY-----`);
  }
  requireRsa(key, 'the PEM key');
  return { algorithm: 'RS256', keyFor: () => key };
}

function jwksKeys(jwks: { keys: JsonWebKey[] }): VerificationKeys {
  const byKid = new Map<string | undefined, KeyObject>();
  jwks.keys.forEach((jwk, i) => {
    // Identity providers publish encryption and other-algorithm keys alongside signing keys; skip them.
    if (jwk.kty !== 'RSA' || (jwk.use !== undefined && jwk.use !== 'sig') || (jwk.alg !== undefined && jwk.alg !== 'RS256')) return;
    if (jwk.d !== undefined) throw new ConfigError(`JWKS key ${i} is a private key; publish only public keys`);
    const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
    if (byKid.has(kid)) throw new ConfigError(`JWKS has two RS256 keys with kid ${kid === undefined ? '(none)' : JSON.stringify(kid)}`);
    try {
      byKid.set(kid, createPublicKey({ key: jwk, format: 'jwk' }));
    } catch (e) {
      throw new ConfigError(`JWKS key ${i} is not a valid RSA public key (${(e as Error).message})`);
    }
  });
  if (byKid.size === 0) throw new ConfigError('JWKS has no RSA signing keys (kty "RSA", use "sig", alg "RS256")');
  return { algorithm: 'RS256', keyFor: (kid) => jwksKeyFor(byKid, kid) };
}

function jwksKeyFor(byKid: Map<string | undefined, KeyObject>, kid: string | undefined): KeyObject {
  // A token without a kid is unambiguous only when there is a single key.
  const key = kid === undefined && byKid.size === 1 ? [...byKid.values()][0] : byKid.get(kid);
  if (key) return key;
  if (kid === undefined) throw new AuthError(`token has no kid header; the JWKS holds ${byKid.size} keys, so the token must name one`);
  throw new AuthError(`unknown kid ${JSON.stringify(kid)}: no such key in the JWKS (was the identity provider's key rotated?)`);
}

function requireRsa(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigError(`${what} is ${key.asymmetricKeyType ?? 'not asymmetric'}; RS256 needs an RSA key`);
}

// ---------------------------------------------------------------------------------------------
// Verification

/** Builds a verifier for one configuration; throws ConfigError for a bad configuration. */
export function createAuthenticator(config: AuthConfig): Authenticator {
  const keys = loadVerificationKeys(config);
  const options: jwt.VerifyOptions = {
    // The one algorithm of the configured key: `none`, and HS256 signed with an RSA public key, never pass.
    algorithms: [keys.algorithm],
    clockTolerance: config.clockToleranceSec ?? 5,
  };
  if (config.issuer !== undefined) options.issuer = config.issuer;
  if (config.audience !== undefined) options.audience = config.audience;
  return {
    verify(authorization) {
      // Only a missing header is anonymous; anything present must be a valid token.
      if (authorization === undefined || authorization === null) return { identity: ANONYMOUS, expiresAt: null };
      const token = bearerToken(authorization);
      const header = decodeHeader(token);
      checkAlgorithm(header.alg, keys.algorithm);
      const payload = verifySignatureAndTime(token, keys.keyFor(header.kid), options, config);
      return verifiedToken(payload);
    },
  };
}

function bearerToken(authorization: string): string {
  // The auth scheme is case-insensitive (RFC 9110 11.1).
  const match = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(authorization.trim());
  if (match) return match[1] as string;
  if (!/^Bearer\b/i.test(authorization.trim())) throw new AuthError('malformed Authorization header: expected "Bearer <JWT>"');
  throw new AuthError('malformed bearer token: expected a JWT (three base64url parts separated by dots)');
}

function decodeHeader(token: string): { alg: unknown; kid: string | undefined } {
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true });
  } catch {
    decoded = null; // jws throws on a `typ: JWT` token whose payload is not JSON
  }
  if (!decoded || typeof decoded.header !== 'object') throw new AuthError('malformed bearer token: its header or payload is not base64url JSON');
  const kid = typeof decoded.header.kid === 'string' ? decoded.header.kid : undefined;
  return { alg: decoded.header.alg, kid };
}

function checkAlgorithm(alg: unknown, expected: Algorithm): void {
  if (alg === expected) return;
  if (typeof alg === 'string' && alg.toLowerCase() === 'none') throw new AuthError(`wrong algorithm: unsigned tokens (alg "none") are refused; expected ${expected}`);
  throw new AuthError(`wrong algorithm: token is signed with ${JSON.stringify(alg) ?? 'no alg'}, this gateway accepts only ${expected}`);
}

function verifySignatureAndTime(token: string, key: KeyObject, options: jwt.VerifyOptions, config: AuthConfig): unknown {
  try {
    return jwt.verify(token, key, options);
  } catch (e) {
    throw authErrorFrom(e, config);
  }
}

/** jsonwebtoken's messages ("jwt expired") are terse; say what failed and, for time, when. */
function authErrorFrom(e: unknown, config: AuthConfig): AuthError {
  if (e instanceof jwt.TokenExpiredError) return new AuthError(`token expired at ${e.expiredAt.toISOString()}`);
  if (e instanceof jwt.NotBeforeError) return new AuthError(`token is not valid before ${e.date.toISOString()}`);
  const message = e instanceof Error ? e.message : String(e);
  if (message === 'invalid signature') return new AuthError('bad signature: the token was not signed by the configured key');
  if (message.startsWith('jwt issuer invalid')) return new AuthError(`claims invalid: iss must be ${JSON.stringify(config.issuer)}`);
  if (message.startsWith('jwt audience invalid')) return new AuthError(`claims invalid: aud must include ${JSON.stringify(config.audience)}`);
  if (message === 'invalid exp value' || message === 'invalid nbf value') return new AuthError(`claims invalid: ${message.slice(8)} must be a number of seconds`);
  return new AuthError(`invalid token: ${message}`);
}

function verifiedToken(payload: unknown): VerifiedToken {
  if (typeof payload !== 'object' || payload === null) throw new AuthError('claims invalid: the token payload is not a JSON object');
  const claims = payload as Record<string, unknown>;
  // jsonwebtoken only checks exp when present; a token that never expires cannot be revoked.
  if (claims.exp === undefined) throw new AuthError('claims invalid: the token has no exp; tokens must expire');
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new AuthError('claims invalid: sub must be a non-empty string');
  return { identity: { sub: claims.sub, roles: rolesOf(claims) }, expiresAt: (claims.exp as number) * 1000 };
}

/** `roles` (array) and/or `role` (one string); roles this API does not know are dropped, not errors. */
function rolesOf(claims: Record<string, unknown>): Role[] {
  const { roles, role } = claims;
  if (roles !== undefined && !Array.isArray(roles)) throw new AuthError('claims invalid: roles must be an array of strings');
  if (role !== undefined && typeof role !== 'string') throw new AuthError('claims invalid: role must be a string');
  const given: unknown[] = [...((roles as unknown[] | undefined) ?? []), ...(role === undefined ? [] : [role])];
  return ROLES.filter((r) => given.includes(r));
}
