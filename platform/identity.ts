// The identity the gateway forwards to subgraphs: verified claims, signed with a secret
// only the gateway and subgraphs share, so a call that did not come through the gateway
// (or that altered the identity) is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';

// analyst: read-only staff (the data product catalog); it grants nothing in the domain subgraphs.
export const ROLES = ['customer', 'shopper', 'store', 'admin', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling. Anonymous callers have no subject and no roles. */
export interface Identity {
  readonly sub: string | null;
  readonly roles: readonly Role[];
}

export const ANONYMOUS: Identity = { sub: null, roles: [] };

/** The HTTP header (and graphql-ws connection param) carrying the signed identity. */
export const IDENTITY_HEADER = 'x-streamgraph-identity';

/** How long a signed identity stays valid: long enough for clock skew, short enough to stop replays. */
export const IDENTITY_TTL_MS = 5 * 60_000;

export class IdentityError extends Error {
  readonly code = 'UNAUTHENTICATED';
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const mac = (payload: string, secret: string) => createHmac('sha256', secret).update(payload).digest();

/** `<payload>.<hmac>`: payload is base64url JSON `{ sub, roles, iat }`. */
export function signIdentity(identity: Identity, secret: string, now = Date.now()): string {
  const payload = b64(JSON.stringify({ sub: identity.sub, roles: identity.roles, iat: now }));
  return `${payload}.${b64(mac(payload, secret))}`;
}

/** Checks the signature and age of a forwarded identity; throws IdentityError saying what is wrong. */
export function verifyIdentity(header: string | undefined | null, secret: string, now = Date.now()): Identity {
  if (!header) throw new IdentityError(`missing ${IDENTITY_HEADER}: subgraphs only answer calls made through the gateway`);
  const [payload, signature, extra] = header.split('.');
  if (!payload || !signature || extra !== undefined) throw new IdentityError(`malformed ${IDENTITY_HEADER}`);
  const expected = mac(payload, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new IdentityError(`${IDENTITY_HEADER} has a bad signature`);
  let claims: { sub?: unknown; roles?: unknown; iat?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw new IdentityError(`malformed ${IDENTITY_HEADER}`);
  }
  if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > IDENTITY_TTL_MS)
    throw new IdentityError(`${IDENTITY_HEADER} has expired`);
  const sub = typeof claims.sub === 'string' ? claims.sub : null;
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r)) : [];
  return { sub, roles };
}

export const hasRole = (identity: Identity, ...roles: Role[]) => roles.some((r) => identity.roles.includes(r));
