// Customer 360 from client streams: the pure fold of the `client-events` topic into what a
// customer (or an anonymous device) did in the apps, and the merge that joins a device's
// anonymous activity to the customer who signed in on it. No I/O, no clock.
//
// Signing in (the rule, docs/client-events.md): the first customer seen on a device claims it
// (DeviceSignedIn, written by the gateway, is folded on the device's partition, so "first" is the
// log's order). The device's anonymous activity up to that claim joins that customer on read;
// anonymous activity on a claimed device afterwards joins no one (a shared device's next
// anonymous user is not the customer), and a second customer on the device gets none of it.
import { CLIENT_EVENTS_TOPIC, customerActor, deviceActor, type ClientEvent } from '../../schema/events';
import type { Projection } from '../runtime/projection';

export interface ViewedProduct {
  readonly productId: string;
  /** occurredAt (the gateway's clock) of the latest view. */
  readonly at: string;
}
export interface RecentSearch {
  readonly query: string;
  readonly at: string;
}
export interface CartLine {
  readonly productId: string;
  readonly quantity: number;
}

/** What one actor (a customer, or an anonymous device) did, newest first in every list. */
export interface Activity {
  /** occurredAt of the latest event; null before any. */
  readonly lastSeenAt: string | null;
  /** When each session started (an app_open, or an event after SESSION_GAP_MS without one), newest first. */
  readonly sessionStarts: readonly string[];
  readonly recentlyViewed: readonly ViewedProduct[];
  readonly recentSearches: readonly RecentSearch[];
  /** Oldest change first, so the line dropped at the bound is the one untouched longest. */
  readonly cart: readonly CartLine[];
  /** A customer's devices (newest first): whose anonymous activity may join theirs. */
  readonly devices: readonly string[];
  /** A device's first signed-in customer; null while no one signed in on it. */
  readonly claimedBy: string | null;
}

export const NO_ACTIVITY: Activity = {
  lastSeenAt: null,
  sessionStarts: [],
  recentlyViewed: [],
  recentSearches: [],
  cart: [],
  devices: [],
  claimedBy: null,
};

/** Bounds: every list is kept short whatever clients send, so an entity stays a few KiB. */
export const ACTIVITY_LIMITS = {
  viewed: 50,
  searches: 20,
  cartLines: 100,
  maxQuantity: 999,
  devices: 10,
  sessions: 500,
} as const;
export const SESSION_GAP_MS = 30 * 60_000;
export const SESSION_WINDOW_MS = 7 * 24 * 3600_000;

const CUSTOMER_PREFIX = 'c:';
const DEVICE_PREFIX = 'd:';
/** The activity view's entity id of a customer. */
export const customerActivityId = (customerId: string) => `${CUSTOMER_PREFIX}${customerId}`;
/** The activity view's entity id of a device. */
export const deviceActivityId = (deviceId: string) => `${DEVICE_PREFIX}${deviceId}`;

/** The entity an event changes: the device for anonymous events and sign-ins, else the customer. */
function entityOf(e: ClientEvent): string {
  if (e.type === 'DeviceSignedIn') return deviceActivityId(e.payload.deviceId);
  return e.payload.customerId !== undefined ? customerActivityId(e.payload.customerId) : deviceActivityId(e.payload.deviceId);
}

const ms = (iso: string) => Date.parse(iso);
const newestFirst = <T>(item: T, list: readonly T[], same: (x: T) => boolean, max: number): T[] => [item, ...list.filter((x) => !same(x))].slice(0, max);

/** Folds one client event into an actor's activity (not DeviceSignedIn). Pure. */
export function foldActivity(cur: Activity, e: Exclude<ClientEvent, { type: 'DeviceSignedIn' }>): Activity {
  const at = e.occurredAt;
  const previous = cur.lastSeenAt;
  const startsSession = e.type === 'AppOpened' || previous === null || ms(at) - ms(previous) > SESSION_GAP_MS;
  const lastSeenAt = previous !== null && ms(previous) > ms(at) ? previous : at;
  // Sessions older than the window can never count again: dropping them (when a session starts,
  // the only time the list grows) keeps it bounded without parsing every start on every event.
  const sessionStarts = startsSession
    ? [at, ...cur.sessionStarts].filter((s) => ms(lastSeenAt) - ms(s) <= SESSION_WINDOW_MS).slice(0, ACTIVITY_LIMITS.sessions)
    : cur.sessionStarts;
  const { customerId, deviceId } = e.payload;
  const devices =
    customerId === undefined || cur.devices[0] === deviceId ? cur.devices : newestFirst(deviceId, cur.devices, (d) => d === deviceId, ACTIVITY_LIMITS.devices);
  const next: Activity = { ...cur, lastSeenAt, sessionStarts, devices };
  switch (e.type) {
    case 'AppOpened':
      return next;
    case 'Searched': {
      const query = e.payload.query.trim();
      if (query === '') return next;
      return { ...next, recentSearches: newestFirst({ query, at }, cur.recentSearches, (s) => s.query.toLowerCase() === query.toLowerCase(), ACTIVITY_LIMITS.searches) };
    }
    case 'ProductViewed': {
      const { productId } = e.payload;
      return { ...next, recentlyViewed: newestFirst({ productId, at }, cur.recentlyViewed, (v) => v.productId === productId, ACTIVITY_LIMITS.viewed) };
    }
    case 'CartItemAdded':
      return { ...next, cart: changeCart(cur.cart, e.payload.productId, e.payload.quantity) };
    case 'CartItemRemoved': {
      const line = cur.cart.find((l) => l.productId === e.payload.productId);
      // Removing what is not in the cart changes nothing (a retried removal, a stale client).
      if (!line) return next;
      return { ...next, cart: changeCart(cur.cart, e.payload.productId, -(e.payload.quantity ?? line.quantity)) };
    }
  }
}

