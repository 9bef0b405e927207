// The order lifecycle: which status may follow which. Commands check it before emitting;
// the projection checks it again, so a stale or concurrent transition changes nothing.
import type { OrderStatus } from '../../schema/events';

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  PLACED: ['SHOPPER_ASSIGNED', 'CANCELED'],
  SHOPPER_ASSIGNED: ['PICKING', 'CANCELED'],
  PICKING: ['OUT_FOR_DELIVERY', 'CANCELED'],
  OUT_FOR_DELIVERY: ['DELIVERED'],
  DELIVERED: [],
  CANCELED: [],
};

export function isLegalTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}
