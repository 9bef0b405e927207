// `npm run licences`: the runtime dependencies (from package-lock.json, development tools left
// out) whose licence is not MIT or Apache-2.0, grouped by licence, each with the direct
// dependencies that bring it. The README's licence table is this output with explanations;
// test/licences.test.ts keeps the two in step.
import fs from 'node:fs';
import path from 'node:path';

interface LockEntry {
  readonly version?: string;
  readonly license?: string;
  readonly dev?: boolean;
  readonly devOptional?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

export interface LicencedPackage {
  readonly name: string;
  readonly version: string;
  readonly licence: string;
  /** The project's direct dependencies through which it is installed. */
  readonly via: string[];
}

const ROOT = path.resolve(__dirname, '..');
const PERMISSIVE_WITHOUT_NOTE = new Set(['MIT', 'Apache-2.0']);

/** Installed path of `name` as seen from the package at `from` (node's lookup, on lock paths). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return null;
    const at = dir.lastIndexOf('/node_modules/');
    dir = at === -1 ? '' : dir.slice(0, at);
  }
}

export function runtimeLicences(lockPath = path.join(ROOT, 'package-lock.json')): LicencedPackage[] {
  const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { packages: Record<string, LockEntry> };
  const packages = lock.packages;
  const root = packages[''] ?? {};
  const via = new Map<string, Set<string>>();
  // Walk from each direct runtime dependency, noting it as the way in for all it brings.
  for (const direct of Object.keys(root.dependencies ?? {})) {
    const start = resolveIn(packages, '', direct);
    if (!start) continue;
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const at = stack.pop()!;
      if (seen.has(at)) continue;
      seen.add(at);
      (via.get(at) ?? via.set(at, new Set()).get(at)!).add(direct);
      const entry = packages[at];
      for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
        const next = resolveIn(packages, at, dep);
        if (next) stack.push(next);
      }
    }
  }
  const out: LicencedPackage[] = [];
  for (const [at, directs] of via) {
    const entry = packages[at];
    const licence = entry.license ?? 'UNKNOWN';
    if (PERMISSIVE_WITHOUT_NOTE.has(licence)) continue;
    out.push({ name: at.slice(at.lastIndexOf('node_modules/') + 'node_modules/'.length), version: entry.version ?? '?', licence, via: [...directs].sort() });
  }
  return out.sort((a, b) => a.licence.localeCompare(b.licence) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

if (require.main === module) {
  const rows = runtimeLicences();
  console.log('| licence | packages | brought by |\n|---|---|---|');
  const byLicence = new Map<string, LicencedPackage[]>();
  for (const r of rows) byLicence.set(r.licence, [...(byLicence.get(r.licence) ?? []), r]);
  for (const [licence, list] of byLicence) {
    const names = [...new Set(list.map((p) => `\`${p.name}@${p.version}\``))].join(', ');
    const vias = [...new Set(list.flatMap((p) => p.via))].map((v) => `\`${v}\``).join(', ');
    console.log(`| ${licence} | ${names} | ${vias} |`);
  }
}
