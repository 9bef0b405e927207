// serveDemo over HTTP, without a browser: which paths it answers, with which types and headers,
// and that the graphql-ws client it serves can be loaded by a browser (every import is served).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveDemo } from '../../gateway/demoPage';

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (serveDemo(req, res, new URL(req.url ?? '/', 'http://test').pathname)) return;
    res.writeHead(599);
    res.end('not the demo');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const get = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { redirect: 'manual', ...init });

it('serves the page, its script, its style and the graphql-ws client with their types and a strict CSP', async () => {
  const expected: Array<[string, string]> = [
    ['/demo', 'text/html; charset=utf-8'],
    ['/demo/app.js', 'text/javascript; charset=utf-8'],
    ['/demo/style.css', 'text/css; charset=utf-8'],
    ['/demo/vendor/graphql-ws/client.js', 'text/javascript; charset=utf-8'],
  ];
  for (const [path, type] of expected) {
    const res = await get(path);
    const body = await res.text();
    expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, type]);
    expect(body.length).toBeGreaterThan(100);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = res.headers.get('content-security-policy')!;
    const host = new URL(base).host;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host};`);
    expect(csp).toContain("frame-ancestors 'none'");
  }
});

it('leaves a forged Host header out of the CSP', async () => {
  // fetch sets Host itself; a raw request can send anything.
  const csp = await new Promise<string>((resolve, reject) => {
    const { port } = server.address() as AddressInfo;
    http
      .get({ host: '127.0.0.1', port, path: '/demo', headers: { host: "evil.example; script-src *" } }, (res) => {
        res.resume();
        resolve(String(res.headers['content-security-policy']));
      })
      .on('error', reject);
  });
  expect(csp).toContain("connect-src 'self';");
  expect(csp).not.toContain('evil');
});

it('answers a repeated request with 304 when the ETag matches', async () => {
  const first = await get('/demo/app.js');
  await first.text();
  const again = await get('/demo/app.js', { headers: { 'if-none-match': first.headers.get('etag')! } });
  expect(again.status).toBe(304);
});

it('serves every module the graphql-ws client imports, and only relative ones', async () => {
  const seen = new Set<string>();
  const pending = ['client.js'];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const res = await get(`/demo/vendor/graphql-ws/${name}`);
    expect([name, res.status]).toEqual([name, 200]);
    const text = await res.text();
    for (const m of text.matchAll(/^[ \t]*(?:import|export)[ \t]*(?:[\w\s{},*$]*?\bfrom[ \t]*)?['"]([^'"\n]+)['"]/gm)) {
      expect(m[1]).toMatch(/^\.\/[\w.-]+\.js$/);
      pending.push(m[1]!.slice(2));
    }
  }
  expect(seen.size).toBeGreaterThan(1);
});

it('redirects / and /demo/ to /demo, 404s other /demo/ paths, refuses writes, and leaves other paths alone', async () => {
  for (const path of ['/', '/demo/']) {
    const res = await get(path);
    expect([path, res.status, res.headers.get('location')]).toEqual([path, 302, '/demo']);
  }
  for (const path of ['/demo/nope.js', '/demo/vendor/graphql-ws/index.js', '/demo/vendor/graphql-ws/..%2F..%2Fpackage.json', '/demo/index.html']) {
    const res = await get(path);
    await res.text();
    expect([path, res.status]).toEqual([path, 404]);
  }
  const post = await get('/demo', { method: 'POST', body: 'x' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
  for (const path of ['/graphql', '/health', '/demonstration']) expect((await get(path)).status).toBe(599);
});
