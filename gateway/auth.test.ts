// Unit tests for client authentication: token checks, key sources, environment settings and the
// token CLI. Pure: no broker or Redis (run with STREAMGRAPH_TEST_INFRA=off).
import { execFile } from 'node:child_process';
import { createHmac, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { ConfigError } from '../platform/configError';
import { AuthError, authConfigFromEnv, createAuthenticator, DEV_JWT_SECRET, type AuthConfig } from './auth';
import { devTokenSigningFromEnv, signDevToken } from './token';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const ROOT = path.resolve(__dirname, '..');
const nowSec = () => Math.floor(Date.now() / 1000);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Builds a token by hand, for headers jsonwebtoken refuses to sign (alg none, HS256 keyed with a public key). */
function forge(header: object, payload: object, sign: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}
const hs256 = (payload: object, secret = SECRET, options: jwt.SignOptions = {}) => jwt.sign(payload, secret, { algorithm: 'HS256', ...options });
const bearer = (token: string) => `Bearer ${token}`;
const valid = () => ({ sub: 'c1', roles: ['customer'], exp: nowSec() + 600 });

function expectAuthError(verify: () => unknown, message: RegExp): void {
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

const rsaPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const jwkOf = (key: KeyObject, kid: string): JsonWebKey => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
const rs256 = (payload: object, key: KeyObject, kid?: string) =>
  jwt.sign(payload, key, kid === undefined ? { algorithm: 'RS256' } : { algorithm: 'RS256', keyid: kid });

describe('HS256', () => {
  const auth = createAuthenticator({ hs256Secret: SECRET });

  test('a valid token gives its sub, roles and expiry', () => {
    const claims = valid();
    expect(auth.verify(bearer(hs256(claims)))).toEqual({ identity: { sub: 'c1', roles: ['customer'] }, expiresAt: claims.exp * 1000 });
  });

  test('the Bearer scheme is case-insensitive', () => {
    expect(auth.verify(`bearer ${hs256(valid())}`).identity.sub).toBe('c1');
  });

  test('no Authorization header is anonymous', () => {
    expect(auth.verify(undefined)).toEqual({ identity: { sub: null, roles: [] }, expiresAt: null });
    expect(auth.verify(null)).toEqual({ identity: { sub: null, roles: [] }, expiresAt: null });
  });

  test('a header that is not "Bearer <jwt>" is malformed, never anonymous', () => {
    expectAuthError(() => auth.verify(''), /malformed Authorization header/);
    expectAuthError(() => auth.verify('Basic dXNlcjpwYXNz'), /malformed Authorization header/);
    expectAuthError(() => auth.verify(hs256(valid())), /malformed Authorization header/);
    expectAuthError(() => auth.verify('Bearer'), /malformed bearer token/);
    expectAuthError(() => auth.verify('Bearer not-a-jwt'), /malformed bearer token/);
    expectAuthError(() => auth.verify('Bearer a.b.c'), /malformed bearer token/);
  });

  test('a token signed with another secret has a bad signature', () => {
    expectAuthError(() => auth.verify(bearer(hs256(valid(), 'another-secret'))), /bad signature/);
  });

  test('an altered payload has a bad signature', () => {
    const [header, , signature] = hs256(valid()).split('.');
    const admin = b64({ ...valid(), roles: ['admin'] });
    expectAuthError(() => auth.verify(bearer(`${header}.${admin}.${signature}`)), /bad signature/);
  });

  test('an expired token says when it expired', () => {
    const exp = nowSec() - 60;
    expectAuthError(() => auth.verify(bearer(hs256({ ...valid(), exp }))), new RegExp(`expired at ${new Date(exp * 1000).toISOString()}`));
  });

  test('a token expired within the clock tolerance still passes', () => {
    expect(auth.verify(bearer(hs256({ ...valid(), exp: nowSec() - 2 }))).identity.sub).toBe('c1');
    const strict = createAuthenticator({ hs256Secret: SECRET, clockToleranceSec: 0 });
    expectAuthError(() => strict.verify(bearer(hs256({ ...valid(), exp: nowSec() - 2 }))), /expired/);
  });

  test('a token without exp is refused', () => {
    expectAuthError(() => auth.verify(bearer(hs256({ sub: 'c1', roles: ['customer'] }))), /no exp/);
  });

  test('a token not yet valid (nbf) is refused', () => {
    expectAuthError(() => auth.verify(bearer(hs256({ ...valid(), nbf: nowSec() + 300 }))), /not valid before/);
  });

  test('alg none is refused', () => {
    const unsigned = forge({ alg: 'none', typ: 'JWT' }, valid(), () => '');
    expectAuthError(() => auth.verify(bearer(unsigned)), /wrong algorithm.*"none"/);
  });

  test('another HMAC algorithm is refused', () => {
    expectAuthError(() => auth.verify(bearer(hs256(valid(), SECRET, { algorithm: 'HS512' }))), /wrong algorithm.*HS512.*HS256/);
  });

  test('sub must be a non-empty string', () => {
    expectAuthError(() => auth.verify(bearer(hs256({ roles: ['customer'], exp: nowSec() + 60 }))), /sub must be a non-empty string/);
    expectAuthError(() => auth.verify(bearer(hs256({ sub: 42, roles: [], exp: nowSec() + 60 }))), /sub must be/);
  });

  test('unknown roles are dropped; a single role claim is accepted', () => {
    const verify = (claims: object) => auth.verify(bearer(hs256({ sub: 'u', exp: nowSec() + 60, ...claims }))).identity.roles;
    expect(verify({ roles: ['shopper', 'superuser', 7, 'admin'] })).toEqual(['shopper', 'admin']);
    expect(verify({ role: 'store' })).toEqual(['store']);
    expect(verify({ roles: ['customer'], role: 'customer' })).toEqual(['customer']);
    expect(verify({})).toEqual([]);
    expectAuthError(() => verify({ roles: 'admin' }), /roles must be an array/);
  });
});

describe('RS256', () => {
  const { publicKey, privateKey } = rsaPair();
  const pem = pemOf(publicKey);
  const auth = createAuthenticator({ rs256PublicKeyPem: pem });

  test('a token signed with the private key passes', () => {
    expect(auth.verify(bearer(rs256(valid(), privateKey))).identity).toEqual({ sub: 'c1', roles: ['customer'] });
  });

  test('a token signed with another RSA key has a bad signature', () => {
    expectAuthError(() => auth.verify(bearer(rs256(valid(), rsaPair().privateKey))), /bad signature/);
  });

  test('algorithm confusion: an HS256 token keyed with the public key PEM is refused', () => {
    const confused = forge({ alg: 'HS256', typ: 'JWT' }, valid(), (input) => createHmac('sha256', pem).update(input).digest('base64url'));
    expectAuthError(() => auth.verify(bearer(confused)), /wrong algorithm.*HS256.*only RS256/);
  });

  test('alg none is refused', () => {
    expectAuthError(() => auth.verify(bearer(forge({ alg: 'none' }, valid(), () => ''))), /wrong algorithm/);
  });

  test('an RS256 token presented to an HS256 configuration is refused', () => {
    const hsAuth = createAuthenticator({ hs256Secret: SECRET });
    expectAuthError(() => hsAuth.verify(bearer(rs256(valid(), privateKey))), /wrong algorithm.*RS256.*only HS256/);
  });

  test('a private key or a non-key is a ConfigError', () => {
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => createAuthenticator({ rs256PublicKeyPem: privatePem })).toThrow(/private key/);
    expect(() => createAuthenticator({ rs256PublicKeyPem: 'not a key' })).toThrow(ConfigError);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(() => createAuthenticator({ rs256PublicKeyPem: pemOf(ec) })).toThrow(/RSA/);
  });
});

describe('JWKS', () => {
  const k1 = rsaPair();
  const k2 = rsaPair();
  const auth = createAuthenticator({ jwks: { keys: [jwkOf(k1.publicKey, 'k1'), jwkOf(k2.publicKey, 'k2')] } });

  test('picks the key by kid', () => {
    expect(auth.verify(bearer(rs256(valid(), k1.privateKey, 'k1'))).identity.sub).toBe('c1');
    expect(auth.verify(bearer(rs256(valid(), k2.privateKey, 'k2'))).identity.sub).toBe('c1');
  });

  test('a token signed by one key but naming another has a bad signature', () => {
    expectAuthError(() => auth.verify(bearer(rs256(valid(), k1.privateKey, 'k2'))), /bad signature/);
  });

  test('an unknown kid is refused', () => {
    expectAuthError(() => auth.verify(bearer(rs256(valid(), k1.privateKey, 'k9'))), /unknown kid "k9"/);
  });

  test('a token without kid is refused when there are several keys, accepted when there is one', () => {
    expectAuthError(() => auth.verify(bearer(rs256(valid(), k1.privateKey))), /no kid/);
    const single = createAuthenticator({ jwks: { keys: [jwkOf(k1.publicKey, 'k1')] } });
    expect(single.verify(bearer(rs256(valid(), k1.privateKey))).identity.sub).toBe('c1');
  });

  test('HS256 tokens are refused', () => {
    expectAuthError(() => auth.verify(bearer(hs256(valid(), SECRET, { keyid: 'k1' }))), /wrong algorithm/);
  });

  test('non-signing keys are skipped; no usable key is a ConfigError', () => {
    const encryption = { ...jwkOf(k2.publicKey, 'enc'), use: 'enc' };
    const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'ec' };
    const mixed = createAuthenticator({ jwks: { keys: [encryption, ec, jwkOf(k1.publicKey, 'k1')] } });
    expect(mixed.verify(bearer(rs256(valid(), k1.privateKey, 'k1'))).identity.sub).toBe('c1');
    expectAuthError(() => mixed.verify(bearer(rs256(valid(), k2.privateKey, 'enc'))), /unknown kid/);
    expect(() => createAuthenticator({ jwks: { keys: [encryption] } })).toThrow(/no RSA signing keys/);
  });
});

