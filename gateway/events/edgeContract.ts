// The contract at the edge: one client event as it arrived, checked against the client-events
// topic contract and turned into the envelope the topic carries, or refused with the reason and
// the app version it came from. The customer id comes from the caller's token only: a body that
// names a customer (its own or another's) is ignored. Pure.
import {
  CLIENT_EVENT_TYPES,
  CLIENT_EVENTS_TOPIC,
  ContractViolation,
  customerActor,
  deviceActor,
  validateEvent,
  type ClientEvent,
} from '../../schema/events';

/** Who sent the batch, as the token says: a customer id, or none for an anonymous device. */
export interface EventCaller {
  readonly customerId: string | null;
}

export type EdgeResult =
  | { readonly ok: true; readonly event: ClientEvent }
  | {
      readonly ok: false;
      /** What the client is told: the field and what was wrong with it. */
      readonly reason: string;
      /** The client's `type` when it was one of the known names (a bounded metric label). */
      readonly type: string | null;
      /** What the dead letter says about the release that sent it (cut, client-controlled). */
      readonly app: string | null;
      readonly appVersion: string | null;
    };

const WIRE_TYPES = Object.keys(CLIENT_EVENT_TYPES) as (keyof typeof CLIENT_EVENT_TYPES)[];
/** Client-controlled text kept in reasons, headers and answers is cut to this. */
export const MAX_REASON_CHARS = 300;
const MAX_LABEL_CHARS = 64;

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const textOf = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? cut(v, MAX_LABEL_CHARS) : null);
const isWireType = (t: unknown): t is keyof typeof CLIENT_EVENT_TYPES =>
  typeof t === 'string' && Object.prototype.hasOwnProperty.call(CLIENT_EVENT_TYPES, t);

/**
 * Checks one item of a batch against the contract. `eventId` and `receivedAt` come from the
 * gateway: the envelope's occurredAt is when the gateway received it (client clocks are kept as
 * `clientTimestamp`, shown but never used to order anything).
 */
export function checkClientEvent(value: unknown, caller: EventCaller, receivedAt: string, eventId: string): EdgeResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return refuse('event: expected an object', null, null, null);
  const raw = value as Record<string, unknown>;
  const app = textOf(raw.app);
  const appVersion = textOf(raw.appVersion);
  if (!isWireType(raw.type)) {
    const found = typeof raw.type === 'string' ? JSON.stringify(cut(raw.type, 40)) : raw.type === undefined ? 'nothing' : typeof raw.type;
    return refuse(`type: expected one of ${WIRE_TYPES.join(', ')}, found ${found}`, null, app, appVersion);
  }
  const wireType = raw.type;
  // The body's own claims about who sent it are dropped: the token says who, the gateway says where.
  const { type: _type, customerId: _claimed, actor: _actor, ...fields } = raw;
  const actor =
    caller.customerId !== null ? customerActor(caller.customerId) : typeof raw.deviceId === 'string' ? deviceActor(raw.deviceId) : '';
  const payload = { ...fields, ...(caller.customerId !== null ? { customerId: caller.customerId } : {}), actor };
  const contractType = CLIENT_EVENT_TYPES[wireType];
  try {
    const event = validateEvent(CLIENT_EVENTS_TOPIC, {
      eventId,
      type: contractType,
      version: CLIENT_EVENTS_TOPIC.events[contractType].version,
      occurredAt: receivedAt,
      key: actor,
      payload,
    });
    return { ok: true, event };
  } catch (e) {
    if (!(e instanceof ContractViolation)) throw e;
    return refuse(`${clientPath(e.path)}: expected ${e.expected}, found ${e.found}`, wireType, app, appVersion);
  }
}

/** The contract's path (`event.payload.query`) as the client's field name (`query`). */
function clientPath(path: string): string {
  if (path.startsWith('event.payload.')) return path.slice('event.payload.'.length);
  if (path === 'event.payload') return 'event';
  return path.startsWith('event.') ? path.slice('event.'.length) : path;
}

function refuse(reason: string, type: string | null, app: string | null, appVersion: string | null): EdgeResult {
  return { ok: false, reason: cut(reason, MAX_REASON_CHARS), type, app, appVersion };
}
