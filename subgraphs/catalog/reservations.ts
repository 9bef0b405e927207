// Reservations, decided by the store's one inventory writer (docs/reservations.md): pure steps
// of the inventory fold for requests, ends and items not found, and the likelihood that a level
// is really on the shelf. Everything here is a function of the view and the event: replaying the
// store's partition decides every order the same way again.
import type { CatalogInventoryEvent, EventOfType, CATALOG_INVENTORY_TOPIC } from '../../schema/events';
import type { ViewSnapshot } from '../runtime/projection';
import {
  levelEntityId,
  reservationEntityId,
  stockStatus,
  type InventoryEntity,
  type InventoryLevelState,
  type ReservationState,
} from './projection';

type Ev<T extends CatalogInventoryEvent['type']> = EventOfType<typeof CATALOG_INVENTORY_TOPIC, T>;
type Changes = Map<string, InventoryEntity | undefined>;

/** Not-found reports a level remembers (for likelihoodInStock), newest last. */
export const NOT_FOUND_MEMORY = 10;

/** What a level holds for the stock arithmetic, with defaults for states stored before reservations. */
function levelOf(s: InventoryEntity | undefined): InventoryLevelState | undefined {
  if (s?.kind !== 'level') return undefined;
  return { ...s, reserved: s.reserved ?? 0, notFound: s.notFound ?? [], outSinceReport: s.outSinceReport ?? false, reservedSinceReport: s.reservedSinceReport ?? 0, reportedAt: s.reportedAt ?? s.updatedAt };
}

/** Available = on hand minus held, never negative; nothing while an item not found waits for the next report. */
export function withAvailability(l: Omit<InventoryLevelState, 'available' | 'status'>): Omit<InventoryLevelState, 'version' | 'updatedAt'> & Pick<InventoryLevelState, 'version' | 'updatedAt'> {
  const available = l.outSinceReport ? 0 : Math.max(0, l.quantity - l.reserved);
  return { ...l, available, status: stockStatus(available) };
}

const sameStock = (a: InventoryLevelState, b: InventoryLevelState) =>
  a.quantity === b.quantity && a.reserved === b.reserved && a.available === b.available && a.outSinceReport === b.outSinceReport;

/** The next state of a level: its version moves only when something a reader sees changed. */
function nextLevel(prev: InventoryLevelState | undefined, draft: Omit<InventoryLevelState, 'available' | 'status' | 'version' | 'updatedAt'>, at: string): InventoryLevelState {
  const next = withAvailability({ ...draft, version: prev?.version ?? 0, updatedAt: prev?.updatedAt ?? at }) as InventoryLevelState;
  if (prev && sameStock(prev, next)) return { ...next, version: prev.version, updatedAt: prev.updatedAt };
  return { ...next, version: (prev?.version ?? 0) + 1, updatedAt: at };
}

/** A stock report: the count on the shelf, which still includes units held for orders not yet delivered. */
export function applyReport(view: ViewSnapshot<InventoryEntity>, e: Ev<'InventoryReported'>): Changes {
  const { storeId, productId, quantity } = e.payload;
  const id = levelEntityId(storeId, productId);
  const prev = levelOf(view.get(id));
  // Re-reporting the same quantity, with nothing to reset, is no change.
  if (prev && prev.quantity === quantity && !prev.outSinceReport && prev.reservedSinceReport === 0) return new Map();
  const next = nextLevel(
    prev,
    {
      kind: 'level',
      storeId,
      productId,
      quantity,
      reserved: prev?.reserved ?? 0,
      notFound: prev?.notFound ?? [],
      outSinceReport: false,
      reservedSinceReport: 0,
      reportedAt: e.occurredAt,
    },
    e.occurredAt,
  );
  return new Map([[id, next]]);
}

/**
 * The decision: the first request for an order in its store's log reserves, item by item, what
 * is available then; a repeat (the router re-read the orders topic) finds the reservation and
 * changes nothing. A product the store never reported is short.
 */
export function applyRequest(view: ViewSnapshot<InventoryEntity>, e: Ev<'ReservationRequested'>, position: { partition: number; offset: number }): Changes {
  const { storeId, orderId, customerId, totalCents, items } = e.payload;
  const resId = reservationEntityId(storeId, orderId);
  if (view.get(resId)) return new Map();
  const out: Changes = new Map();
  const levels = new Map<string, InventoryLevelState | undefined>();
  const decided = items.map(({ productId, quantity }) => {
    const id = levelEntityId(storeId, productId);
    const cur = levels.has(id) ? levels.get(id) : levelOf(view.get(id));
    if (!cur) return { productId, quantity, reserved: 0 };
    const reserved = Math.min(quantity, cur.available);
    if (reserved > 0) {
      const next = nextLevel(cur, { ...cur, reserved: cur.reserved + reserved, reservedSinceReport: cur.reservedSinceReport + reserved }, e.occurredAt);
      levels.set(id, next);
      out.set(id, next);
    } else levels.set(id, cur);
    return { productId, quantity, reserved };
  });
  const res: ReservationState = { kind: 'reservation', storeId, orderId, customerId, totalCents, items: decided, state: 'HELD', decidedAt: e.occurredAt, position };
  out.set(resId, res);
  return out;
}

