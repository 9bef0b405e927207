// Unit tests of development tokens: signDevToken and the token CLI (scripts/token.ts). Pure: no
// broker or Redis (run with STREAMGRAPH_TEST_INFRA=off).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { createAuthenticator } from './auth';
import { authConfigFromEnv, DEV_JWT_SECRET } from './authConfigFromEnv';
import { bearer, pemOf, rsaPair, SECRET } from './authTestKit';
import { devTokenSigningFromEnv, signDevToken } from './token';

const ROOT = path.resolve(__dirname, '..');

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
