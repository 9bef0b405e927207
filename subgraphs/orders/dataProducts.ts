// The orders team's data products: what the catalog of data products (the mesh subgraph)
// shows analysts and other teams. Topics, views and contracts come from declaration.ts.
import { defineDataProducts } from '../runtime/declaration';

export const dataProducts = defineDataProducts([
  {
    name: 'orders',
    team: 'orders',
    contact: '#team-orders',
    description: 'Orders through their lifecycle (placed, picked, delivered or canceled) with delivery estimates; the prices and stores an order is checked against.',
    views: {
      orders: [
        'Order.customer', 'Order.store', 'Order.status', 'Order.statusHistory', 'Order.items', 'Order.shortItems', 'Order.totalCents', 'Order.placedAt', 'Order.updatedAt', 'Order.version', 'Order.estimatedDeliveryAt',
        'OrderItem.product', 'OrderItem.quantity', 'OrderItem.unitPriceCents', 'OrderItem.reserved', 'OrderItem.short', 'OrderItem.notFound', 'StatusChange.status', 'StatusChange.at',
        'Customer.orders', 'Query.order', 'Subscription.orderUpdated', 'Subscription.myOrders',
      ],
      prices: ['Mutation.placeOrder'],
      stores: ['Mutation.placeOrder'],
      availability: ['Mutation.placeOrder'],
    },
    serviceLevels: { maxLag: { records: 1000, seconds: 60 }, maxEventAgeSeconds: 900, minValidShare: 0.99 },
  },
]);
