// The gateway as tests run it: registry mode on the test's namespace, the test identity
// secret, an HS256 key of the test's own, introspection on and the default limits.
import type { Redis } from 'ioredis';
import { DEFAULT_LIMITS } from '../../gateway/limits';
import type { GatewayConfig } from '../../gateway/server';
import { createLogger } from '../../platform/logger';
import { TEST_IDENTITY_SECRET } from './graphqlClient';

export function testGatewayConfig(opts: { namespace: string; redis: Redis; jwtSecret: string; label: string }, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    port: 0,
    supergraph: { kind: 'registry', namespace: opts.namespace, pollMs: 500 },
    redis: opts.redis,
    identitySecret: TEST_IDENTITY_SECRET,
    auth: { hs256Secret: opts.jwtSecret },
    limits: DEFAULT_LIMITS,
    introspection: true,
    safelist: null,
    logger: createLogger(opts.label, 'warn'),
    ...overrides,
  };
}
