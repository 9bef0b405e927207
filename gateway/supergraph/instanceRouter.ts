// Where the gateway sends a subgraph's requests: one of its live instances, in turn. An
// instance is live while its heartbeat is within the absence window and no connection to it
// was refused lately (a SIGKILLed process keeps its entry until the window passes; requests
// must not keep knocking on its door meanwhile). Pure apart from the clock it is given.
import type { InstanceEntry } from '../../platform/registry';

export interface InstanceChange {
  readonly entry: InstanceEntry;
  /** Why an instance left: it said goodbye, or its heartbeats stopped. */
  readonly why?: 'deregistered' | 'heartbeats stopped';
}

export interface InstanceRouter {
  /** Takes the registry's instances; returns who joined and who left since the last update. */
  update(instances: readonly InstanceEntry[], now?: number): { joined: InstanceChange[]; left: InstanceChange[] };
  /** An instance to call, or null when the subgraph has none running. */
  pick(name: string, now?: number): InstanceEntry | null;
  /** A connection to `url` (an instance's HTTP or graphql-ws address) was refused: skip it for a while. */
  markDown(url: string, now?: number): void;
  /** The live instances of every subgraph (for /ready and logs). */
  live(now?: number): ReadonlyMap<string, readonly InstanceEntry[]>;
}

export interface InstanceRouterOptions {
  /** How long an instance may miss heartbeats before it is not routed to. */
  readonly absenceWindowMs: number;
  /** How long a refused instance is skipped. @default 2000 */
  readonly downForMs?: number;
}

export function createInstanceRouter(opts: InstanceRouterOptions): InstanceRouter {
  const downFor = opts.downForMs ?? 2_000;
  let byName = new Map<string, InstanceEntry[]>();
  let liveIds = new Set<string>();
  const downUntil = new Map<string, number>();
  const turn = new Map<string, number>();
  const idOf = (e: InstanceEntry) => `${e.name}/${e.instanceId}`;
  const isLive = (e: InstanceEntry, now: number) => now - e.lastSeen <= opts.absenceWindowMs;

  return {
    update(instances, now = Date.now()) {
      const next = new Map<string, InstanceEntry[]>();
      const nextIds = new Set<string>();
      const registered = new Set(instances.map(idOf));
      const joined: InstanceChange[] = [];
      const left: InstanceChange[] = [];
      const previous = new Map([...byName.values()].flat().map((e) => [idOf(e), e]));
      for (const e of instances) {
        if (!isLive(e, now)) continue;
        nextIds.add(idOf(e));
        const list = next.get(e.name) ?? [];
        list.push(e);
        next.set(e.name, list);
        if (!liveIds.has(idOf(e))) joined.push({ entry: e });
      }
      for (const id of liveIds)
        if (!nextIds.has(id)) left.push({ entry: previous.get(id)!, why: registered.has(id) ? 'heartbeats stopped' : 'deregistered' });
      // A new process on a refused address is a fresh start: let it be tried at once.
      for (const { entry } of joined) {
        downUntil.delete(entry.url);
        downUntil.delete(entry.wsUrl);
      }
      byName = next;
      liveIds = nextIds;
      return { joined, left };
    },
    pick(name, now = Date.now()) {
      const list = byName.get(name);
      if (!list?.length) return null;
      const up = list.filter((e) => isLive(e, now) && (downUntil.get(e.url) ?? 0) <= now && (downUntil.get(e.wsUrl) ?? 0) <= now);
      if (up.length === 0) return null;
      const n = (turn.get(name) ?? 0) % up.length;
      turn.set(name, n + 1);
      return up[n];
    },
    markDown(url, now = Date.now()) {
      downUntil.set(url, now + downFor);
      // Bounded by the registered instances: forget marks of addresses no instance has any more.
      if (downUntil.size > 1_000) for (const [u, t] of downUntil) if (t <= now) downUntil.delete(u);
    },
    live(now = Date.now()) {
      const out = new Map<string, InstanceEntry[]>();
      for (const [name, list] of byName) {
        const up = list.filter((e) => isLive(e, now));
        if (up.length) out.set(name, up);
      }
      return out;
    },
  };
}
