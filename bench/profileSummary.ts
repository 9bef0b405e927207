// Summarises V8 CPU profiles (node --cpu-prof, as the benchmarks write them with
// --profile-dir / BENCH_PROFILE_DIR): where one process's time went, by function and by
// package or project folder, as shares of its samples. Used to keep docs/performance.md's budget.
//   npx tsx bench/profileSummary.ts <dir or .cpuprofile> [...] [--top N]
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: a package, a project folder, Node's own code, or V8 itself. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (file.startsWith('node:')) return `node:${file.slice(5).split('/')[0]}`;
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel.split('/').slice(0, 2).join('/');
}

export function summarise(profile: Profile, top: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const total = [...selfMs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    const fn = `${functionName || '(anonymous)'} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(`${fn} [${area}]`, (byFunction.get(`${fn} [${area}]`) ?? 0) + ms);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
  }
  const share = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ what: k, pct: Math.round((1000 * ms) / total) / 10 }));
  return { sampledMs: Math.round(total), idlePct: Math.round((1000 * (selfMs.get(idleId(profile)) ?? 0)) / total) / 10, areas: share(byArea), functions: share(byFunction) };
}

function idleId(profile: Profile): number {
  return profile.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id ?? -1;
}

function profilesIn(target: string): string[] {
  if (fs.statSync(target).isFile()) return [target];
  return fs.readdirSync(target, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(target, e.name);
    return e.isDirectory() ? profilesIn(p) : e.name.endsWith('.cpuprofile') ? [p] : [];
  });
}

function main() {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 15;
  if (args.length === 0) throw new Error('usage: tsx bench/profileSummary.ts <dir or .cpuprofile> [...] [--top N]');
  for (const file of args.flatMap(profilesIn)) {
    const s = summarise(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile, top);
    console.log(`\n== ${file}: ${s.sampledMs} ms sampled, idle ${s.idlePct}%`);
    console.log('  by area:     ' + s.areas.map((a) => `${a.what} ${a.pct}%`).join(', '));
    for (const f of s.functions) console.log(`  ${String(f.pct).padStart(5)}%  ${f.what}`);
  }
}

if (require.main === module) main();
