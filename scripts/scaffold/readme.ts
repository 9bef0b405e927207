// The README's configuration table documents every setting the code reads (test/settings.test.ts
// holds it to that), a new subgraph's port setting included: the scaffold writes that row
// itself instead of asking the team to.
import type { SubgraphNames } from './names';

const SECTION = '## Configuration';

/** The row that documents the port setting of a scaffolded subgraph. */
export function portRow(n: SubgraphNames, port: number, declarationPath: string): string {
  return `| \`${n.portVariable}\` | \`${port}\` | the ${n.name} subgraph's port (scaffolded by \`npm run new-subgraph\`); its default is in \`${declarationPath}\` |`;
}

/**
 * `readme` with `row` in its configuration table, after the last subgraph port row (or at the
 * table's end), or unchanged when the setting already has a row. Null when there is no table.
 */
export function withPortRow(readme: string, variable: string, row: string): string | null {
  const start = readme.indexOf(SECTION);
  if (start < 0) return null;
  const next = readme.indexOf('\n## ', start + SECTION.length);
  const end = next < 0 ? readme.length : next;
  const lines = readme.slice(start, end).split('\n');
  const firstCell = (l: string) => (l.startsWith('| `') ? l.split('|')[1] : '');
  if (lines.some((l) => firstCell(l).includes(`\`${variable}\``))) return readme;
  const rows = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('| `'));
  if (!rows.length) return null;
  const ports = rows.filter(([l]) => /`[A-Z][A-Z0-9_]*_PORT`/.test(firstCell(l)));
  const after = (ports.length ? ports : rows)[(ports.length ? ports : rows).length - 1][1];
  lines.splice(after + 1, 0, row);
  return readme.slice(0, start) + lines.join('\n') + readme.slice(end);
}
