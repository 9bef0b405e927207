// The catalog team's data products: what the catalog of data products (the mesh subgraph)
// shows analysts and other teams. Topics (the products table's change stream, the inventory
// feed), views and contracts come from declaration.ts.
import { defineDataProducts } from '../runtime/declaration';

export const dataProducts = defineDataProducts([
  {
    name: 'catalog',
    team: 'catalog',
    contact: '#team-catalog',
    description: 'Products (from the catalog database through change data capture), stores and their stock levels per product.',
    views: {
      products: ['Product.name', 'Product.brand', 'Product.category', 'Product.priceCents', 'Query.product', 'Query.products'],
      inventory: ['Store.name', 'Store.inventory', 'Product.availability', 'InventoryLevel.product', 'InventoryLevel.quantity', 'InventoryLevel.reserved', 'InventoryLevel.available', 'InventoryLevel.status', 'InventoryLevel.likelihoodInStock', 'InventoryLevel.updatedAt', 'InventoryLevel.version', 'Query.store', 'Subscription.inventoryChanged'],
    },
    serviceLevels: { maxLag: { records: 1000, seconds: 60 }, maxEventAgeSeconds: 3600, minValidShare: 0.99 },
  },
]);
