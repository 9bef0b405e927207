// Reads an HTTP request body with a size limit, for the gateway and the subgraph servers.
import type http from 'node:http';

/** How much of an oversize body is read (and dropped) after the limit, so the client sees its 413 rather than a reset. */
const DRAIN_FACTOR = 16;

/**
 * The body as text, or null when it is (or declares to be) larger than `max`. Resolves as soon
 * as the answer is known: a body over the limit is not waited for. The caller answers 413 with
 * `connection: close`; the rest of the body is read and dropped up to a bound, then the socket
 * is cut, so a client streaming gigabytes can neither hang the request nor hold the socket.
 */
export function readBody(req: http.IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = () => {
      resolve(null);
      let dropped = 0;
      req.removeAllListeners('data');
      req.on('data', (c: Buffer) => {
        dropped += c.length;
        if (dropped > max * DRAIN_FACTOR) req.socket.destroy();
      });
      req.on('error', () => undefined);
    };
    if (Number.isFinite(declared) && declared > max) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        done = true;
        chunks.length = 0;
        return tooLarge();
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (e) => {
      if (!done) reject(e);
    });
    // A client that goes away mid-body leaves nothing to answer; settle so nothing waits forever.
    req.on('close', () => {
      if (!done && !req.complete) reject(new Error('client closed the connection before the body ended'));
    });
  });
}
