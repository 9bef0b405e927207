// The files of the gateway's own pages (/demo, /catalog): each read once at start with its
// content type and ETag, and sent with the headers every page of ours carries (its CSP, no
// sniffing, no referrer, its own browsing context), answering a matching ETag with 304.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  // Browsers run a module script only when it is served with a JavaScript type.
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export function assetOf(file: string, body: Buffer): Asset {
  const contentType = CONTENT_TYPES[path.extname(file)];
  if (!contentType) throw new Error(`no content type for ${file}`);
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

export function sendAsset(req: http.IncomingMessage, res: http.ServerResponse, found: Asset, contentSecurityPolicy: string): void {
  const headers: http.OutgoingHttpHeaders = {
    'content-type': found.contentType,
    'cache-control': 'no-cache',
    etag: found.etag,
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
  if (req.headers['if-none-match'] === found.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': found.body.length });
  res.end(req.method === 'HEAD' ? undefined : found.body);
}