describe('issuer and audience', () => {
  const auth = createAuthenticator({ hs256Secret: SECRET, issuer: 'https://idp.example', audience: 'streamgraph' });
  const sign = (claims: object) => bearer(hs256({ ...valid(), ...claims }));

  test('matching iss and aud pass', () => {
    expect(auth.verify(sign({ iss: 'https://idp.example', aud: ['other', 'streamgraph'] })).identity.sub).toBe('c1');
  });

  test('a wrong or missing issuer is refused', () => {
    expectAuthError(() => auth.verify(sign({ iss: 'https://evil.example', aud: 'streamgraph' })), /claims invalid: iss must be "https:\/\/idp.example"/);
    expectAuthError(() => auth.verify(sign({ aud: 'streamgraph' })), /iss must be/);
  });

  test('a wrong audience is refused', () => {
    expectAuthError(() => auth.verify(sign({ iss: 'https://idp.example', aud: 'billing' })), /claims invalid: aud must include "streamgraph"/);
  });
});

describe('createAuthenticator configuration', () => {
  test.each<[string, AuthConfig]>([
    ['no key source', {}],
    ['two key sources', { hs256Secret: SECRET, rs256PublicKeyPem: 'x' }],
    ['an empty secret', { hs256Secret: '' }],
  ])('%s is a ConfigError', (_, config) => {
    expect(() => createAuthenticator(config)).toThrow(ConfigError);
  });
});

