// Pure unit tests of the app-activity fold and the sign-in join: plain objects, no Kafka or Redis.
import { CLIENT_EVENTS_TOPIC, createEvent, customerActor, deviceActor, type ClientEvent } from '../../schema/events';
import { foldAll } from '../runtime/projection';
import {
  ACTIVITY_LIMITS,
  activityProjection,
  changeCart,
  customerActivityId,
  deviceActivityId,
  joinActivity,
  NO_ACTIVITY,
  sessionsSince,
  type Activity,
} from './activity';

const APP = { app: 'web', appVersion: '1.2.3', clientTimestamp: '2026-03-01T09:00:00.000Z' };
const minute = (m: number) => new Date(Date.parse('2026-03-01T10:00:00.000Z') + m * 60_000).toISOString();

/** An event as the gateway writes it: a customer's when `customerId` is given, else the device's. */
function ev(kind: 'open' | 'search' | 'view' | 'add' | 'remove', m: number, who: { customerId?: string; deviceId: string }, arg = '', n?: number): ClientEvent {
  const common = { ...APP, deviceId: who.deviceId, ...(who.customerId ? { customerId: who.customerId } : {}), actor: who.customerId ? customerActor(who.customerId) : deviceActor(who.deviceId) };
  const opts = { occurredAt: minute(m) };
  switch (kind) {
    case 'open':
      return createEvent(CLIENT_EVENTS_TOPIC, 'AppOpened', common, opts);
    case 'search':
      return createEvent(CLIENT_EVENTS_TOPIC, 'Searched', { ...common, query: arg }, opts);
    case 'view':
      return createEvent(CLIENT_EVENTS_TOPIC, 'ProductViewed', { ...common, productId: arg }, opts);
    case 'add':
      return createEvent(CLIENT_EVENTS_TOPIC, 'CartItemAdded', { ...common, productId: arg, quantity: n ?? 1 }, opts);
    case 'remove':
      return createEvent(CLIENT_EVENTS_TOPIC, 'CartItemRemoved', { ...common, productId: arg, ...(n ? { quantity: n } : {}) }, opts);
  }
}
const signIn = (deviceId: string, customerId: string, m: number) =>
  createEvent(CLIENT_EVENTS_TOPIC, 'DeviceSignedIn', { actor: deviceActor(deviceId), deviceId, customerId }, { occurredAt: minute(m) });
const fold = (events: ClientEvent[]) => foldAll(activityProjection, events.map((event, i) => ({ event, at: { partition: 0, offset: i, occurredAt: event.occurredAt } })));

const ada = { customerId: 'ada', deviceId: 'phone' };

it('folds views, searches, cart changes and sessions of a customer, newest first and each once', () => {
  const view = fold([
    ev('open', 0, ada),
    ev('view', 1, ada, 'p1'),
    ev('search', 2, ada, 'oat milk'),
    ev('view', 3, ada, 'p2'),
    ev('view', 4, ada, 'p1'),
    ev('search', 5, ada, 'Oat Milk'),
    ev('add', 6, ada, 'p1', 2),
    ev('add', 7, ada, 'p2'),
    ev('add', 8, ada, 'p1'),
    ev('remove', 9, ada, 'p2'),
    ev('remove', 10, ada, 'p9'),
    // 40 minutes without activity: a new session without an app_open.
    ev('view', 50, ada, 'p3'),
  ]);
  const a = view.get(customerActivityId('ada'))!;
  expect(a.lastSeenAt).toBe(minute(50));
  expect(a.recentlyViewed.map((v) => v.productId)).toEqual(['p3', 'p1', 'p2']);
  expect(a.recentSearches.map((s) => s.query)).toEqual(['Oat Milk']);
  expect(a.cart).toEqual([{ productId: 'p1', quantity: 3 }]);
  expect(a.sessionStarts).toEqual([minute(50), minute(0)]);
  expect(a.devices).toEqual(['phone']);
  expect(sessionsSince(a, Date.parse(minute(60)))).toBe(2);
  expect(sessionsSince(a, Date.parse(minute(0)) + 7 * 24 * 3600_000 + 60_000)).toBe(1);
});

