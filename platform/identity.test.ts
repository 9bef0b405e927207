// Signed identities: what the gateway signs the subgraphs accept; anything else is refused.
import { IDENTITY_TTL_MS, IdentityError, signIdentity, verifyIdentity } from './identity';

const secret = 'test-secret';

it('round-trips a signed identity', () => {
  const header = signIdentity({ sub: 'c-1', roles: ['customer'] }, secret);
  expect(verifyIdentity(header, secret)).toEqual({ sub: 'c-1', roles: ['customer'] });
});

it.each([
  ['missing', undefined, /missing x-streamgraph-identity/],
  ['malformed', 'abc', /malformed/],
  ['signed with another secret', signIdentity({ sub: 'c-1', roles: ['admin'] }, 'other'), /bad signature/],
])('refuses a %s identity', (_label, header, message) => {
  expect(() => verifyIdentity(header, secret)).toThrow(IdentityError);
  expect(() => verifyIdentity(header, secret)).toThrow(message);
});

it('refuses an identity whose claims were altered after signing', () => {
  const [, sig] = signIdentity({ sub: 'c-1', roles: ['customer'] }, secret).split('.');
  const forged = Buffer.from(JSON.stringify({ sub: 'c-1', roles: ['admin'], iat: Date.now() })).toString('base64url');
  expect(() => verifyIdentity(`${forged}.${sig}`, secret)).toThrow(/bad signature/);
});

it('refuses a replayed identity older than the TTL', () => {
  const header = signIdentity({ sub: 'c-1', roles: ['customer'] }, secret, Date.now() - IDENTITY_TTL_MS - 1000);
  expect(() => verifyIdentity(header, secret)).toThrow(/expired/);
});
