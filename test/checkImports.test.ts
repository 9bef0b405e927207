// The import-direction check (npm run lint) on small trees of its own: the gateway may import
// the platform layer and the schema, never the subgraphs or their runtime.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.join(__dirname, '../scripts/check-imports.mjs');

function runOn(files: Record<string, string>): { status: number | null; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imports-'));
  try {
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(SCRIPT, path.join(dir, 'scripts/check-imports.mjs'));
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    const r = spawnSync(process.execPath, [path.join(dir, 'scripts/check-imports.mjs')], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const base = {
  'schema/events.ts': 'export const x = 1;\n',
  'platform/identity.ts': "import { x } from '../schema/events';\nexport const y = x;\n",
  'subgraphs/runtime/producer.ts': "import { y } from '../../platform/identity';\nexport const z = y;\n",
  'subgraphs/orders/index.ts': "import { z } from '../runtime/producer';\nexport const o = z;\n",
};

it('passes the layers as they are meant: gateway -> platform -> schema, subgraphs -> runtime -> platform', () => {
  const r = runOn({ ...base, 'gateway/server.ts': "import { y } from '../platform/identity';\nexport const g = y;\n" });
  expect(r).toEqual({ status: 0, out: expect.stringContaining('ok') });
});

it.each([
  ['the subgraphs runtime', "import { z } from '../subgraphs/runtime/producer';\n", 'gateway may not import subgraphs/runtime'],
  ['a subgraph', "import { o } from '../subgraphs/orders/index';\n", 'gateway may not import subgraphs/orders'],
])('fails when the gateway imports %s', (_what, source, message) => {
  const r = runOn({ ...base, 'gateway/server.ts': source });
  expect(r.status).toBe(1);
  expect(r.out).toContain(`gateway/server.ts: imports`);
  expect(r.out).toContain(message);
});

it('fails when the platform layer reaches up into the subgraphs runtime', () => {
  const r = runOn({ ...base, 'platform/registry.ts': "import { z } from '../subgraphs/runtime/producer';\n" });
  expect(r.status).toBe(1);
  expect(r.out).toContain('platform may not import subgraphs/runtime');
});
