// Reads an HTTP request body with a size limit, for the gateway and the subgraph servers.
import type http from 'node:http';

/** The body as text, or null when it is larger than `max`. */
export function readBody(req: http.IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Over the limit: keep reading (and dropping) so the client gets its 413 rather than a
      // reset connection; only a body far beyond the limit is cut off.
      if (size > max * 64) req.destroy();
      else if (size <= max) chunks.push(c);
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
