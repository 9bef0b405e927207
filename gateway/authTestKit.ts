// Helpers of the gateway's authentication tests (auth.test.ts, authConfigFromEnv.test.ts,
// token.test.ts): tokens signed with jsonwebtoken or forged by hand, RSA keys as PEM and JWK.
import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AuthError } from './auth';

export const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
export const nowSec = () => Math.floor(Date.now() / 1000);

export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Builds a token by hand, for headers jsonwebtoken refuses to sign (alg none, HS256 keyed with a public key). */
export function forge(header: object, payload: object, sign: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}
export const hs256 = (payload: object, secret = SECRET, options: jwt.SignOptions = {}) => jwt.sign(payload, secret, { algorithm: 'HS256', ...options });
export const bearer = (token: string) => `Bearer ${token}`;
export const valid = () => ({ sub: 'c1', roles: ['customer'], exp: nowSec() + 600 });

export function expectAuthError(verify: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    verify();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(AuthError);
  expect((thrown as AuthError).code).toBe('UNAUTHENTICATED');
  expect((thrown as AuthError).message).toMatch(message);
}

export const rsaPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
export const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
export const jwkOf = (key: KeyObject, kid: string): JsonWebKey => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
export const rs256 = (payload: object, key: KeyObject, kid?: string) =>
  jwt.sign(payload, key, kid === undefined ? { algorithm: 'RS256' } : { algorithm: 'RS256', keyid: kid });
