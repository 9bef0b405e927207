// Reads of the inventory view: a store's stock levels page by page, and the live feed of a
// store's levels (current state first, then each change) behind `inventoryChanged`.
import { badInput } from '../runtime/errors';
import { currentThenChanges } from '../runtime/noticeHub';
import { checkCursor, checkFirst, encodeCursor, type Connection } from './cursors';
import {
  isEncodableId,
  isLevel,
  levelEntityId,
  levelEntityPrefix,
  levelScore,
  storeIndex,
  type InventoryEntity,
  type InventoryLevelState,
  type StockStatus,
} from './projection';
import type { CatalogLoaders, CatalogViews } from './context';

export const MAX_INVENTORY_PAGE = 200;
/** Most levels a subscription sends as its current state, and most productIds it may name. */
export const SUBSCRIPTION_MAX_PRODUCTS = 200;

export interface InventoryReads {
  readonly views: Pick<CatalogViews, 'inventory'>;
  readonly loaders: Pick<CatalogLoaders, 'inventory'>;
}

/** `Store.inventory(first, after, status)`: one partition (the store's), ordered by levelScore. */
export async function storeInventoryPage(
  deps: InventoryReads,
  storeId: string,
  args: { first: number; after?: string | null; status?: StockStatus | null },
): Promise<Connection<InventoryLevelState>> {
  const first = checkFirst(args.first, MAX_INVENTORY_PAGE);
  const after = checkCursor(args.after);
  const page = await deps.views.inventory.reader.indexPage(storeIndex(storeId, args.status ?? undefined), {
    first,
    after,
    recordKey: storeId,
  });
  const states = await deps.loaders.inventory.loadMany(page.ids);
  const edges = states.flatMap((s, i) => {
    if (s instanceof Error) throw s;
    return isLevel(s) ? [{ cursor: encodeCursor(levelScore(s.productId), page.ids[i]), node: s }] : [];
  });
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
}

/**
 * `inventoryChanged(storeId, productIds)`: the current levels of the named products (or the
 * first SUBSCRIPTION_MAX_PRODUCTS of the store), then every change to them (or to any level of
 * the store), each newer than the last one sent. One store lives in one partition, so its
 * changes arrive in log order and versions only go up.
 */
export function inventoryChanges(
  views: CatalogViews,
  storeId: string,
  productIds: readonly string[] | null | undefined,
): AsyncIterableIterator<InventoryLevelState> {
  if (!isEncodableId(storeId)) throw badInput('storeId is not valid text (it holds a lone surrogate)', 'storeId');
  if (productIds?.some((p) => !isEncodableId(p))) throw badInput('productIds hold text that is not valid (a lone surrogate)', 'productIds');
  if (productIds && productIds.length > SUBSCRIPTION_MAX_PRODUCTS)
    throw badInput(`productIds may name at most ${SUBSCRIPTION_MAX_PRODUCTS} products; subscribe several times for more`, 'productIds');
  const { reader, notices } = views.inventory;
  const wanted = productIds ? [...new Set(productIds)].map((p) => levelEntityId(storeId, p)) : null;
  const wantedSet = wanted ? new Set(wanted) : null;
  const prefix = levelEntityPrefix(storeId);

  const feed = currentThenChanges<InventoryEntity>({
    hub: notices,
    filter: (c) => (wantedSet ? wantedSet.has(c.id) : c.id.startsWith(prefix)),
    ids: wanted ?? undefined,
    // Read straight from the reader: a request's DataLoader would cache for the subscription's life.
    current: async () => {
      const ids = wanted ?? (await reader.indexPage(storeIndex(storeId), { first: SUBSCRIPTION_MAX_PRODUCTS, recordKey: storeId })).ids;
      const states = await reader.getMany(ids);
      return ids.flatMap((id, i) => {
        const s = states[i];
        return isLevel(s) ? [[id, s] as const] : [];
      });
    },
    versionOf: (s) => (isLevel(s) ? s.version : 0),
  });
  const levels: AsyncIterableIterator<InventoryLevelState> = {
    [Symbol.asyncIterator]: () => levels,
    async next() {
      for (;;) {
        const r = await feed.next();
        if (r.done) return { value: undefined, done: true };
        if (isLevel(r.value)) return { value: r.value, done: false };
      }
    },
    async return() {
      await feed.return!();
      return { value: undefined, done: true };
    },
    async throw(e) {
      await feed.return!();
      throw e;
    },
  };
  return levels;
}
