// Change notices of a view, fanned out in-process: one Redis subscription per view and
// process, however many GraphQL subscriptions listen. Subscriptions are fed by these
// notices, never by polling.
import type { Cluster, Redis } from 'ioredis';
import { watchGeneration, type GenerationWatch } from './generation';
import { viewChannels } from './keys';
import { createSubscriber } from '../../platform/subscriber';
import { endSpan, sampledContextOf, startSpan, traceparentOf } from '../../platform/tracing';

/** One entity's new state, as the projection wrote it. */
export interface Change<S> {
  readonly id: string;
  readonly partition: number;
  readonly offset: number;
  /** null when the entity was deleted. */
  readonly state: S | null;
}

export interface ChangeQueue<S> extends AsyncIterableIterator<Change<S>> {
  close(): void;
}

export interface NoticeHub<S> {
  /**
   * Starts buffering the changes that pass `filter`. A listener that falls more than
   * `maxPending` changes behind keeps only the newest state per entity (conflation), so a
   * slow reader costs bounded memory and still converges. With `ids`, only changes to those
   * entities are offered to `filter`: a thousand listeners on one order each need not look
   * at every change of every order.
   */
  listen(filter: (change: Change<S>) => boolean, maxPending?: number, ids?: readonly string[]): ChangeQueue<S>;
  listeners(): number;
  close(): Promise<void>;
}

interface Listener<S> {
  filter(change: Change<S>): boolean;
  push(change: Change<S>): void;
}

/** The trace context of the notice that delivered a state, by the state object (a WeakMap: no lifetime of its own). */
const noticeTraces = new WeakMap<object, string>();

/** The `traceparent` of the change notice that brought `state`, when that change was traced. */
export function noticeTraceOf(state: unknown): string | undefined {
  return typeof state === 'object' && state !== null ? noticeTraces.get(state) : undefined;
}

function noticeSpan(view: string, traceparent: string | undefined, state: object) {
  const parent = sampledContextOf(traceparent);
  if (!parent) return undefined;
  const span = startSpan(`notice ${view}`, { 'streamgraph.view': view }, { parent });
  const child = traceparentOf(span);
  if (child) noticeTraces.set(state, child);
  return span;
}

export async function createNoticeHub<S>(redis: Redis | Cluster, view: string): Promise<NoticeHub<S>> {
  const subscriber = await createSubscriber(redis);
  const generation: GenerationWatch = await watchGeneration(redis, subscriber, view);
  const channel = viewChannels(view).notices;
  /** Listeners that want any entity, and listeners by the entities they want. */
  const listeners = new Set<Listener<S>>();
  const byId = new Map<string, Set<Listener<S>>>();
  let keyed = 0;
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel || listeners.size + keyed === 0) return;
    const notice = JSON.parse(message) as { gen: string; partition: number; trace?: Record<string, string>; changes: Array<{ id: string; offset: number; state: S | null }> };
    // A rebuild replays history into another generation; only the live one is news.
    if (notice.gen !== generation.current()) return;
    for (const c of notice.changes) {
      const change: Change<S> = { id: c.id, partition: notice.partition, offset: c.offset, state: c.state };
      // A traced change (tracing on): a span for its fan-out, whose context its state carries to the subscriptions it reaches.
      const span = notice.trace && typeof c.state === 'object' && c.state !== null ? noticeSpan(view, notice.trace[c.id], c.state) : undefined;
      let reached = 0;
      for (const l of listeners)
        if (l.filter(change)) {
          l.push(change);
          reached++;
        }
      const wanting = byId.get(c.id);
      if (wanting)
        for (const l of wanting)
          if (l.filter(change)) {
            l.push(change);
            reached++;
          }
      endSpan(span?.setAttribute('streamgraph.notice.listeners', reached));
    }
  });
  await subscriber.subscribe(channel);

  return {
    listeners: () => listeners.size + keyed,
    listen(filter, maxPending = 1000, ids) {
      const pending = new Map<string, Change<S>>();
      const order: Change<S>[] = [];
      let conflating = false;
      let wake: ((r: IteratorResult<Change<S>>) => void) | null = null;
      let closed = false;
      const listener: Listener<S> = {
        filter,
        push(change) {
          if (wake) {
            const w = wake;
            wake = null;
            w({ value: change, done: false });
            return;
          }
          if (!conflating && order.length >= maxPending) {
            conflating = true;
            for (const c of order) pending.set(c.id, c);
            order.length = 0;
          }
          if (conflating) {
            pending.delete(change.id); // re-insert so the newest change moves to the back
            pending.set(change.id, change);
          } else order.push(change);
        },
      };
      if (ids) {
        keyed++;
        for (const id of ids) {
          let set = byId.get(id);
          if (!set) byId.set(id, (set = new Set()));
          set.add(listener);
        }
      } else listeners.add(listener);
      const close = () => {
        if (!closed && ids) {
          keyed--;
          for (const id of ids) {
            const set = byId.get(id);
            set?.delete(listener);
            if (set?.size === 0) byId.delete(id);
          }
        }
        closed = true;
        listeners.delete(listener);
        if (wake) wake({ value: undefined, done: true });
        wake = null;
      };
      const queue: ChangeQueue<S> = {
        close,
        [Symbol.asyncIterator]() {
          return queue;
        },
        next() {
          if (order.length > 0) return Promise.resolve({ value: order.shift()!, done: false });
          if (pending.size > 0) {
            const [id, change] = pending.entries().next().value as [string, Change<S>];
            pending.delete(id);
            if (pending.size === 0) conflating = false;
            return Promise.resolve({ value: change, done: false });
          }
          if (closed) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => (wake = resolve));
        },
        return() {
          close();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
      return queue;
    },
    async close() {
      for (const l of listeners) listeners.delete(l);
      byId.clear();
      keyed = 0;
      await generation.close();
      subscriber.disconnect();
    },
  };
}

/**
 * A state subscription: the current states first, then every newer state of the entities
 * that pass `filter`. Listening starts before the current state is read, and versions
 * drop anything not newer than what was sent, so nothing falls in the gap between the two.
 *
 * Not an async generator: a generator's return() waits behind its pending await, so an
 * unsubscribe would hold the listener until the next matching change. Here return() closes
 * the queue first, which ends that wait at once.
 */
export function currentThenChanges<S>(opts: {
  hub: NoticeHub<S>;
  filter: (change: Change<S>) => boolean;
  /** The entities followed, when known up front (see NoticeHub.listen). */
  ids?: readonly string[];
  current: () => Promise<ReadonlyArray<readonly [string, S]>>;
  versionOf: (state: S) => number;
}): AsyncIterableIterator<S> {
  const queue = opts.hub.listen(opts.filter, undefined, opts.ids);
  const sent = new Map<string, number>();
  const states = (async function* () {
    try {
      for (const [id, state] of await opts.current()) {
        sent.set(id, opts.versionOf(state));
        yield state;
      }
      for await (const change of queue) {
        if (change.state === null) continue;
        const v = opts.versionOf(change.state);
        if (v <= (sent.get(change.id) ?? -Infinity)) continue;
        sent.set(change.id, v);
        yield change.state;
      }
    } finally {
      queue.close();
    }
  })();
  const iterator: AsyncIterableIterator<S> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () => states.next(),
    return: () => {
      queue.close();
      return states.return(undefined);
    },
    throw: (error?: unknown) => {
      queue.close();
      return states.throw(error);
    },
  };
  return iterator;
}
