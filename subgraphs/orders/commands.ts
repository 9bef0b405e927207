// The orders team's mutations: check the caller and the input against the views, emit
// one event, and answer from the view once it has applied that event.
import { randomUUID } from 'node:crypto';
import { ORDER_STATUSES, ORDERS_TOPIC, type OrderStatus } from '../../schema/events';
import { badInput, forbidden, invalidTransition, notFound, orderFinished, outOfStock, unauthenticated } from '../runtime/errors';
import { hasRole } from '../../platform/identity';
import { checkId, eventFromInput, TOKEN_SUB } from '../runtime/inputChecks';
import type { OrdersContext } from './context';
import { availabilityId, type OrderState } from './projection';
import { DECIDED_STATUSES, isLegalTransition } from './transitions';

export interface PlaceOrderInput {
  readonly storeId: string;
  readonly items: ReadonlyArray<{ productId: string; quantity: number; unitPriceCents?: number | null }>;
}

// The event contract's limits, checked here first so the caller hears about its own field names.
const MAX_ITEMS = 200;
const MAX_QUANTITY = 1000;
const MAX_TOTAL_CENTS = 1_000_000_000;

/**
 * Places an order for the calling customer after checking the input, that the store and every
 * product exist (as the catalog last published them), the prices and the total. Nothing is
 * written unless all of that holds.
 */
export async function placeOrder(ctx: OrdersContext, input: PlaceOrderInput): Promise<OrderState> {
  if (!ctx.identity.sub) throw unauthenticated('sign in to place an order');
  if (!hasRole(ctx.identity, 'customer', 'admin')) throw forbidden('only customers place orders');
  if (!input.storeId.trim()) throw badInput('input.storeId must not be blank', 'input.storeId');
  const storeId = checkId(input.storeId, 'input.storeId');
  if (input.items.length === 0) throw badInput('an order needs at least one item', 'input.items');
  if (input.items.length > MAX_ITEMS) throw badInput(`an order has at most ${MAX_ITEMS} items`, 'input.items');
  input.items.forEach((item, n) => {
    checkId(item.productId, `input.items[${n}].productId`);
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY)
      throw badInput(`input.items[${n}].quantity must be 1 to ${MAX_QUANTITY}`, `input.items[${n}].quantity`);
  });
  const [[store], prices, levels] = await Promise.all([
    ctx.views.stores.reader.getMany([storeId]),
    ctx.views.prices.reader.getMany(input.items.map((i) => i.productId)),
    ctx.views.availability.reader.getMany(input.items.map((i) => availabilityId(storeId, i.productId))),
  ]);
  if (!store) throw notFound('store', storeId);
  const items = input.items.map((item, n) => {
    const product = prices[n];
    if (!product) throw notFound('product', item.productId);
    if (item.unitPriceCents != null && item.unitPriceCents !== product.priceCents)
      throw badInput(
        `the price of ${product.name} is now ${product.priceCents} cents, not ${item.unitPriceCents}`,
        `input.items[${n}].unitPriceCents`,
      );
    return { productId: item.productId, quantity: item.quantity, unitPriceCents: product.priceCents };
  });
  // Early refusal from this team's own copy of availability: an item it shows with nothing left
  // is refused here. A level it does not know, or one that sold out since, the store's
  // reservation step decides (docs/reservations.md).
  const gone = input.items.flatMap((item, n) => (levels[n]?.available === 0 ? [{ productId: item.productId, name: prices[n]?.name }] : []));
  if (gone.length > 0) throw outOfStock([...new Map(gone.map((g) => [g.productId, g])).values()]);
  const totalCents = items.reduce((a, i) => a + i.quantity * i.unitPriceCents, 0);
  if (totalCents > MAX_TOTAL_CENTS)
    throw badInput(`the order would total ${totalCents} cents; an order totals at most ${MAX_TOTAL_CENTS} cents`, 'input.items');
  const orderId = randomUUID();
  const event = eventFromInput(
    ORDERS_TOPIC,
    'OrderPlaced',
    { orderId, customerId: ctx.identity.sub, storeId, items, totalCents },
    { customerId: TOKEN_SUB, storeId: 'input.storeId', items: 'input.items' },
  );
  await ctx.runtime.emit(ORDERS_TOPIC, event, ctx.views.orders);
  return readOrder(ctx, orderId);
}

/** Moves an order to `to` if that is a legal next status; shoppers and admins only. */
export async function advanceOrder(ctx: OrdersContext, id: string, to: OrderStatus): Promise<OrderState> {
  if (!ctx.identity.sub && ctx.identity.roles.length === 0) throw unauthenticated();
  if (!hasRole(ctx.identity, 'shopper', 'admin')) throw forbidden('only shoppers advance orders');
  if (!(ORDER_STATUSES as readonly string[]).includes(to)) throw badInput(`unknown status ${to}`, 'status');
  // Confirmation is the store inventory's decision, never a shopper's.
  if (DECIDED_STATUSES.includes(to)) throw badInput(`${to} is set by the store's inventory when it reserves the items`, 'status');
  return transition(ctx, id, to);
}

