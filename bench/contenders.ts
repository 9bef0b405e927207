// The benchmark-only packages: the contenders the gateway is measured against (Hive Gateway)
// and what their runners share with them. They live in bench/package.json with their own lock,
// not in the root package.json: Hive Gateway declares Node >= 22, so in the root every
// `npm install` printed EBADENGINE warnings on the Node 20 the project supports, for a package
// only two benchmarks use. This file installs them into bench/node_modules on demand:
// `npm run bench:install` runs it, and so do bench:gateway and bench:subscriptions before they
// start. An installed set that matches bench/package.json is left alone.
//
// bench/node_modules holds only the packages bench/package.json names (install-strategy=shallow
// in bench/.npmrc, recorded in bench/package-lock.json): their own dependencies sit below them,
// so the rest of bench/ still resolves every other package from the root's node_modules.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const BENCH_DIR = __dirname;

/** name@version of each package bench/package.json names that bench/node_modules lacks (or holds at another version). */
export function missingContenders(): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(BENCH_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return Object.entries(manifest.dependencies)
    .filter(([name, version]) => installedVersion(name) !== version)
    .map(([name, version]) => `${name}@${version}`);
}

function installedVersion(name: string): string | undefined {
  try {
    const file = path.join(BENCH_DIR, 'node_modules', name, 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * For a runner that imports a contender: exits with one line saying how to install it, instead
 * of Node's "Cannot find module" stack. Imported for its effect, before the contender's import.
 */
export function exitUnlessContendersInstalled(): void {
  const missing = missingContenders();
  if (missing.length === 0) return;
  console.error(`bench: ${missing.join(', ')} not installed in bench/node_modules; run npm run bench:install`);
  process.exit(1);
}

/** `npm ci` in bench/ when anything is missing; returns the exit code. */
export function installContenders(): number {
  const missing = missingContenders();
  if (missing.length === 0) return 0;
  const major = Number(process.versions.node.split('.')[0]);
  console.log(`bench: installing the benchmark-only packages into bench/node_modules (${missing.join(', ')}), once`);
  if (major < 22) {
    // npm's EBADENGINE warnings would say the same at length; the benchmarks ran it on Node 20.
    console.log(`bench: Hive Gateway declares Node >= 22; it runs here on Node ${process.versions.node} for the benchmark only`);
  }
  // npm_execpath: the npm that runs this script (npm run bench:*), else the one on PATH.
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  const result = spawnSync(cmd, [...args, 'ci', '--prefix', BENCH_DIR, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bench: npm ci in bench/ failed (${result.error?.message ?? `exit ${result.status}`}); run it by hand: npm --prefix bench ci`);
    return result.status ?? 1;
  }
  const still = missingContenders();
  if (still.length) {
    console.error(`bench: after npm ci, bench/node_modules still lacks ${still.join(', ')}`);
    return 1;
  }
  return 0;
}

if (require.main === module) process.exit(installContenders());
