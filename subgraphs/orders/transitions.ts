// The order lifecycle: which status may follow which. Commands check it before emitting;
// the projection checks it again, so a stale or concurrent transition changes nothing.
import type { OrderStatus } from '../../schema/events';

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  // CONFIRMED and PARTIALLY_CONFIRMED come only from the store inventory's decision (never a
  // command); a shopper may still take an order before that decision arrives.
  PLACED: ['CONFIRMED', 'PARTIALLY_CONFIRMED', 'SHOPPER_ASSIGNED', 'CANCELED'],
  CONFIRMED: ['SHOPPER_ASSIGNED', 'CANCELED'],
  PARTIALLY_CONFIRMED: ['SHOPPER_ASSIGNED', 'CANCELED'],
  SHOPPER_ASSIGNED: ['PICKING', 'CANCELED'],
  PICKING: ['OUT_FOR_DELIVERY', 'CANCELED'],
  OUT_FOR_DELIVERY: ['DELIVERED'],
  DELIVERED: [],
  CANCELED: [],
};

export function isLegalTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

/** Statuses only the reservation decision sets: advanceOrder refuses them. */
export const DECIDED_STATUSES: readonly OrderStatus[] = ['CONFIRMED', 'PARTIALLY_CONFIRMED'];

/**
 * Whether a transition checked against `from` still applies to an order now at `current`: the
 * same status, or both in the placed stage (a confirmation that arrived between the command's
 * read and its event is not a competing human transition).
 */
export function sameStage(current: OrderStatus, from: OrderStatus): boolean {
  const placed = (s: OrderStatus) => s === 'PLACED' || DECIDED_STATUSES.includes(s);
  return current === from || (placed(current) && placed(from));
}