/**
 * A shopper did not find an item in the aisle: it is short on the order, and the store's
 * inventory marks the product out of stock until its next report.
 */
export async function reportItemNotFound(ctx: OrdersContext, id: string, productId: string): Promise<OrderState> {
  if (!ctx.identity.sub && ctx.identity.roles.length === 0) throw unauthenticated();
  if (!hasRole(ctx.identity, 'shopper', 'admin')) throw forbidden('only shoppers report items not found');
  checkId(productId, 'productId');
  const order = await readOrder(ctx, id);
  if (order.status === 'DELIVERED' || order.status === 'CANCELED') throw orderFinished(order.status);
  if (!order.items.some((i) => i.productId === productId)) throw badInput(`order ${id} has no item ${productId}`, 'productId');
  if (order.items.every((i) => i.productId !== productId || i.notFound)) return order;
  const event = eventFromInput(
    ORDERS_TOPIC,
    'OrderStatusChanged',
    {
      orderId: id,
      customerId: order.customerId,
      storeId: order.storeId,
      totalCents: order.totalCents,
      from: order.status,
      to: order.status,
      by: ctx.identity.sub ?? undefined,
      notFound: productId,
    },
    { orderId: 'id', notFound: 'productId', by: TOKEN_SUB },
  );
  await ctx.runtime.emit(ORDERS_TOPIC, event, ctx.views.orders);
  return readOrder(ctx, id);
}

/** A shopper's (or admin's) new delivery estimate for an order that is still under way. */
export async function updateDeliveryEstimate(ctx: OrdersContext, id: string, estimatedDeliveryAt: string): Promise<OrderState> {
  if (!ctx.identity.sub && ctx.identity.roles.length === 0) throw unauthenticated();
  if (!hasRole(ctx.identity, 'shopper', 'admin')) throw forbidden('only shoppers update delivery estimates');
  const at = Date.parse(estimatedDeliveryAt);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(estimatedDeliveryAt) || Number.isNaN(at)) throw badInput('estimatedDeliveryAt must be an ISO-8601 time', 'estimatedDeliveryAt');
  const order = await readOrder(ctx, id);
  if (order.status === 'DELIVERED' || order.status === 'CANCELED') throw orderFinished(order.status);
  // An offset can carry a time past year 9999, which has no four-digit ISO form: the contract refuses it.
  const event = eventFromInput(
    ORDERS_TOPIC,
    'OrderEtaUpdated',
    {
      orderId: id,
      customerId: order.customerId,
      storeId: order.storeId,
      estimatedDeliveryAt: new Date(at).toISOString(),
      by: ctx.identity.sub ?? undefined,
    },
    { orderId: 'id', estimatedDeliveryAt: 'estimatedDeliveryAt', by: TOKEN_SUB },
  );
  await ctx.runtime.emit(ORDERS_TOPIC, event, ctx.views.orders);
  return readOrder(ctx, id);
}

/** Cancels an order: its customer or an admin (shoppers cancel with advanceOrder). */
export async function cancelOrder(ctx: OrdersContext, id: string): Promise<OrderState> {
  if (!ctx.identity.sub) throw unauthenticated();
  const order = (await ctx.views.orders.reader.getMany([id]))[0];
  if (!order || !(hasRole(ctx.identity, 'admin') || (hasRole(ctx.identity, 'customer') && order.customerId === ctx.identity.sub)))
    throw forbidden('you can only cancel your own orders');
  return transition(ctx, id, 'CANCELED');
}

async function transition(ctx: OrdersContext, id: string, to: OrderStatus): Promise<OrderState> {
  const order = (await ctx.views.orders.reader.getMany([id]))[0];
  if (!order) throw notFound('order', id);
  if (!isLegalTransition(order.status, to)) throw invalidTransition(order.status, to);
  const event = eventFromInput(
    ORDERS_TOPIC,
    'OrderStatusChanged',
    {
      orderId: id,
      customerId: order.customerId,
      storeId: order.storeId,
      totalCents: order.totalCents,
      from: order.status,
      to,
      by: ctx.identity.sub ?? undefined,
      // The store's inventory releases (cancel) or consumes (delivery) these products' reservation.
      productIds: [...new Set(order.items.map((i) => i.productId))],
    },
    { orderId: 'id', to: 'status', by: TOKEN_SUB },
  );
  await ctx.runtime.emit(ORDERS_TOPIC, event, ctx.views.orders);
  const after = await readOrder(ctx, id);
  // The fold ignores a transition that lost a race with a concurrent one.
  if (!after.statusHistory.some((h) => h.eventId === event.eventId)) throw invalidTransition(after.status, to);
  return after;
}

async function readOrder(ctx: OrdersContext, id: string): Promise<OrderState> {
  const order = (await ctx.views.orders.reader.getMany([id]))[0];
  if (!order) throw notFound('order', id);
  return order;
}
