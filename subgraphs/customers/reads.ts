// Reads of the customers views: 360 counters with their zero default (the orders360 loader is
// keyed by 360 entity id, `customer360Id`, not by customer id), a profile read past the
// request's cache, and the admin list paged from the `all` index.
import { badInput } from '../runtime/errors';
import { InvalidCursorError } from '../runtime/viewReader';
import type { CustomersLoaders, CustomersViews } from './context';
import { customerActivityId, deviceActivityId, joinActivity, NO_ACTIVITY, type Activity } from './activity';
import { ALL_CUSTOMERS_INDEX, customer360Id, NO_ORDERS, type Customer360, type CustomerProfile } from './projection';

/** A customer's 360 counters; zeros before their first order. */
export async function customer360Of(loaders: CustomersLoaders, customerId: string): Promise<Customer360> {
  return ((await loaders.orders360.load(customer360Id(customerId))) as Customer360 | undefined) ?? NO_ORDERS;
}

/**
 * A customer's app activity with their claimed devices' anonymous activity joined in (activity.ts,
 * "Signing in"). Two reads: the customer's entity, then their devices' (one loader batch each).
 */
export async function activityOf(loaders: CustomersLoaders, customerId: string): Promise<Activity> {
  const own = ((await loaders.activity.load(customerActivityId(customerId))) as Activity | undefined) ?? NO_ACTIVITY;
  if (own.devices.length === 0) return own;
  const devices = await loaders.activity.loadMany(own.devices.map(deviceActivityId));
  const failed = devices.find((d): d is Error => d instanceof Error);
  if (failed) throw failed;
  return joinActivity(customerId, own, devices as (Activity | undefined)[]);
}

/** Reads a profile past the request's loader cache (after a write) and primes the cache with it. */
export async function readProfileFresh(views: CustomersViews, loaders: CustomersLoaders, id: string): Promise<CustomerProfile | undefined> {
  const [profile] = await views.profiles.reader.getMany([id]);
  loaders.profiles.clear(id);
  if (profile) loaders.profiles.prime(id, profile);
  return profile;
}

export interface CustomerPage {
  readonly edges: Array<{ cursor: string; node: CustomerProfile }>;
  readonly pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const MAX_PAGE = 100;

/** Customers in registration order (then id), `first` at a time after `after`. */
export async function pageCustomers(
  views: CustomersViews,
  loaders: CustomersLoaders,
  first: number,
  after: string | null | undefined,
): Promise<CustomerPage> {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`first must be from 1 to ${MAX_PAGE}`, 'first');
  const page = await views.profiles.reader.indexPage(ALL_CUSTOMERS_INDEX, { first, after }).catch((e: unknown) => {
    throw e instanceof InvalidCursorError ? badInput('after is not a cursor from a previous page', 'after') : e;
  });
  const profiles = await loaders.profiles.loadMany(page.ids);
  const failed = profiles.find((p): p is Error => p instanceof Error);
  if (failed) throw failed;
  // The index and the profile are written in one step; a gap can only be a generation switch
  // between the two reads, and skipping it beats failing the page.
  const edges = page.ids.flatMap((_, i) => {
    const node = profiles[i];
    return node && !(node instanceof Error) ? [{ cursor: page.cursors[i], node }] : [];
  });
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}
