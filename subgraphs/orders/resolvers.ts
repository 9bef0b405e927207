// The orders subgraph's resolvers: thin, reading through per-request loaders and handing
// mutations to the commands.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { OrderStatus } from '../../schema/events';
import { badInput, forbidden, notFound, unauthenticated } from '../runtime/errors';
import { hasRole } from '../../platform/identity';
import { currentThenChanges } from '../runtime/noticeHub';
import { InvalidCursorError } from '../runtime/viewReader';
import { canReadCustomerOrders, canReadOrder } from './access';
import { advanceOrder, cancelOrder, placeOrder, reportItemNotFound, updateDeliveryEstimate, type PlaceOrderInput } from './commands';
import type { OrdersContext } from './context';
import { shortOf, type OrderItemState, type OrderState } from './projection';

const MAX_PAGE = 100;

async function readableOrder(ctx: OrdersContext, id: string): Promise<OrderState | null> {
  const order = await ctx.loaders.orders.load(id);
  if (!order) return null;
  if (!canReadOrder(ctx.identity, order)) throw forbidden('you can only read your own orders');
  return order;
}

export const resolvers: GraphQLResolverMap<OrdersContext> = {
  Query: {
    order: (_: unknown, { id }: { id: string }, ctx: OrdersContext) => readableOrder(ctx, id),
  },
  Mutation: {
    placeOrder: (_: unknown, { input }: { input: PlaceOrderInput }, ctx: OrdersContext) => placeOrder(ctx, input),
    advanceOrder: (_: unknown, a: { id: string; status: OrderStatus }, ctx: OrdersContext) =>
      advanceOrder(ctx, a.id, a.status),
    updateDeliveryEstimate: (_: unknown, a: { id: string; estimatedDeliveryAt: string }, ctx: OrdersContext) =>
      updateDeliveryEstimate(ctx, a.id, a.estimatedDeliveryAt),
    cancelOrder: (_: unknown, { id }: { id: string }, ctx: OrdersContext) => cancelOrder(ctx, id),
    reportItemNotFound: (_: unknown, a: { orderId: string; productId: string }, ctx: OrdersContext) =>
      reportItemNotFound(ctx, a.orderId, a.productId),
  },
  Subscription: {
    orderUpdated: {
      subscribe: async (_: unknown, { id }: { id: string }, ctx: OrdersContext) => {
        const order = (await ctx.views.orders.reader.getMany([id]))[0];
        if (!order) throw notFound('order', id);
        if (!canReadOrder(ctx.identity, order)) throw forbidden('you can only follow your own orders');
        return currentThenChanges<OrderState>({
          hub: ctx.views.orders.notices,
          filter: (c) => c.id === id,
          ids: [id],
          current: async () => {
            const now = (await ctx.views.orders.reader.getMany([id]))[0];
            return now ? [[id, now] as const] : [];
          },
          versionOf: (s) => s.version,
        });
      },
      resolve: (order: OrderState) => order,
    },
    myOrders: {
      subscribe: async (_: unknown, _args: unknown, ctx: OrdersContext) => {
        const customerId = ctx.identity.sub;
        if (!customerId) throw unauthenticated('sign in to follow your orders');
        if (!hasRole(ctx.identity, 'customer')) throw forbidden('myOrders follows a customer’s own orders');
        return currentThenChanges<OrderState>({
          hub: ctx.views.orders.notices,
          filter: (c) => c.state?.customerId === customerId,
          current: async () => {
            const page = await ctx.views.orders.reader.indexPage(`customer:${customerId}`, { first: 20 });
            const states = await ctx.views.orders.reader.getMany(page.ids);
            return page.ids.flatMap((id, i) => (states[i] ? [[id, states[i]!] as const] : []));
          },
          versionOf: (s) => s.version,
        });
      },
      resolve: (order: OrderState) => order,
    },
  },
  Order: {
    __resolveReference: (ref: { id: string }, ctx: OrdersContext) => readableOrder(ctx, ref.id),
    customer: (o: OrderState) => ({ __typename: 'Customer', id: o.customerId }),
    store: (o: OrderState) => ({ __typename: 'Store', id: o.storeId }),
    statusHistory: (o: OrderState) => o.statusHistory.map(({ status, at }) => ({ status, at })),
    shortItems: (o: OrderState) => o.items.filter((i) => (shortOf(i) ?? 0) > 0),
  },
  OrderItem: {
    product: (i: { productId: string }) => ({ __typename: 'Product', id: i.productId }),
    reserved: (i: OrderItemState) => (i.notFound ? 0 : (i.reserved ?? null)),
    short: (i: OrderItemState) => shortOf(i),
    notFound: (i: OrderItemState) => i.notFound === true,
  },
  Customer: {
    __resolveReference: (ref: { id: string }) => ref,
    orders: async ({ id }: { id: string }, args: { first: number; after?: string | null }, ctx: OrdersContext) => {
      if (!canReadCustomerOrders(ctx.identity, id)) throw forbidden('you can only list your own orders');
      if (args.first < 0 || args.first > MAX_PAGE) throw badInput(`first must be 0 to ${MAX_PAGE}`, 'first');
      const page = await ctx.views.orders.reader
        .indexPage(`customer:${id}`, { first: args.first, after: args.after })
        .catch((e: unknown) => {
          throw e instanceof InvalidCursorError ? badInput(e.message, 'after') : e;
        });
      const orders = await ctx.loaders.orders.loadMany(page.ids);
      return {
        edges: page.ids.flatMap((_, i) => {
          const node = orders[i];
          return node && !(node instanceof Error) ? [{ cursor: page.cursors[i], node }] : [];
        }),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      };
    },
  },
};
