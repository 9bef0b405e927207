// The signed identity the Apollo and Hive gateways of the benchmark forward to subgraphs.
// They have no notion of the product's JWTs, so they forward a fixed admin (every access check
// passes), re-signed every minute because a signed identity expires after IDENTITY_TTL_MS.
import { signIdentity, type Identity } from '../../platform/identity';

export const BENCH_ADMIN: Identity = { sub: 'bench-admin', roles: ['admin'] };

const RESIGN_MS = 60_000;

/**
 * A function returning a valid `x-streamgraph-identity` value for BENCH_ADMIN. Signing once a
 * minute rather than per request spares these gateways the HMAC: a choice in their favour.
 */
export function createAdminIdentity(secret: string): () => string {
  let signedAt = 0;
  let value = '';
  return () => {
    const now = Date.now();
    if (now - signedAt >= RESIGN_MS) {
      value = signIdentity(BENCH_ADMIN, secret, now);
      signedAt = now;
    }
    return value;
  };
}

/** GATEWAY_IDENTITY_SECRET, required: the benchmark always passes one to every process. */
export function identitySecretOrExit(): string {
  const secret = process.env.GATEWAY_IDENTITY_SECRET;
  if (!secret) {
    console.error('GATEWAY_IDENTITY_SECRET is not set; the benchmark passes the secret it gave the subgraphs');
    process.exit(1);
  }
  return secret;
}
