// The gateway's side of subgraph subscriptions: a few graphql-transport-ws connections per
// subgraph instance (upstreamConnection.ts), each carrying many subscriptions; a new subscription
// goes to the least loaded one, and another is opened while all are full, up to a bound.
//
// A subscription is not pinned to the instance it first went to. When its connection drops, it
// asks its route again (registry mode: a live instance of the subgraph, with the one that just
// failed set aside) and subscribes there; the subgraph answers a new subscription with the
// current state first, so what changed while it was away reaches the subscribers.
import { UpstreamConnection, type UpstreamConnectionOptions, type UpstreamRequest, type UpstreamSink } from './upstreamConnection';

export interface UpstreamPoolOptions extends UpstreamConnectionOptions {
  /** @default 4 */
  readonly connectionsPerSubgraph?: number;
  /** A connection takes new subscriptions up to this many before another is opened. @default 500 */
  readonly subscriptionsPerConnection?: number;
  /** Backoff for an address whose connections keep failing: starts here, doubles up to maxBackoffMs, with jitter. @default 100 */
  readonly minBackoffMs?: number;
  /** @default 2000 */
  readonly maxBackoffMs?: number;
  /** A connection to `url` dropped or was refused (the router sets the instance aside for a while). */
  readonly onUnreachable?: (url: string) => void;
  /** Called each time subscriptions are subscribed again after a connection dropped (metrics). */
  readonly onReconnect?: (url: string) => void;
}

/** Where a subscription goes: an address, or a route asked again at every (re)subscribe. */
export type UpstreamTarget = string | (() => string);

export interface UpstreamPool {
  /** Starts one upstream subscription; the returned function ends it. */
  subscribe(target: UpstreamTarget, request: UpstreamRequest, sink: UpstreamSink): () => void;
  /** Open connections per subgraph URL (metrics, tests). */
  connectionCounts(): Record<string, number>;
  close(): Promise<void>;
}

interface PooledSubscription {
  readonly target: UpstreamTarget;
  readonly request: UpstreamRequest;
  readonly sink: UpstreamSink;
  at: { conn: UpstreamConnection<PooledSubscription>; id: string } | null;
  ended: boolean;
}

export function createUpstreamPool(opts: UpstreamPoolOptions): UpstreamPool {
  const maxConnections = opts.connectionsPerSubgraph ?? 4;
  const perConnection = opts.subscriptionsPerConnection ?? 500;
  const minBackoff = opts.minBackoffMs ?? 100;
  const maxBackoff = opts.maxBackoffMs ?? 2000;
  const pools = new Map<string, UpstreamConnection<PooledSubscription>[]>();
  /** Consecutive failed connections per address since it last acknowledged one. */
  const failures = new Map<string, number>();
  let closed = false;

  const delayFor = (url: string): number => {
    const n = failures.get(url);
    if (n === undefined) return 0;
    const base = Math.min(maxBackoff, minBackoff * 2 ** n);
    // Jitter spreads the reconnects of many gateways after one subgraph restart.
    return base / 2 + Math.random() * (base / 2);
  };

  function pick(url: string): UpstreamConnection<PooledSubscription> {
    let list = pools.get(url);
    if (!list) pools.set(url, (list = []));
    let best: UpstreamConnection<PooledSubscription> | undefined;
    for (const c of list) if (c.usable() && (!best || c.size() < best.size())) best = c;
    if (!best || (best.size() >= perConnection && list.length < maxConnections)) {
      const forget = () => {
        const at = list!.indexOf(conn);
        if (at >= 0) list!.splice(at, 1);
        if (list!.length === 0 && pools.get(url) === list) pools.delete(url);
      };
      const conn: UpstreamConnection<PooledSubscription> = new UpstreamConnection<PooledSubscription>(
        url,
        opts,
        {
          // An idle connection is closed and forgotten; the next subscription opens a fresh one.
          onIdle: forget,
          onAcked: () => failures.delete(url),
          onLost: (subs, acked) => {
            forget();
            failures.set(url, acked ? 0 : (failures.get(url) ?? 0) + 1);
            opts.onUnreachable?.(url);
            if (closed) return;
            let moved = 0;
            for (const sub of subs) {
              if (sub.at?.conn !== conn) continue;
              sub.at = null;
              if (sub.ended) continue;
              place(sub);
              moved++;
            }
            if (moved > 0) opts.onReconnect?.(url);
          },
        },
        delayFor(url),
      );
      list.push(conn);
      best = conn;
    }
    return best;
  }

  function place(sub: PooledSubscription): void {
    const url = typeof sub.target === 'string' ? sub.target : sub.target();
    const conn = pick(url);
    sub.at = { conn, id: conn.add(sub) };
  }

  return {
    subscribe(target, request, sink) {
      if (closed) throw new Error('the upstream pool is closed');
      const sub: PooledSubscription = { target, request, sink, at: null, ended: false };
      place(sub);
      return () => {
        if (sub.ended) return;
        sub.ended = true;
        const at = sub.at;
        sub.at = null;
        at?.conn.remove(at.id);
      };
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
