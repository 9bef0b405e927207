// What the gateway benchmark's tracing comparison (BENCH_TRACING=1) needs besides the usual
// run: a span sink that answers like Zipkin's span API and counts what it gets (so the traced
// gateway really exports, at the sampled rate), and a copy of the code at a commit (the gateway
// as it was before tracing, or the commit under test) to run side by side with the same
// dependencies, without touching the working tree others share.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');

export interface SpanSink {
  /** Where exporters POST: http://127.0.0.1:<port>/api/v2/spans */
  readonly url: string;
  /** Spans and distinct traces received so far. */
  counts(): { spans: number; traces: number };
  close(): Promise<void>;
}

/** An HTTP server taking Zipkin v2 JSON span lists (202), keeping only counts. */
export async function startSpanSink(): Promise<SpanSink> {
  let spans = 0;
  const traces = new Set<string>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      try {
        for (const s of JSON.parse(body) as Array<{ traceId?: string }>) {
          spans++;
          if (s.traceId) traces.add(s.traceId);
        }
      } catch {
        /* not a span list: counted as nothing */
      }
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v2/spans`,
    counts: () => ({ spans, traces: traces.size }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The repository's files at `ref` (git archive: the shared working tree and its index are left
 * alone), in a temporary folder whose node_modules is this checkout's. Returns the folder and
 * the commit it holds.
 */
export function treeAt(ref: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO, encoding: 'utf8' }).trim();
  const dir = path.join(os.tmpdir(), `streamgraph-bench-tree-${commit.slice(0, 12)}`);
  if (!fs.existsSync(path.join(dir, 'gateway', 'main.ts'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['archive', '--format=tar', commit], { cwd: REPO, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  }
  return { dir, commit };
}
