// Reads of the products view: listing pages (all or one category) and name search.
//
// Search is a case-insensitive substring match over names. It reads the smallest of the
// candidate indexes (the category's, and `tri:<t>` for each trigram of the query), checks
// each candidate's name, and stops at `first` matches or after SEARCH_MAX_EXAMINED
// candidates. Why trigrams rather than words or a plain scan: a word index cannot answer
// substrings ("apple" in "Pineapple"), and a scan of `all` examines the whole catalog for
// a rare term; the smallest trigram index holds only names that could match. The price is
// write amplification: an upsert keeps one index membership per distinct trigram of the
// name (at most ~300, a few dozen for typical names).
// Cost per request: one ZCARD round trip (only when there are several candidate indexes),
// then per batch one index page and one entity read; batches grow 4x, so a search makes at
// most about 9 Redis round trips and examines at most SEARCH_MAX_EXAMINED products.
// Queries shorter than three characters have no trigram and scan `all` (or the category),
// still bounded. When the bound stops a search early, the page may hold fewer than `first`
// edges with hasNextPage true, and endCursor points past the last candidate examined, so the
// next page continues the scan instead of repeating it.
import type DataLoader from 'dataloader';
import { badInput } from '../runtime/errors';
import { checkCursor, checkFirst, emptyConnection, encodeCursor, type Connection } from './cursors';
import {
  ALL_PRODUCTS_INDEX,
  categoryIndex,
  foldCase,
  productScore,
  trigramIndex,
  trigrams,
  type ProductState,
} from './projection';
import type { CatalogLoaders, CatalogViews } from './context';

export const MAX_PRODUCTS_PAGE = 100;
/** Most candidates one search request examines. */
export const SEARCH_MAX_EXAMINED = 1000;
/** Product names are at most 300 characters (the event contract), so longer queries cannot match. */
export const MAX_SEARCH_LENGTH = 300;
/** Trigrams of a query whose index sizes are compared; more only costs ZCARDs. */
const MAX_QUERY_TRIGRAMS = 32;

export interface ProductReads {
  readonly views: Pick<CatalogViews, 'products'>;
  readonly loaders: Pick<CatalogLoaders, 'products'>;
}

export interface ProductsArgs {
  readonly first: number;
  readonly after?: string | null;
  readonly category?: string | null;
  readonly search?: string | null;
}

const cursorOf = (p: ProductState) => encodeCursor(productScore(p.id, p.name), p.id);

/** Loads states through the request's loader (so Product fields reuse them); a failed read throws. */
async function loadAll(loader: DataLoader<string, ProductState | undefined>, ids: readonly string[]) {
  const states = await loader.loadMany(ids);
  return states.map((s) => {
    if (s instanceof Error) throw s;
    return s;
  });
}

/** `products(first, after, category, search)`. */
export async function productsPage(deps: ProductReads, args: ProductsArgs): Promise<Connection<ProductState>> {
  const first = checkFirst(args.first, MAX_PRODUCTS_PAGE);
  const after = checkCursor(args.after);
  const category = args.category?.trim() ? args.category : null;
  if (args.search) {
    if (args.search.length > MAX_SEARCH_LENGTH)
      throw badInput(`search must be at most ${MAX_SEARCH_LENGTH} characters, as product names are`, 'search');
    return searchPage(deps, { first, after, category, search: args.search });
  }
  const index = category ? categoryIndex(category) : ALL_PRODUCTS_INDEX;
  const page = await deps.views.products.reader.indexPage(index, { first, after });
  const states = await loadAll(deps.loaders.products, page.ids);
  return {
    edges: states.flatMap((s) => (s ? [{ cursor: cursorOf(s), node: s }] : [])),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}

/** Picks the candidate index with the fewest members; null when one of them is empty (nothing can match). */
async function candidateIndex(deps: ProductReads, category: string | null, search: string): Promise<string | null> {
  const options = [
    ...(category ? [categoryIndex(category)] : []),
    ...trigrams(search).slice(0, MAX_QUERY_TRIGRAMS).map(trigramIndex),
  ];
  if (options.length === 0) return ALL_PRODUCTS_INDEX;
  if (options.length === 1) return options[0];
  const sizes = await deps.views.products.reader.indexSizes(options);
  const smallest = sizes.indexOf(Math.min(...sizes));
  return sizes[smallest] === 0 ? null : options[smallest];
}

async function searchPage(
  deps: ProductReads,
  args: { first: number; after: string | null; category: string | null; search: string },
): Promise<Connection<ProductState>> {
  const { first, after, category } = args;
  const needle = foldCase(args.search);
  const wantedCategory = category === null ? null : categoryIndex(category);
  const isMatch = (p: ProductState) =>
    foldCase(p.name).includes(needle) && (wantedCategory === null || categoryIndex(p.category) === wantedCategory);
  const index = await candidateIndex(deps, category, args.search);
  if (index === null) return emptyConnection();

  const matches: ProductState[] = [];
  let position = after; // where the next index page starts
  let lastExamined = after; // the cursor after the last candidate checked
  let more = true;
  let examined = 0;
  let batch = Math.max(first + 1, 32);
  // One match beyond `first` tells hasNextPage exactly.
  while (more && matches.length <= first && examined < SEARCH_MAX_EXAMINED) {
    const page = await deps.views.products.reader.indexPage(index, { first: Math.min(batch, SEARCH_MAX_EXAMINED - examined), after: position });
    const states = await loadAll(deps.loaders.products, page.ids);
    let stoppedInside = false;
    for (const s of states) {
      examined++;
      if (!s) continue; // listed but gone (a lost or rebuilding view): nothing to show
      lastExamined = cursorOf(s);
      if (isMatch(s)) matches.push(s);
      if (matches.length > first) {
        stoppedInside = true;
        break;
      }
    }
    if (!stoppedInside && page.endCursor) lastExamined = page.endCursor;
    position = page.endCursor;
    more = page.hasNextPage;
    batch *= 4;
  }

  if (matches.length > first) {
    const edges = matches.slice(0, first).map((node) => ({ cursor: cursorOf(node), node }));
    return { edges, pageInfo: { hasNextPage: true, endCursor: edges.length ? edges[edges.length - 1].cursor : after } };
  }
  const edges = matches.map((node) => ({ cursor: cursorOf(node), node }));
  // Stopped by the bound with candidates left: resume after the last one examined.
  if (more) return { edges, pageInfo: { hasNextPage: true, endCursor: lastExamined } };
  return { edges, pageInfo: { hasNextPage: false, endCursor: edges.length ? edges[edges.length - 1].cursor : null } };
}
