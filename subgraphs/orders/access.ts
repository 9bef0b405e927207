// Who may read an order: its customer, shoppers and admins. Everyone else learns nothing.
import { hasRole, type Identity } from '../../platform/identity';
import type { OrderState } from './projection';

export function canReadOrder(identity: Identity, order: Pick<OrderState, 'customerId'>): boolean {
  return hasRole(identity, 'admin', 'shopper') || (hasRole(identity, 'customer') && identity.sub === order.customerId);
}

/** Whether the caller may list a customer's orders. */
export function canReadCustomerOrders(identity: Identity, customerId: string): boolean {
  return hasRole(identity, 'admin', 'shopper') || (hasRole(identity, 'customer') && identity.sub === customerId);
}
