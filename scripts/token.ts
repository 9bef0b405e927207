// `npm run token -- --sub <id> --role <role> [--role <role>] [--expires 3600]`: prints a dev JWT
// (HS256, JWT_SECRET or the development secret) and nothing else, so `$(npm run -s token ...)` works.
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../platform/identity';
import { devTokenSigningFromEnv, isRole, signDevToken } from '../gateway/token';

const USAGE = `usage: npm run token -- --sub <id> --role <role> [--role <role>] [--expires <seconds>]\nroles: ${ROLES.join(', ')}`;

/** A mistake in the arguments: print it with the usage and exit 2. */
class UsageError extends Error {}

function parse(argv: string[]): { sub: string; roles: Role[]; expiresInSec: number } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { sub: { type: 'string' }, role: { type: 'string', multiple: true }, expires: { type: 'string' } },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const sub = values.sub?.trim();
  if (!sub) throw new UsageError('--sub <id> is required (the customer, shopper or store id)');
  const roles = values.role ?? [];
  if (roles.length === 0) throw new UsageError('at least one --role is required');
  const unknown = roles.filter((r) => !isRole(r));
  if (unknown.length) throw new UsageError(`unknown role ${unknown.map((r) => JSON.stringify(r)).join(', ')}; use one of ${ROLES.join(', ')}`);
  const expiresInSec = values.expires === undefined ? 3600 : Number(values.expires);
  if (!Number.isInteger(expiresInSec) || expiresInSec <= 0) throw new UsageError(`--expires must be a positive whole number of seconds, got ${values.expires}`);
  return { sub, roles: [...new Set(roles as Role[])], expiresInSec };
}

function main(): void {
  try {
    const args = parse(process.argv.slice(2));
    process.stdout.write(`${signDevToken({ ...args, ...devTokenSigningFromEnv() })}\n`);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`token: ${e.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`token: ${(e as Error).message}`);
    process.exit(1);
  }
}

main();
