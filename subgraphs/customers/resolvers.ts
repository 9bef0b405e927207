// The customers resolvers: thin glue from GraphQL fields to access checks, loaders and commands.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput, notFound } from '../runtime/errors';
import { hasRole } from '../../platform/identity';
import { assertMayAccessCustomer, assertMayListCustomers, assertMayReadActivity, assertMayResolveCustomer, assertSignedIn } from './access';
import { sessionsSince, type Activity } from './activity';
import { registerCustomer, updateCustomer, type RegisterCustomerInput, type UpdateCustomerInput } from './commands';
import type { CustomersContext } from './context';
import type { CustomerProfile } from './projection';
import { activityOf, customer360Of, pageCustomers } from './reads';

type Ctx = CustomersContext;

const MAX_RECENT = 50;
/** `first` of the activity lists: 1 to MAX_RECENT. */
function firstOf(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_RECENT) throw badInput(`first must be from 1 to ${MAX_RECENT}`, 'first');
  return first;
}

/** A customer's app activity, for the caller allowed to see it. */
async function activity(c: CustomerProfile, ctx: Ctx): Promise<Activity> {
  assertMayReadActivity(ctx.identity, c.id);
  return activityOf(ctx.loaders, c.id);
}
/** Products are the catalog's: this subgraph returns references and the gateway fetches the rest. */
const productRef = (id: string) => ({ __typename: 'Product', id });

export const resolvers: GraphQLResolverMap<Ctx> = {
  Query: {
    async customer(_: unknown, args: { id: string }, ctx: Ctx) {
      assertMayAccessCustomer(ctx.identity, args.id);
      const profile = await ctx.loaders.profiles.load(args.id);
      // Reached only by an admin or the customer themself, so saying "does not exist" leaks nothing.
      if (!profile) throw notFound('customer', args.id);
      return profile;
    },
    async me(_: unknown, __: unknown, ctx: Ctx) {
      assertSignedIn(ctx.identity);
      const { sub } = ctx.identity;
      // Shoppers, stores and admins are signed in but are not customers: they have no record.
      if (sub === null || !hasRole(ctx.identity, 'customer')) return null;
      return (await ctx.loaders.profiles.load(sub)) ?? null;
    },
    customers(_: unknown, args: { first: number; after?: string | null }, ctx: Ctx) {
      assertMayListCustomers(ctx.identity);
      return pageCustomers(ctx.views, ctx.loaders, args.first, args.after);
    },
  },
  Mutation: {
    registerCustomer: (_: unknown, args: { input: RegisterCustomerInput }, ctx: Ctx) => registerCustomer(ctx, args.input),
    updateCustomer: (_: unknown, args: { id: string; input: UpdateCustomerInput }, ctx: Ctx) =>
      updateCustomer(ctx, args.id, args.input),
  },
  Customer: {
    // Every representation of one _entities call goes through the same loader, so a list of
    // N customers is one Redis round trip, not N.
    async __resolveReference(ref: { id: string }, ctx: Ctx) {
      assertMayResolveCustomer(ctx.identity, ref.id);
      return (await ctx.loaders.profiles.load(ref.id)) ?? null;
    },
    orderCount: async (c: CustomerProfile, _: unknown, ctx: Ctx) => (await customer360Of(ctx.loaders, c.id)).orderCount,
    lifetimeSpendCents: async (c: CustomerProfile, _: unknown, ctx: Ctx) =>
      (await customer360Of(ctx.loaders, c.id)).lifetimeSpendCents,
    lastOrderAt: async (c: CustomerProfile, _: unknown, ctx: Ctx) => (await customer360Of(ctx.loaders, c.id)).lastOrderAt,
    lastSeenAt: async (c: CustomerProfile, _: unknown, ctx: Ctx) => (await activity(c, ctx)).lastSeenAt,
    sessionsLast7Days: async (c: CustomerProfile, _: unknown, ctx: Ctx) => sessionsSince(await activity(c, ctx), Date.now()),
    recentlyViewed: async (c: CustomerProfile, args: { first: number }, ctx: Ctx) => {
      const n = firstOf(args.first);
      return (await activity(c, ctx)).recentlyViewed.slice(0, n).map((v) => productRef(v.productId));
    },
    recentSearches: async (c: CustomerProfile, args: { first: number }, ctx: Ctx) => {
      const n = firstOf(args.first);
      return (await activity(c, ctx)).recentSearches.slice(0, n).map((s) => s.query);
    },
    cartItems: async (c: CustomerProfile, _: unknown, ctx: Ctx) =>
      (await activity(c, ctx)).cart.map((l) => ({ product: productRef(l.productId), quantity: l.quantity })),
  },
};
