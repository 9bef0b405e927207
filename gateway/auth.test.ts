// Unit tests of token verification: HS256, RS256 and JWKS keys, expiry and claims, algorithm
// confusion, and bad configurations. Pure: no broker or Redis (run with STREAMGRAPH_TEST_INFRA=off).
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '../platform/configError';
import { createAuthenticator, type AuthConfig } from './auth';
import { b64, bearer, expectAuthError, forge, hs256, jwkOf, nowSec, pemOf, rs256, rsaPair, SECRET, valid } from './authTestKit';

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
