// The catalog of data products as a page (gateway/catalog/), served by the gateway on its own
// port like the demo page: same origin as /graphql, which it polls with the caller's token, and
// a CSP that allows nothing else. The data comes from the mesh subgraph through the graph, so
// the page sees exactly what the caller's role may see (admin and analyst; others FORBIDDEN).
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { assetOf, sendAsset, type Asset } from './staticAssets';

const CATALOG_DIR = path.join(__dirname, 'catalog');
function read(name: string): Asset {
  return assetOf(name, fs.readFileSync(path.join(CATALOG_DIR, name)));
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
  sendAsset(req, res, found, CATALOG_CSP);
  return true;
}
