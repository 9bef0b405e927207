// The customers resolvers: thin glue from GraphQL fields to access checks, loaders and commands.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { notFound } from '../runtime/errors';
import { hasRole } from '../../platform/identity';
import { assertMayAccessCustomer, assertMayListCustomers, assertMayResolveCustomer, assertSignedIn } from './access';
import { registerCustomer, updateCustomer, type RegisterCustomerInput, type UpdateCustomerInput } from './commands';
import type { CustomersContext } from './context';
import type { CustomerProfile } from './projection';
import { customer360Of, pageCustomers } from './reads';

type Ctx = CustomersContext;

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
  },
};
