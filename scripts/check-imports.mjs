// Holds the architecture's import direction: gateway -> platform -> schema, and
// subgraphs/<name> -> subgraphs/runtime -> platform -> schema. The gateway never imports the
// subgraphs' runtime; subgraphs never import each other. Prints each violation; exits 1 if any.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const layers = [
  // [folder, what it may import besides itself and packages]
  ['schema', []],
  ['platform', ['schema']],
  ['subgraphs/runtime', ['schema', 'platform']],
  ['infra', ['schema', 'platform', 'subgraphs/runtime']],
  ['gateway', ['schema', 'platform']],
];

function areaOf(file) {
  const rel = path.relative(root, file).split(path.sep).join('/');
  if (rel.startsWith('subgraphs/') && !rel.startsWith('subgraphs/runtime/')) {
    const name = rel.split('/')[1];
    return { area: `subgraphs/${name}`, allowed: ['schema', 'platform', 'subgraphs/runtime'] };
  }
  for (const [folder, allowed] of layers) if (rel === folder || rel.startsWith(`${folder}/`)) return { area: folder, allowed };
  return null; // test, bench, scripts: top of the graph, may import anything
}

function* tsFiles(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(p);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) yield p;
  }
}

const violations = [];
for (const top of ['schema', 'platform', 'subgraphs', 'infra', 'gateway']) {
  const dir = path.join(root, top);
  if (!fs.existsSync(dir)) continue;
  for (const file of tsFiles(dir)) {
    const from = areaOf(file);
    if (!from) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import|require\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = areaOf(path.resolve(path.dirname(file), m[1]));
      // Product code never reaches up into tests, benchmarks or scripts (target null).
      const targetName = target ? target.area : 'test, bench or scripts';
      if (target && (target.area === from.area || from.allowed.includes(target.area))) continue;
      violations.push(`${path.relative(root, file)}: imports ${m[1]} (${from.area} may not import ${targetName})`);
    }
  }
}
for (const v of violations) console.error(v);
if (violations.length) process.exit(1);
console.log('imports flow one way: ok');
