// The catalog's mutations: check who is calling, validate the input, write (products: a row of
// the catalog database, whose change reaches the view through CDC; stores and stock: an event)
// and return the entity as the view holds it once that write is applied (read-your-writes).
import { CATALOG_INVENTORY_TOPIC } from '../../schema/events';
import { randomUUID } from 'node:crypto';
import { badInput, forbidden, notFound, unauthenticated } from '../runtime/errors';
import type { CatalogDatabase } from './catalogDatabase';
import { awaitProductApplied } from './productApplied';
import { writeProduct } from './productStore';
import { hasRole, type Identity } from '../../platform/identity';
import { checkId, eventFromInput } from '../runtime/inputChecks';
import type { CatalogContext } from './context';
import {
  isLevel,
  isStore,
  levelEntityId,
  storeEntityId,
  type InventoryLevelState,
  type ProductState,
  type StoreState,
} from './projection';

export interface ProductInput {
  readonly id?: string | null;
  readonly name: string;
  readonly brand?: string | null;
  readonly category: string;
  readonly priceCents: number;
}

export interface StoreInput {
  readonly id?: string | null;
  readonly name: string;
}

// The event contract's limits, checked here first so the caller hears about its own field names.
const MAX_QUANTITY = 10_000_000;
const MAX_PRICE_CENTS = 1_000_000_000;

/** Denies before anything is read, so a refused caller learns nothing about the object. */
function allow(identity: Identity, allowed: boolean, what: string): void {
  if (allowed) return;
  if (identity.sub === null && identity.roles.length === 0) throw unauthenticated(`sign in to ${what}`);
  throw forbidden(`not allowed to ${what}`);
}

function text(value: string, field: string, max: number): string {
  const v = value.trim();
  if (v.length === 0) throw badInput(`${field} must not be empty`, field);
  // PostgreSQL text cannot hold U+0000; refused here so the caller hears about its own field.
  if (v.includes('\u0000')) throw badInput(`${field} must not contain the character U+0000`, field);
  if (v.length > max) throw badInput(`${field} must be at most ${max} characters`, field);
  return v;
}

function integer(value: number, field: string, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw badInput(`${field} must be a whole number from 0 to ${max}`, field);
  return value;
}

/** Reads an entity again after its write, bypassing the request's cache. */
async function readBack<S, T extends S>(
  loader: { clear(key: string): { load(key: string): Promise<S | undefined> } },
  key: string,
  is: (s: S | undefined) => s is T,
): Promise<T> {
  const state = await loader.clear(key).load(key);
  if (!is(state)) throw new Error(`${key} was applied but cannot be read back`);
  return state;
}

/**
 * upsertProduct: admins only; a new id is generated when none is given. Every check runs before
 * the database is touched, so a refusal writes nothing; the row is written in one transaction
 * and the answer waits until the view holds that change (or ACCEPTED_NOT_APPLIED).
 */
export async function upsertProduct(ctx: CatalogContext, db: CatalogDatabase, input: ProductInput): Promise<ProductState> {
  allow(ctx.identity, hasRole(ctx.identity, 'admin'), 'change products');
  const productId = input.id == null ? randomUUID() : checkId(input.id, 'input.id');
  if (productId.includes('\u0000')) throw badInput('input.id must not contain the character U+0000', 'input.id');
  const brand = input.brand?.trim() ? text(input.brand, 'input.brand', 200) : null;
  const row = {
    id: productId,
    name: text(input.name, 'input.name', 300),
    brand,
    category: text(input.category, 'input.category', 100),
    priceCents: integer(input.priceCents, 'input.priceCents', MAX_PRICE_CENTS),
  };
  const write = await writeProduct(db.pool, db.names.schema, row);
  const state = await awaitProductApplied(ctx.runtime, ctx.views.products, row, write, db.writeTimeoutMs);
  ctx.loaders.products.clear(productId).prime(productId, state);
  return state;
}

/** upsertStore: admins only; stores must exist before inventory can be reported for them. */
export async function upsertStore(ctx: CatalogContext, input: StoreInput): Promise<StoreState> {
  allow(ctx.identity, hasRole(ctx.identity, 'admin'), 'change stores');
  const storeId = input.id == null ? randomUUID() : checkId(input.id, 'input.id');
  const payload = { storeId, name: text(input.name, 'input.name', 200) };
  const event = eventFromInput(CATALOG_INVENTORY_TOPIC, 'StoreUpserted', payload, { storeId: 'input.id', name: 'input.name' });
  await ctx.runtime.emit(CATALOG_INVENTORY_TOPIC, event, ctx.views.inventory);
  return readBack(ctx.loaders.inventory, storeEntityId(storeId), isStore);
}

/** reportInventory: the store itself (role `store`, sub = storeId) or an admin. */
export async function reportInventory(
  ctx: CatalogContext,
  args: { storeId: string; productId: string; quantity: number },
): Promise<InventoryLevelState> {
  const { identity } = ctx;
  const own = hasRole(identity, 'store') && identity.sub === args.storeId;
  allow(identity, own || hasRole(identity, 'admin'), "report this store's inventory");
  const storeId = checkId(args.storeId, 'storeId');
  const productId = checkId(args.productId, 'productId');
  const quantity = integer(args.quantity, 'quantity', MAX_QUANTITY);
  const [product, store] = await Promise.all([ctx.loaders.products.load(productId), ctx.loaders.inventory.load(storeEntityId(storeId))]);
  if (!product) throw notFound('product', productId);
  if (!isStore(store)) throw notFound('store', storeId);
  const event = eventFromInput(CATALOG_INVENTORY_TOPIC, 'InventoryReported', { storeId, productId, quantity }, {
    storeId: 'storeId',
    productId: 'productId',
    quantity: 'quantity',
  });
  await ctx.runtime.emit(CATALOG_INVENTORY_TOPIC, event, ctx.views.inventory);
  return readBack(ctx.loaders.inventory, levelEntityId(storeId, productId), isLevel);
}
