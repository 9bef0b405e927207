// Who may read or change customer records. Every resolver asks here, so the rules live in
// one place and a denial never depends on whether the record exists.
//
// The rules (API.md, "Who may do what"):
// - anonymous: may register (a sign-up) and nothing else; any read is UNAUTHENTICATED.
// - customer: reads and updates only their own record (`sub` = customer id); `me` is theirs.
// - shopper: no direct reads, but may resolve Customer entity references (`_entities`),
//   which is how `Order.customer { name }` reaches them when they fulfil an order. The
//   orders subgraph decides which orders a shopper sees; this subgraph cannot tell which
//   customer ids came from an order, so it trusts the gateway's plan for shoppers.
// - store: nothing here, not even through orders (a store needs no customer's contact details).
// - admin: everything.
// Denials are FORBIDDEN with no data about the record (not even whether it exists).
import { forbidden, unauthenticated } from '../runtime/errors';
import { hasRole, type Identity } from '../../platform/identity';

/** Anonymous callers carry neither a subject nor a role. */
export const isAnonymous = (identity: Identity) => identity.sub === null && identity.roles.length === 0;

/** The caller is the customer `customerId` themself. */
export const isCustomerSelf = (identity: Identity, customerId: string) =>
  hasRole(identity, 'customer') && identity.sub === customerId;

const requireSignedIn = (identity: Identity) => {
  if (isAnonymous(identity)) throw unauthenticated();
};

/** customer(id), updateCustomer(id): the customer themself or an admin. */
export function assertMayAccessCustomer(identity: Identity, customerId: string): void {
  requireSignedIn(identity);
  if (!hasRole(identity, 'admin') && !isCustomerSelf(identity, customerId))
    throw forbidden(`not allowed to access customer ${customerId}`);
}

/** Customer entity references: admin, shopper, or the customer themself. */
export function assertMayResolveCustomer(identity: Identity, customerId: string): void {
  requireSignedIn(identity);
  if (!hasRole(identity, 'admin', 'shopper') && !isCustomerSelf(identity, customerId))
    throw forbidden(`not allowed to read customer ${customerId}`);
}

/** customers(...): admins only. */
export function assertMayListCustomers(identity: Identity): void {
  requireSignedIn(identity);
  if (!hasRole(identity, 'admin')) throw forbidden('only admins may list customers');
}

/** registerCustomer: a sign-up (anonymous) or an admin registering on someone's behalf. */
export function assertMayRegister(identity: Identity): void {
  if (!isAnonymous(identity) && !hasRole(identity, 'admin'))
    throw forbidden('already signed in: only anonymous callers (sign-up) or admins may register customers');
}

/** me: any signed-in caller; null unless they are a customer. */
export function assertSignedIn(identity: Identity): void {
  requireSignedIn(identity);
}

/**
 * What a customer did in the apps (Customer.lastSeenAt, recentlyViewed, ...): the customer
 * themself or an admin. Shoppers resolve a customer to deliver an order, not to see what they browse.
 */
export function assertMayReadActivity(identity: Identity, customerId: string): void {
  requireSignedIn(identity);
  if (!hasRole(identity, 'admin') && !isCustomerSelf(identity, customerId))
    throw forbidden(`not allowed to read the app activity of customer ${customerId}`);
}