/** Adds `delta` of a product to a cart: the line moves to the end (newest change), goes at 0, and the oldest line goes past the bound. */
export function changeCart(cart: readonly CartLine[], productId: string, delta: number): CartLine[] {
  const had = cart.find((l) => l.productId === productId)?.quantity ?? 0;
  const quantity = Math.min(ACTIVITY_LIMITS.maxQuantity, had + delta);
  const rest = cart.filter((l) => l.productId !== productId);
  const lines = quantity > 0 ? [...rest, { productId, quantity }] : rest;
  return lines.slice(Math.max(0, lines.length - ACTIVITY_LIMITS.cartLines));
}

export const activityProjection: Projection<typeof CLIENT_EVENTS_TOPIC, Activity> = {
  name: 'customers.activity',
  topic: CLIENT_EVENTS_TOPIC,
  reads: (e) => [entityOf(e)],
  // Every entity lives on its actor's partition: customers by customer, devices by device.
  recordKeyOf: (id) => (id.startsWith(CUSTOMER_PREFIX) ? customerActor(id.slice(CUSTOMER_PREFIX.length)) : deviceActor(id.slice(DEVICE_PREFIX.length))),
  // No subscription follows activity, so a notice per chunk would be published for no one.
  notify: false,
  apply(view, e) {
    const id = entityOf(e);
    const cur = view.get(id) ?? NO_ACTIVITY;
    if (e.type === 'DeviceSignedIn') {
      // The first customer claims the device; later sign-ins (the same customer again, or another) change nothing.
      if (cur.claimedBy !== null) return new Map();
      return new Map([[id, { ...cur, claimedBy: e.payload.customerId }]]);
    }
    // A claimed device's later anonymous activity joins no one (see the rule above).
    if (e.payload.customerId === undefined && cur.claimedBy !== null) return new Map();
    return new Map([[id, foldActivity(cur, e)]]);
  },
};

/**
 * A customer's activity with the anonymous activity of the devices they claimed joined in:
 * lists merged newest first (each product or query once), carts added up, the latest lastSeenAt,
 * every session. `devices` are the states of `own.devices`, in that order (undefined: none yet).
 */
export function joinActivity(customerId: string, own: Activity, devices: readonly (Activity | undefined)[]): Activity {
  const joined = devices.filter((d): d is Activity => d !== undefined && d.claimedBy === customerId);
  if (joined.length === 0) return own;
  const all = [own, ...joined];
  const byTime = <T extends { at: string }>(lists: (readonly T[])[], keyOf: (x: T) => string, max: number): T[] => {
    const seen = new Set<string>();
    return lists
      .flat()
      .sort((a, b) => ms(b.at) - ms(a.at))
      .filter((x) => {
        const k = keyOf(x);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .slice(0, max);
  };
  // Signing in mid-session is not a new session: the customer's first event after a device's
  // anonymous activity (within the session gap) continues that device's session.
  const continues = (start: string) =>
    joined.some((d) => d.lastSeenAt !== null && ms(start) >= ms(d.lastSeenAt) && ms(start) - ms(d.lastSeenAt) <= SESSION_GAP_MS);
  let cart: CartLine[] = [];
  for (const a of [...joined, own]) for (const l of a.cart) cart = changeCart(cart, l.productId, l.quantity);
  const lastSeen = all.map((a) => a.lastSeenAt).filter((t): t is string => t !== null).sort((a, b) => ms(b) - ms(a));
  return {
    ...own,
    lastSeenAt: lastSeen[0] ?? null,
    sessionStarts: [...joined.flatMap((a) => a.sessionStarts), ...own.sessionStarts.filter((s) => !continues(s))].sort((a, b) => ms(b) - ms(a)),
    recentlyViewed: byTime(all.map((a) => a.recentlyViewed), (v) => v.productId, ACTIVITY_LIMITS.viewed),
    recentSearches: byTime(all.map((a) => a.recentSearches), (s) => s.query.toLowerCase(), ACTIVITY_LIMITS.searches),
    cart,
  };
}

/** Sessions started within the 7 days before `now` (ms). */
export function sessionsSince(activity: Activity, now: number): number {
  return activity.sessionStarts.filter((s) => now - ms(s) <= SESSION_WINDOW_MS).length;
}