it('keeps every list bounded', () => {
  const events = Array.from({ length: 120 }, (_, i) => ev('view', i, ada, `p${i}`));
  const a = fold(events).get(customerActivityId('ada'))!;
  expect(a.recentlyViewed).toHaveLength(ACTIVITY_LIMITS.viewed);
  expect(a.recentlyViewed[0].productId).toBe('p119');
  let cart = NO_ACTIVITY.cart;
  for (let i = 0; i < 150; i++) cart = changeCart(cart, `p${i}`, 1);
  expect(cart).toHaveLength(ACTIVITY_LIMITS.cartLines);
  expect(cart[0].productId).toBe('p50');
  expect(changeCart([], 'p', 5000)).toEqual([{ productId: 'p', quantity: ACTIVITY_LIMITS.maxQuantity }]);
});

it('joins a device\'s anonymous activity before its first sign-in to that customer only', () => {
  const anon = { deviceId: 'tablet' };
  const view = fold([
    ev('view', 0, anon, 'p-anon'),
    ev('add', 1, anon, 'p-anon', 2),
    ev('search', 2, anon, 'bread'),
    signIn('tablet', 'ada', 3),
    ev('view', 4, { customerId: 'ada', deviceId: 'tablet' }, 'p-ada'),
    ev('add', 4, { customerId: 'ada', deviceId: 'tablet' }, 'p-anon'),
    // After the claim: anonymous activity joins no one, a second customer claims nothing.
    ev('view', 5, anon, 'p-later'),
    signIn('tablet', 'bob', 6),
    ev('open', 6, { customerId: 'bob', deviceId: 'tablet' }),
  ]);
  const device = view.get(deviceActivityId('tablet'))!;
  expect(device.claimedBy).toBe('ada');
  expect(device.recentlyViewed.map((v) => v.productId)).toEqual(['p-anon']);

  const own = view.get(customerActivityId('ada'))!;
  const joined = joinActivity('ada', own, own.devices.map((d) => view.get(deviceActivityId(d))));
  expect(joined.recentlyViewed.map((v) => v.productId)).toEqual(['p-ada', 'p-anon']);
  expect(joined.recentSearches.map((s) => s.query)).toEqual(['bread']);
  expect(joined.cart).toEqual([{ productId: 'p-anon', quantity: 3 }]);
  expect(joined.lastSeenAt).toBe(minute(4));
  // Signing in on the tablet continued the anonymous session there: one session, not two.
  expect(joined.sessionStarts).toEqual([minute(0)]);

  const bob = view.get(customerActivityId('bob'))!;
  const bobJoined = joinActivity('bob', bob, bob.devices.map((d) => view.get(deviceActivityId(d))));
  expect(bobJoined.recentlyViewed).toEqual([]);
});

it('keys every entity to its actor\'s partition', () => {
  expect(activityProjection.recordKeyOf(customerActivityId('ada'))).toBe(customerActor('ada'));
  expect(activityProjection.recordKeyOf(deviceActivityId('phone'))).toBe(deviceActor('phone'));
  const e = ev('view', 0, ada, 'p1');
  expect(activityProjection.reads(e)).toEqual([customerActivityId('ada')]);
  expect(activityProjection.recordKeyOf(activityProjection.reads(e)[0])).toBe(e.key);
});

it('is the same fold on replay', () => {
  const events = [ev('open', 0, ada), ev('view', 1, ada, 'p1'), ev('add', 2, ada, 'p1')];
  expect(fold(events)).toEqual(fold(events));
  const none: Activity = joinActivity('x', NO_ACTIVITY, []);
  expect(none).toBe(NO_ACTIVITY);
});
