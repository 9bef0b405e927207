// The customers team's data products: what the catalog of data products (the mesh subgraph)
// shows analysts and other teams. Topics, views and contracts come from declaration.ts.
import { defineDataProducts } from '../runtime/declaration';

export const dataProducts = defineDataProducts([
  {
    name: 'customers',
    team: 'customers',
    contact: '#team-customers',
    description: 'Registered customers (profile, tier) and a customer-360 folded from their orders (how many, how much, how recent) and from their app activity (client-events).',
    views: {
      profiles: ['Customer.name', 'Customer.email', 'Customer.tier', 'Customer.createdAt', 'Query.customer', 'Query.me', 'Query.customers'],
      orders360: ['Customer.orderCount', 'Customer.lifetimeSpendCents', 'Customer.lastOrderAt'],
      activity: ['Customer.lastSeenAt', 'Customer.sessionsLast7Days', 'Customer.recentlyViewed', 'Customer.recentSearches', 'Customer.cartItems', 'CartItem.product', 'CartItem.quantity'],
    },
    serviceLevels: { maxLag: { records: 1000, seconds: 60 }, maxEventAgeSeconds: null, minValidShare: 0.99 },
  },
]);
