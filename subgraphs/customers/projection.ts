// The customers subgraph's pure folds: customer profiles from the `customers` topic and
// the customer-360 counters from the `orders` topic. No I/O; the runtime does Kafka and Redis.
import { CUSTOMERS_TOPIC, type CustomerTier, ORDERS_TOPIC, type OrdersEvent } from '../../schema/events';
import type { Projection } from '../runtime/projection';

/** A customer's profile as the `customers.profiles` view stores it. */
export interface CustomerProfile {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly tier: CustomerTier;
  /** occurredAt of the registration. */
  readonly createdAt: string;
  /** 1 at registration, +1 for every update that changed something. */
  readonly version: number;
}

/** The index of every customer, scored by registration time (ms): the admin list pages it. */
export const ALL_CUSTOMERS_INDEX = 'all';

export const customersProjection: Projection<typeof CUSTOMERS_TOPIC, CustomerProfile> = {
  name: 'customers.profiles',
  topic: CUSTOMERS_TOPIC,
  reads: (e) => [e.payload.customerId],
  // The topic is keyed by customerId, so one customer's profile lives in one partition.
  recordKeyOf: (id) => id,
  apply(view, e) {
    const id = e.payload.customerId;
    const cur = view.get(id);
    switch (e.type) {
      case 'CustomerRegistered': {
        // Ids are generated server-side, so a second registration of an id is a retry or a
        // foreign producer's mistake: the first one stands.
        if (cur) return new Map();
        const { name, email, tier } = e.payload;
        return new Map([[id, { id, name, email, tier, createdAt: e.occurredAt, version: 1 }]]);
      }
      case 'CustomerUpdated': {
        // Registration and updates share a partition, so this is never a reordering: it is an
        // event no command would write. Throwing dead-letters it where an operator sees it.
        if (!cur) throw new Error(`CustomerUpdated for unregistered customer ${id}`);
        const next: CustomerProfile = {
          ...cur,
          name: e.payload.name ?? cur.name,
          email: e.payload.email ?? cur.email,
          tier: e.payload.tier ?? cur.tier,
        };
        // A version counts changes, so an update that changes nothing leaves it (and the view) alone.
        if (next.name === cur.name && next.email === cur.email && next.tier === cur.tier) return new Map();
        return new Map([[id, { ...next, version: cur.version + 1 }]]);
      }
    }
  },
  indexes: (_id, s) => [{ index: ALL_CUSTOMERS_INDEX, score: Date.parse(s.createdAt) }],
};

/**
 * One partition's part of a customer's 360 counters. The orders topic is keyed by order id,
 * so a customer's orders spread over every partition; the parts add up on read.
 *
 * - `orderCount`: orders placed (each order id once), canceled ones included, so it equals
 *   the number of orders `Customer.orders` lists.
 * - `lifetimeSpendCents`: the totals of those orders minus the totals of the ones canceled
 *   (each order subtracts at most once, the amount it added): money committed, not refunded.
 * - `lastOrderAt`: occurredAt of the latest placement (a cancel does not move it back).
 */
export interface Customer360 {
  readonly orderCount: number;
  readonly lifetimeSpendCents: number;
  readonly lastOrderAt: string | null;
}

/**
 * What the 360 fold remembers of one order, so a repeated OrderPlaced or CANCELED (a retrying
 * producer, a replayed tool) counts once and a cancel subtracts exactly what was added. It
 * lives in the order's own partition (the topic is keyed by order id), so it is always in the
 * snapshot the fold of that order's events reads.
 */
export interface OrderMark {
  readonly customerId: string;
  readonly totalCents: number;
  readonly canceled: boolean;
}

/** The 360 view holds two kinds of entity, told apart by id prefix. */
export type Orders360State = Customer360 | OrderMark;

export const NO_ORDERS: Customer360 = { orderCount: 0, lifetimeSpendCents: 0, lastOrderAt: null };

const CUSTOMER_PREFIX = 'c:';
const ORDER_PREFIX = 'o:';
/** The 360 view's entity id of a customer's counters. */
export const customer360Id = (customerId: string) => `${CUSTOMER_PREFIX}${customerId}`;
/** The 360 view's entity id of an order's mark. */
export const orderMarkId = (orderId: string) => `${ORDER_PREFIX}${orderId}`;

const later = (a: string | null, b: string | null): string | null => {
  if (a === null) return b;
  if (b === null) return a;
  // Compare instants, not strings: the contract accepts ISO times with any offset.
  return Date.parse(b) > Date.parse(a) ? b : a;
};

/** Adds per-partition parts: sums and the latest time, so any split of the log adds up to the whole. */
export function combineCustomer360(parts: readonly Customer360[]): Customer360 {
  return parts.reduce<Customer360>(
    (a, p) => ({
      orderCount: a.orderCount + p.orderCount,
      lifetimeSpendCents: a.lifetimeSpendCents + p.lifetimeSpendCents,
      lastOrderAt: later(a.lastOrderAt, p.lastOrderAt),
    }),
    NO_ORDERS,
  );
}

export const customer360Projection: Projection<typeof ORDERS_TOPIC, Orders360State> = {
  name: 'customers.orders360',
  topic: ORDERS_TOPIC,
  reads: (e) => [customer360Id(e.payload.customerId), orderMarkId(e.payload.orderId)],
  // Counters are spread over partitions; an order's mark sits where the order's events do.
  recordKeyOf: (id) => (id.startsWith(ORDER_PREFIX) ? id.slice(ORDER_PREFIX.length) : null),
  // Only spread ids (customers) are combined; order marks are read from one partition.
  combine: (parts) => combineCustomer360(parts as readonly Customer360[]),
  // No subscription reads this view, so a change notice per chunk would be published for no one.
  notify: false,
  // Delivery estimates, the orders topic's most frequent events, change no counter.
  types: ['OrderPlaced', 'OrderStatusChanged'],
  apply(view, e: OrdersEvent) {
    const cid = customer360Id(e.payload.customerId);
    const mid = orderMarkId(e.payload.orderId);
    const counters = (view.get(cid) as Customer360 | undefined) ?? NO_ORDERS;
    const mark = view.get(mid) as OrderMark | undefined;
    switch (e.type) {
      case 'OrderPlaced': {
        if (mark) return new Map();
        const { customerId, totalCents } = e.payload;
        return new Map<string, Orders360State>([
          [mid, { customerId, totalCents, canceled: false }],
          [
            cid,
            {
              orderCount: counters.orderCount + 1,
              lifetimeSpendCents: counters.lifetimeSpendCents + totalCents,
              lastOrderAt: later(counters.lastOrderAt, e.occurredAt),
            },
          ],
        ]);
      }
      case 'OrderStatusChanged': {
        // Only a cancel moves money; an order never counted (its placement was dead-lettered)
        // or already canceled has nothing left to subtract.
        if (e.payload.to !== 'CANCELED' || !mark || mark.canceled) return new Map();
        // Subtracting from someone other than the customer it was added to would make two
        // customers wrong; dead-lettering the event keeps both right and shows it to operators.
        if (mark.customerId !== e.payload.customerId)
          throw new Error(`order ${e.payload.orderId} was placed by ${mark.customerId}, not ${e.payload.customerId}`);
        return new Map<string, Orders360State>([
          [mid, { ...mark, canceled: true }],
          [cid, { ...counters, lifetimeSpendCents: counters.lifetimeSpendCents - mark.totalCents }],
        ]);
      }
      case 'OrderEtaUpdated':
        return new Map();
    }
  },
};