/** Cancel releases what the order holds; delivery takes it off the shelf count. Once per order. */
export function applyEnd(view: ViewSnapshot<InventoryEntity>, e: Ev<'ReservationEnded'>, position: { partition: number; offset: number }): Changes {
  const { storeId, orderId, outcome } = e.payload;
  const resId = reservationEntityId(storeId, orderId);
  const res = view.get(resId);
  // An end with no decision before it (an order from before reservations) leaves a marker, so a
  // request re-sent later for the same order cannot reserve again.
  if (!res || res.kind !== 'reservation')
    return new Map([[resId, { kind: 'reservation', storeId, orderId, customerId: '', totalCents: 0, items: [], state: outcome, decidedAt: e.occurredAt, position } satisfies ReservationState]]);
  if (res.state !== 'HELD') return new Map();
  const out: Changes = new Map([[resId, { ...res, state: outcome }]]);
  for (const item of res.items) {
    if (item.reserved === 0) continue;
    const id = levelEntityId(storeId, item.productId);
    const cur = levelOf((out.get(id) as InventoryEntity | undefined) ?? view.get(id));
    if (!cur) continue;
    out.set(
      id,
      nextLevel(
        cur,
        {
          ...cur,
          reserved: Math.max(0, cur.reserved - item.reserved),
          quantity: outcome === 'CONSUMED' ? Math.max(0, cur.quantity - item.reserved) : cur.quantity,
        },
        e.occurredAt,
      ),
    );
  }
  return out;
}

/**
 * A shopper did not find the product: it is out of stock at the store until the store's next
 * report, and the order's hold on it is let go (those units are not on the shelf).
 */
export function applyNotFound(view: ViewSnapshot<InventoryEntity>, e: Ev<'ItemNotFoundReported'>): Changes {
  const { storeId, productId, orderId } = e.payload;
  const id = levelEntityId(storeId, productId);
  const resId = reservationEntityId(storeId, orderId);
  const out: Changes = new Map();
  const res = view.get(resId);
  let release = 0;
  if (res?.kind === 'reservation' && res.state === 'HELD') {
    release = res.items.filter((i) => i.productId === productId).reduce((a, i) => a + i.reserved, 0);
    if (release > 0) out.set(resId, { ...res, items: res.items.map((i) => (i.productId === productId ? { ...i, reserved: 0 } : i)) });
  }
  const cur = levelOf(view.get(id));
  const base = cur ?? { kind: 'level' as const, storeId, productId, quantity: 0, reserved: 0, notFound: [], outSinceReport: false, reservedSinceReport: 0, reportedAt: null };
  out.set(
    id,
    nextLevel(
      cur,
      {
        ...base,
        reserved: Math.max(0, base.reserved - release),
        notFound: [...base.notFound, e.occurredAt].slice(-NOT_FOUND_MEMORY),
        outSinceReport: true,
      },
      e.occurredAt,
    ),
  );
  return out;
}

// ---- likelihoodInStock ---------------------------------------------------------------

/** A report's weight halves every this many hours. */
export const REPORT_HALF_LIFE_HOURS = 24;
/** Not-found reports count against a level for this long, each one multiplying by NOT_FOUND_FACTOR. */
export const NOT_FOUND_WINDOW_HOURS = 7 * 24;
export const NOT_FOUND_FACTOR = 0.75;

/**
 * How likely the product is on the shelf now, 0..1 (docs/reservations.md): 0 when nothing is
 * available (or an item was not found since the last report); otherwise the report's trust
 * (1 when fresh, falling to 0.5 as it ages), times how well the available units outlast an hour
 * of the demand seen since the report, times 0.75 per not-found report in the last week. Pure:
 * `nowMs` is the reader's clock.
 */
export function likelihoodInStock(level: Pick<InventoryLevelState, 'available'> & Partial<InventoryLevelState>, nowMs: number): number {
  if (level.available <= 0 || level.outSinceReport) return 0;
  const hour = 3_600_000;
  const reportedMs = level.reportedAt ? Date.parse(level.reportedAt) : NaN;
  const ageHours = Number.isNaN(reportedMs) ? Infinity : Math.max(0, (nowMs - reportedMs) / hour);
  const trust = 0.5 + 0.5 * 0.5 ** (ageHours / REPORT_HALF_LIFE_HOURS);
  // Units reserved per hour since the report (at least an hour's window, so one quick order is not a rush).
  const rate = Number.isFinite(ageHours) ? (level.reservedSinceReport ?? 0) / Math.max(1, ageHours) : 0;
  const outlasts = level.available / (level.available + rate);
  const recentNotFound = (level.notFound ?? []).filter((t) => nowMs - Date.parse(t) <= NOT_FOUND_WINDOW_HOURS * hour).length;
  const p = trust * outlasts * NOT_FOUND_FACTOR ** recentNotFound;
  return Math.min(1, Math.max(0, Math.round(p * 1000) / 1000));
}