describe('authConfigFromEnv', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamgraph-auth-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test('development without a key uses the development secret', () => {
    expect(authConfigFromEnv({})).toEqual({ hs256Secret: DEV_JWT_SECRET });
    expect(authConfigFromEnv({ NODE_ENV: 'test', JWT_SECRET: '  ' })).toEqual({ hs256Secret: DEV_JWT_SECRET });
  });

  test('production without a key is a ConfigError saying what to set', () => {
    expect(() => authConfigFromEnv({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => authConfigFromEnv({ NODE_ENV: 'production' })).toThrow(/set JWT_SECRET .*JWT_PUBLIC_KEY_FILE .*JWKS_FILE/);
  });

  test('production refuses the development secret and short secrets', () => {
    expect(() => authConfigFromEnv({ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET })).toThrow(/development secret/);
    expect(() => authConfigFromEnv({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(/at least 32/);
    expect(authConfigFromEnv({ NODE_ENV: 'production', JWT_SECRET: SECRET })).toEqual({ hs256Secret: SECRET });
  });

  test('JWT_SECRET with issuer and audience', () => {
    expect(authConfigFromEnv({ JWT_SECRET: SECRET, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'streamgraph' })).toEqual({
      hs256Secret: SECRET,
      issuer: 'https://idp.example',
      audience: 'streamgraph',
    });
  });

  test('two key sources are a ConfigError', () => {
    expect(() => authConfigFromEnv({ JWT_SECRET: SECRET, JWKS_FILE: '/x' })).toThrow(/JWT_SECRET and JWKS_FILE .*only one/);
  });

  test('JWT_PUBLIC_KEY_FILE is read and its tokens verify', () => {
    const { publicKey, privateKey } = rsaPair();
    const config = authConfigFromEnv({ JWT_PUBLIC_KEY_FILE: write('public.pem', pemOf(publicKey)) });
    expect(createAuthenticator(config).verify(bearer(rs256(valid(), privateKey))).identity.sub).toBe('c1');
  });

  test('JWKS_FILE is read and its tokens verify by kid', () => {
    const { publicKey, privateKey } = rsaPair();
    const config = authConfigFromEnv({ JWKS_FILE: write('jwks.json', JSON.stringify({ keys: [jwkOf(publicKey, 'k1')] })) });
    expect(createAuthenticator(config).verify(bearer(rs256(valid(), privateKey, 'k1'))).identity.sub).toBe('c1');
  });

  test('an unreadable file is a ConfigError naming the variable and file', () => {
    const missing = path.join(dir, 'missing.pem');
    expect(() => authConfigFromEnv({ JWT_PUBLIC_KEY_FILE: missing })).toThrow(ConfigError);
    expect(() => authConfigFromEnv({ JWT_PUBLIC_KEY_FILE: missing })).toThrow(`JWT_PUBLIC_KEY_FILE=${missing} cannot be read (ENOENT)`);
    expect(() => authConfigFromEnv({ JWKS_FILE: missing })).toThrow(`JWKS_FILE=${missing} cannot be read`);
  });

  test('a bad PEM or bad JSON is a ConfigError naming the variable and file', () => {
    const notPem = write('bad.pem', 'hello');
    expect(() => authConfigFromEnv({ JWT_PUBLIC_KEY_FILE: notPem })).toThrow(`JWT_PUBLIC_KEY_FILE=${notPem}: the key is not a PEM public key`);
    const notJson = write('bad.json', '{keys:');
    expect(() => authConfigFromEnv({ JWKS_FILE: notJson })).toThrow(new RegExp(`JWKS_FILE=${notJson}.*not valid JSON`));
    const noKeys = write('nokeys.json', '{"kty":"RSA"}');
    expect(() => authConfigFromEnv({ JWKS_FILE: noKeys })).toThrow(/no "keys" array/);
  });
});

describe('dev tokens', () => {
  test('signDevToken makes a token the gateway accepts, defaulting to the dev secret and one hour', () => {
    const { identity, expiresAt } = createAuthenticator(authConfigFromEnv({})).verify(bearer(signDevToken({ sub: 's1', roles: ['shopper', 'admin'] })));
    expect(identity).toEqual({ sub: 's1', roles: ['shopper', 'admin'] });
    expect(expiresAt! - Date.now()).toBeGreaterThan(3590_000);
    expect(expiresAt! - Date.now()).toBeLessThanOrEqual(3600_000);
  });

  test('signDevToken follows JWT_SECRET, JWT_ISSUER and JWT_AUDIENCE', () => {
    const env = { JWT_SECRET: SECRET, JWT_ISSUER: 'dev', JWT_AUDIENCE: 'streamgraph' };
    const token = signDevToken({ sub: 'c1', roles: ['customer'], ...devTokenSigningFromEnv(env) });
    expect(createAuthenticator(authConfigFromEnv(env)).verify(bearer(token)).identity.sub).toBe('c1');
  });

  test('signDevToken refuses unknown roles and bad lifetimes', () => {
    expect(() => signDevToken({ sub: 'c1', roles: ['root' as never] })).toThrow(/unknown role root/);
    expect(() => signDevToken({ sub: 'c1', roles: ['customer'], expiresInSec: 0 })).toThrow(/positive/);
  });

  test('no dev tokens when only RS256 keys are configured', () => {
    const file = path.join(os.tmpdir(), `streamgraph-auth-${process.pid}.pem`);
    fs.writeFileSync(file, pemOf(rsaPair().publicKey));
    try {
      expect(() => devTokenSigningFromEnv({ JWT_PUBLIC_KEY_FILE: file })).toThrow(/identity provider/);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe('token CLI', () => {
  const run = promisify(execFile);
  /** Runs scripts/token.ts with no JWT settings inherited, so the result does not depend on the shell. */
  const token = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JWT_') && k !== 'JWKS_FILE'));
    return run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { cwd: ROOT, env: { ...base, NODE_ENV: 'development', ...env } });
  };
  const failure = (args: string[], env?: NodeJS.ProcessEnv) =>
    token(args, env).then(
      () => {
        throw new Error('expected the CLI to fail');
      },
      (e: { code: number; stderr: string; stdout: string }) => e,
    );

  test('prints just a JWT signed with the dev secret', async () => {
    const { stdout } = await token(['--sub', 'c1', '--role', 'customer']);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = jwt.verify(stdout.trim(), DEV_JWT_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'c1', roles: ['customer'] });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(createAuthenticator(authConfigFromEnv({})).verify(bearer(stdout.trim())).identity).toEqual({ sub: 'c1', roles: ['customer'] });
  });

  test('several roles and --expires', async () => {
    const { stdout } = await token(['--sub', 's1', '--role', 'shopper', '--role', 'admin', '--expires', '60']);
    const claims = jwt.verify(stdout.trim(), DEV_JWT_SECRET) as jwt.JwtPayload;
    expect(claims.roles).toEqual(['shopper', 'admin']);
    expect(claims.exp! - claims.iat!).toBe(60);
  });

  test('an unknown role fails with the list of roles', async () => {
    const e = await failure(['--sub', 'c1', '--role', 'root']);
    expect(e.code).toBe(2);
    expect(e.stdout).toBe('');
    expect(e.stderr).toMatch(/unknown role "root"; use one of customer, shopper, store, admin/);
  });

  test('a missing --sub fails with the usage', async () => {
    const e = await failure(['--role', 'customer']);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--sub <id> is required[\s\S]*usage: npm run token/);
  });

  test('refuses when only RS256 keys are configured', async () => {
    const file = path.join(os.tmpdir(), `streamgraph-cli-${process.pid}.pem`);
    fs.writeFileSync(file, pemOf(rsaPair().publicKey));
    try {
      const e = await failure(['--sub', 'c1', '--role', 'customer'], { JWT_PUBLIC_KEY_FILE: file });
      expect(e.code).toBe(1);
      expect(e.stderr).toMatch(/JWT_PUBLIC_KEY_FILE is set.*identity provider/);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
