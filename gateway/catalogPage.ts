// The catalog of data products as a page (gateway/catalog/), served by the gateway on its own
// port like the demo page: same origin as /graphql, which it polls with the caller's token, and
// a CSP that allows nothing else. The data comes from the mesh subgraph through the graph, so
// the page sees exactly what the caller's role may see (admin and analyst; others FORBIDDEN).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

const CATALOG_DIR = path.join(__dirname, 'catalog');
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function read(name: string): Asset {
  const body = fs.readFileSync(path.join(CATALOG_DIR, name));
  return { body, contentType: CONTENT_TYPES[path.extname(name)], etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** Every path the page answers with a file, read once when the gateway starts. */
const ASSETS = new Map<string, Asset>([
  ['/catalog', read('index.html')],
  ['/catalog/app.js', read('app.js')],
  ['/catalog/style.css', read('style.css')],
]);

/** Scripts, styles and requests from this origin only; the page polls over HTTP, so no socket sources. */
export const CATALOG_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the catalog page if `pathname` is one of its paths and returns true; otherwise returns
 * false. `/catalog/` redirects to `/catalog`; any other path under it is a 404.
 */
export function serveCatalog(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean {
  if (pathname !== '/catalog' && !pathname.startsWith('/catalog/')) return false;
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${method} is not allowed on ${pathname}; the catalog page is read with GET\n`);
    return true;
  }
  if (pathname === '/catalog/') {
    res.writeHead(302, { location: '/catalog', 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
    return true;
  }
  const found = ASSETS.get(pathname);
  if (!found) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(`no such file: ${pathname}; the catalog page is /catalog\n`);
    return true;
  }
  const headers: http.OutgoingHttpHeaders = {
    'content-type': found.contentType,
    'cache-control': 'no-cache',
    etag: found.etag,
    'content-security-policy': CATALOG_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
  if (req.headers['if-none-match'] === found.etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-length': found.body.length });
  res.end(method === 'HEAD' ? undefined : found.body);
  return true;
}
