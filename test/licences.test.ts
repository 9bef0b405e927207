// The README's licence section tells the truth: the product's licence is package.json's, and
// every runtime dependency whose licence is not MIT or Apache-2.0 is listed, version by version.
import fs from 'node:fs';
import path from 'node:path';
import { runtimeLicences } from '../scripts/licences';

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Licences'));

it('states the licence package.json declares', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { license: string };
  expect(pkg.license).toBe('Apache-2.0');
  expect(section).toMatch(/\*\*Apache License 2\.0\*\*/);
});

it('lists every runtime dependency that is not under MIT or Apache-2.0 (npm run licences)', () => {
  const rows = runtimeLicences();
  expect(rows.length).toBeGreaterThan(0);
  const missing = rows.filter((r) => !section.includes(`\`${r.name}@${r.version}\``)).map((r) => `${r.name}@${r.version} (${r.licence})`);
  expect(missing).toEqual([]);
});

it('names the Elastic-licensed packages and where they run', () => {
  for (const r of runtimeLicences().filter((x) => x.licence === 'Elastic-2.0')) expect(section).toContain(r.name);
});
