// The live demo page (gateway/demo/) and the graphql-ws browser client it runs, served by the
// gateway on its own port: same origin as /graphql, so no CORS, and a CSP that allows nothing else.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { assetOf, sendAsset, type Asset } from './staticAssets';

const DEMO_DIR = path.join(__dirname, 'demo');
const VENDOR_PREFIX = '/demo/vendor/graphql-ws/';
/**
 * The import specifiers of an ES module's static import and export-from statements. The
 * statement must start a line, so example code inside the module's strings (graphql-ws's error
 * messages have some) is not mistaken for an import.
 */
function importSpecifiers(source: string): string[] {
  const statement = /^[ \t]*(?:import|export)[ \t]*(?:[\w\s{},*$]*?\bfrom[ \t]*)?['"]([^'"\n]+)['"]/gm;
  return [...source.matchAll(statement)].map((m) => m[1] as string);
}

/**
 * graphql-ws's ESM client and the modules it imports, by file name. The library publishes
 * dist/client.js for browsers; it imports only sibling chunks by relative path (their names
 * carry a build hash), so serving the closure of those files from one folder is enough for a
 * browser to load it as a module, with no bundler. A bare import would need a bundler or an
 * import map: fail at start saying so, rather than serve a page whose live parts cannot load.
 */
function loadGraphqlWsClient(): Map<string, Asset> {
  // The `require` condition points at dist/client.cjs; client.js, the ESM build, sits beside it.
  const dir = path.dirname(require.resolve('graphql-ws/client'));
  const files = new Map<string, Asset>();
  const pending = ['client.js'];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (files.has(name)) continue;
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new Error(`demo page: graphql-ws has no ${file}; its browser client moved (check node_modules/graphql-ws/package.json "exports")`);
    const body = fs.readFileSync(file);
    files.set(name, assetOf(file, body));
    for (const spec of importSpecifiers(body.toString('utf8'))) {
      if (!/^\.\/[\w.-]+\.js$/.test(spec))
        throw new Error(`demo page: graphql-ws's browser client (${name}) imports ${JSON.stringify(spec)}, which a browser cannot load from ${VENDOR_PREFIX}; the page needs a bundled client`);
      pending.push(spec.slice(2));
    }
  }
  return files;
}

/** Every path the demo answers with a file, read once when the gateway starts. */
function loadAssets(): Map<string, Asset> {
  const read = (name: string) => assetOf(name, fs.readFileSync(path.join(DEMO_DIR, name)));
  const assets = new Map<string, Asset>([
    ['/demo', read('index.html')],
    ['/demo/app.js', read('app.js')],
    ['/demo/style.css', read('style.css')],
  ]);
  for (const [name, a] of loadGraphqlWsClient()) assets.set(`${VENDOR_PREFIX}${name}`, a);
  return assets;
}

const ASSETS = loadAssets();

/** A Host header that is only a host name or address and an optional port, safe to echo into the CSP. */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Scripts, styles and connections from this origin only: the page itself loads nothing from
 * elsewhere, and an injected script could send the token nowhere but this gateway. The ws(s)
 * sources are spelled out for browsers whose 'self' does not cover WebSocket URLs.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

/**
 * Serves the demo page if `pathname` is one of its paths and returns true; otherwise leaves the
 * request alone and returns false. `/` and `/demo/` redirect to `/demo`; any other path under
 * `/demo/` is a 404. Files go out with `cache-control: no-cache` and an ETag, so a browser
 * revalidates and picks up a new page (or a new graphql-ws) as soon as the gateway has one.
 */
export function serveDemo(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean {
  if (pathname !== '/' && pathname !== '/demo' && !pathname.startsWith('/demo/')) return false;
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${method} is not allowed on ${pathname}; the demo page is read with GET\n`);
    return true;
  }
  if (pathname === '/' || pathname === '/demo/') {
    redirect(res, '/demo');
    return true;
  }
  const found = ASSETS.get(pathname);
  if (!found) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(`no such file: ${pathname}; the demo page is /demo\n`);
    return true;
  }
  sendAsset(req, res, found, contentSecurityPolicy(req.headers.host));
  return true;
}
