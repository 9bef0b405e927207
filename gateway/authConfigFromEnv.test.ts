// Unit tests of the JWT_* settings: key sources, production rules, key files. Pure: no broker or
// Redis (run with STREAMGRAPH_TEST_INFRA=off).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../platform/configError';
import { createAuthenticator } from './auth';
import { authConfigFromEnv, DEV_JWT_SECRET } from './authConfigFromEnv';
import { bearer, jwkOf, pemOf, rs256, rsaPair, SECRET, valid } from './authTestKit';

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
