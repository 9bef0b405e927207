// The catalog's resolvers: thin wiring of fields to loaders, view reads and commands.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { reportInventory, upsertProduct, upsertStore, type ProductInput, type StoreInput } from './commands';
import type { CatalogDatabase } from './catalogDatabase';
import type { CatalogContext } from './context';
import { likelihoodInStock } from './reservations';
import { inventoryChanges, storeInventoryPage } from './inventory';
import { productsPage, type ProductsArgs } from './products';
import {
  isEncodableId,
  isLevel,
  isStore,
  levelEntityId,
  stockStatus,
  storeEntityId,
  type InventoryLevelState,
  type ProductState,
  type StockStatus,
  type StoreState,
} from './projection';

// An id that cannot be encoded (a lone surrogate) names nothing in the view.
const store = async (ctx: CatalogContext, id: string) => {
  if (!isEncodableId(id)) return null;
  const s = await ctx.loaders.inventory.load(storeEntityId(id));
  return isStore(s) ? s : null;
};

/** The resolvers over the catalog database `db` (upsertProduct writes there). */
export const catalogResolvers = (db: CatalogDatabase): GraphQLResolverMap<CatalogContext> => ({
  Query: {
    product: (_: unknown, args: { id: string }, ctx: CatalogContext) => ctx.loaders.products.load(args.id),
    products: (_: unknown, args: ProductsArgs, ctx: CatalogContext) => productsPage(ctx, args),
    store: (_: unknown, args: { id: string }, ctx: CatalogContext) => store(ctx, args.id),
  },
  Mutation: {
    upsertProduct: (_: unknown, args: { input: ProductInput }, ctx: CatalogContext) => upsertProduct(ctx, db, args.input),
    upsertStore: (_: unknown, args: { input: StoreInput }, ctx: CatalogContext) => upsertStore(ctx, args.input),
    reportInventory: (_: unknown, args: { storeId: string; productId: string; quantity: number }, ctx: CatalogContext) =>
      reportInventory(ctx, args),
  },
  Subscription: {
    inventoryChanged: {
      subscribe: (_: unknown, args: { storeId: string; productIds?: string[] | null }, ctx: CatalogContext) =>
        inventoryChanges(ctx.views, args.storeId, args.productIds),
      // graphql-ws builds one context per subscription, so its loaders would otherwise serve
      // the first event's product data to every later event.
      resolve: (payload: InventoryLevelState, _args: unknown, ctx: CatalogContext) => {
        ctx.loaders.products.clearAll();
        ctx.loaders.inventory.clearAll();
        return payload;
      },
    },
  },
  Product: {
    // Entity fetches: every representation of one request is loaded in one round trip.
    __resolveReference: (ref: { id: string }, ctx: CatalogContext) => ctx.loaders.products.load(ref.id),
    availability: async (p: ProductState, args: { storeId: string }, ctx: CatalogContext) => {
      if (!isEncodableId(args.storeId)) return null;
      const level = await ctx.loaders.inventory.load(levelEntityId(args.storeId, p.id));
      return isLevel(level) ? level : null;
    },
  },
  Store: {
    __resolveReference: (ref: { id: string }, ctx: CatalogContext) => store(ctx, ref.id),
    inventory: (s: StoreState, args: { first: number; after?: string | null; status?: StockStatus | null }, ctx: CatalogContext) =>
      storeInventoryPage(ctx, s.id, args),
  },
  InventoryLevel: {
    product: (l: InventoryLevelState, _args: unknown, ctx: CatalogContext) => ctx.loaders.products.load(l.productId),
    // Levels stored before reservations have neither field: nothing was held then.
    reserved: (l: InventoryLevelState) => l.reserved ?? 0,
    available: (l: InventoryLevelState) => l.available ?? l.quantity,
    status: (l: InventoryLevelState) => stockStatus(l.available ?? l.quantity),
    likelihoodInStock: (l: InventoryLevelState) => likelihoodInStock({ ...l, available: l.available ?? l.quantity }, Date.now()),
  },
});
