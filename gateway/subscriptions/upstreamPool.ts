// The gateway's side of subgraph subscriptions: a few graphql-transport-ws connections per
// subgraph (upstreamConnection.ts), each carrying many subscriptions; a new subscription goes to
// the least loaded one, and another is opened while all are full, up to a bound.
import { UpstreamConnection, type UpstreamConnectionOptions, type UpstreamRequest, type UpstreamSink } from './upstreamConnection';

export interface UpstreamPoolOptions extends UpstreamConnectionOptions {
  /** @default 4 */
  readonly connectionsPerSubgraph?: number;
  /** A connection takes new subscriptions up to this many before another is opened. @default 500 */
  readonly subscriptionsPerConnection?: number;
}

export interface UpstreamPool {
  /** Starts one upstream subscription; the returned function ends it. */
  subscribe(url: string, request: UpstreamRequest, sink: UpstreamSink): () => void;
  /** Open connections per subgraph URL (metrics, tests). */
  connectionCounts(): Record<string, number>;
  close(): Promise<void>;
}

export function createUpstreamPool(opts: UpstreamPoolOptions): UpstreamPool {
  const maxConnections = opts.connectionsPerSubgraph ?? 4;
  const perConnection = opts.subscriptionsPerConnection ?? 500;
  const pools = new Map<string, UpstreamConnection[]>();
  let closed = false;

  function pick(url: string): UpstreamConnection {
    let list = pools.get(url);
    if (!list) pools.set(url, (list = []));
    let best: UpstreamConnection | undefined;
    for (const c of list) if (!best || c.size() < best.size()) best = c;
    if (!best || (best.size() >= perConnection && list.length < maxConnections)) {
      const conn = new UpstreamConnection(url, opts, () => {
        // An idle connection is closed and forgotten; the next subscription opens a fresh one.
        const at = list!.indexOf(conn);
        if (at >= 0) list!.splice(at, 1);
      });
      list.push(conn);
      best = conn;
    }
    return best;
  }

  return {
    subscribe(url, request, sink) {
      if (closed) throw new Error('the upstream pool is closed');
      return pick(url).add(request, sink);
    },
    connectionCounts() {
      const out: Record<string, number> = {};
      for (const [url, list] of pools) out[url] = list.length;
      return out;
    },
    async close() {
      closed = true;
      const all = [...pools.values()].flat();
      pools.clear();
      await Promise.all(all.map((c) => c.dispose()));
    },
  };
}
