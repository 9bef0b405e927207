// The README's configuration table and the code agree: every setting in the table is read
// by the code, and every setting the code reads is in the table.
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..');

/** Environment names the code touches that are not settings of this product. */
const NOT_SETTINGS: Record<string, string> = {
  APOLLO_TELEMETRY_DISABLED: 'set by the gateway itself, not read',
  APOLLO_KEY: 'removed by the gateway so nothing reports to a vendor',
  APOLLO_GRAPH_REF: 'removed by the gateway so nothing reports to a vendor',
  APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: 'removed by the gateway so nothing reports to a vendor',
  PATH: 'where java, mvn and redis-server are looked for',
  STREAMGRAPH_TEST_RUN: "set by the test run itself to name (and delete) its topics",
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function settingsReadByCode(): Set<string> {
  const files = [...['gateway', 'platform', 'subgraphs', 'infra', 'scripts'].flatMap((d) => sourceFiles(path.join(root, d))), path.join(root, 'test/globalSetup.ts'), path.join(root, 'test/globalTeardown.ts'), path.join(root, 'test/browser/chromium.ts')];
  const name = '([A-Z][A-Z0-9_]{1,})';
  const patterns = [
    new RegExp(`\\benv\\.${name}\\b`, 'g'),
    new RegExp(`\\benv\\[['"]${name}['"]\\]`, 'g'),
    // Helpers that read one named setting: envValue(env, 'X'), envWholeNumber(process.env, 'X', ...), int('X', ...).
    new RegExp(`\\b(?:envValue|envBool|envWholeNumber|value|int|slotName)\\((?:\\s*(?:process\\.)?env\\s*,)?\\s*'${name}'`, 'g'),
    // Tables of numeric settings (limits.ts).
    new RegExp(`variable: '${name}'`, 'g'),
    // Subgraph ports are named where each subgraph is declared (subgraphs/<name>/declaration.ts).
    new RegExp(`portVariable: '${name}'`, 'g'),
    // Key sources listed together (auth.ts checks that exactly one is set).
    new RegExp(`KEY_VARIABLES = \\[([^\\]]+)\\]`, 'g'),
  ];
  const found = new Set<string>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const re of patterns)
      for (const m of text.matchAll(re)) for (const n of m[1].match(/[A-Z][A-Z0-9_]+/g) ?? []) found.add(n);
  }
  for (const n of Object.keys(NOT_SETTINGS)) found.delete(n);
  return found;
}

function settingsInReadme(): Set<string> {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const names = new Set<string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const firstCell = line.split('|')[1];
    for (const m of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]);
  }
  return names;
}

it('documents every setting the code reads', () => {
  const documented = settingsInReadme();
  const undocumented = [...settingsReadByCode()].filter((n) => !documented.has(n)).sort();
  expect(undocumented).toEqual([]);
});

it('reads every setting the README documents', () => {
  const read = settingsReadByCode();
  const unread = [...settingsInReadme()].filter((n) => !read.has(n)).sort();
  expect(unread).toEqual([]);
});

it('finds the settings at all (the scan itself works)', () => {
  expect(settingsReadByCode().size).toBeGreaterThan(30);
  expect(settingsInReadme()).toContain('KAFKA_BROKERS');
});
