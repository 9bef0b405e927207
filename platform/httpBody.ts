// Reads an HTTP request body with a size limit, for the gateway and the subgraph servers.
import type http from 'node:http';

/**
 * How much of an oversize body is read and dropped after the answer, and for how long. A socket
 * closed while the client still sends is reset, and a reset discards the 413 already waiting
 * at the client: so the rest is drained, within a bound, before the socket is cut.
 */
const DRAIN_MAX_BYTES = 64 * 2 ** 20;
const DRAIN_MAX_MS = 5_000;

/**
 * The body as text, or null when it is (or declares to be) larger than `max`. Resolves as soon
 * as the answer is known: a body over the limit is not waited for, and the caller answers 413.
 * The rest of the body is drained up to a bound in bytes and time, then the socket is cut, so a
 * client streaming gigabytes can neither hang the request nor hold the socket.
 */
export function readBody(req: http.IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = () => {
      resolve(null);
      let dropped = 0;
      const cut = () => req.socket?.destroy();
      const timer = setTimeout(cut, DRAIN_MAX_MS);
      timer.unref();
      req.removeAllListeners('data');
      req.on('data', (c: Buffer) => {
        dropped += c.length;
        if (dropped > DRAIN_MAX_BYTES) cut();
      });
      req.on('end', () => clearTimeout(timer));
      req.on('close', () => clearTimeout(timer));
      req.on('error', () => undefined);
      req.resume();
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
