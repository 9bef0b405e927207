// Unit tests of product listing and search paging over an in-memory view (the reader's
// (score, id) order and cursors), where catalogs far larger than a search's bound are cheap.
import DataLoader from 'dataloader';
import { encodeCursor } from './cursors';
import { productsPage, SEARCH_MAX_EXAMINED, type ProductReads } from './products';
import { productsProjection, type ProductState } from './projection';

function memoryProducts(names: string[]) {
  const states = new Map<string, ProductState>();
  const indexes = new Map<string, Array<[number, string]>>();
  names.forEach((name, i) => {
    const id = `p-${String(i).padStart(5, '0')}`;
    const s: ProductState = { id, name, brand: null, category: 'C', priceCents: 1, updatedAt: '', version: 1, sourceLsn: 1, position: { partition: 0, offset: 0 } };
    states.set(id, s);
    for (const { index, score } of productsProjection.indexes!(id, s)) {
      const list = indexes.get(index) ?? [];
      list.push([score, id]);
      indexes.set(index, list);
    }
  });
  for (const list of indexes.values()) list.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
  let examined = 0;
  const reader = {
    async indexPage(index: string, { first, after }: { first: number; after?: string | null }) {
      const from = after ? (JSON.parse(Buffer.from(after, 'base64url').toString()) as [number, string]) : null;
      const rest = (indexes.get(index) ?? []).filter(([s, id]) => !from || s > from[0] || (s === from[0] && id > from[1]));
      const page = rest.slice(0, first);
      const last = page[page.length - 1];
      return { ids: page.map(([, id]) => id), hasNextPage: rest.length > first, endCursor: last ? encodeCursor(last[0], last[1]) : null };
    },
    async getMany(ids: readonly string[]) {
      examined += ids.length;
      return ids.map((id) => states.get(id));
    },
    async indexSizes(names: readonly string[]) {
      return names.map((n) => indexes.get(n)?.length ?? 0);
    },
  };
  const views = { products: { reader } } as unknown as ProductReads['views'];
  const deps = (): ProductReads => ({ views, loaders: { products: new DataLoader((ids: readonly string[]) => reader.getMany(ids)) } });
  return { deps, examined: () => examined };
}

/** Follows endCursor to the end; returns the names per page and the candidates each request examined. */
async function follow(view: ReturnType<typeof memoryProducts>, args: { first: number; search?: string }) {
  const pages: string[][] = [];
  const costs: number[] = [];
  let after: string | null = null;
  for (;;) {
    const before = view.examined();
    const page = await productsPage(view.deps(), { ...args, after });
    costs.push(view.examined() - before);
    pages.push(page.edges.map((e) => e.node.name));
    if (!page.pageInfo.hasNextPage) return { pages, costs };
    after = page.pageInfo.endCursor;
    expect(after).not.toBeNull();
  }
}

it('lists pages that join up in name order', async () => {
  const names = Array.from({ length: 25 }, (_, i) => `Item ${String(24 - i).padStart(2, '0')}`);
  const { pages } = await follow(memoryProducts(names), { first: 10 });
  expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
  expect(pages.flat()).toEqual([...names].sort());
});

it('bounds a search that has to scan, and continues it from where the bound stopped it', async () => {
  // A two-letter query has no trigram: it scans `all`. The matches sort last.
  const names = [...Array.from({ length: 2500 }, (_, i) => `Item ${i}`), 'Zz ZQ 1', 'Zz zq 2', 'Zz zq 3'];
  const view = memoryProducts(names);
  const { pages, costs } = await follow(view, { first: 2, search: 'zQ' });
  expect(pages.flat()).toEqual(['Zz ZQ 1', 'Zz zq 2', 'Zz zq 3']);
  expect(pages[0]).toEqual([]); // stopped by the bound before any match, yet hasNextPage
  expect(Math.max(...costs)).toBeLessThanOrEqual(SEARCH_MAX_EXAMINED);
  // Each candidate is examined once over all pages, plus at most one re-read per page break.
  expect(costs.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(names.length + pages.length);
});

it('examines only the smallest trigram index of the query', async () => {
  const names = [...Array.from({ length: 1000 }, (_, i) => `Apple ${i}`), 'Quince apple', 'Quince apple jam', 'Quinoa'];
  const view = memoryProducts(names);
  const { pages, costs } = await follow(view, { first: 20, search: 'QUINCE APP' });
  expect(pages).toEqual([['Quince apple', 'Quince apple jam']]);
  expect(costs[0]).toBeLessThanOrEqual(2);
});

it('pages through matches that stop inside an index page without gaps or repeats', async () => {
  const names = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `Pear ${String(i).padStart(2, '0')}` : `Plum ${String(i).padStart(2, '0')}`));
  const { pages } = await follow(memoryProducts(names), { first: 3, search: 'ear' });
  expect(pages.slice(0, -1).every((p) => p.length === 3)).toBe(true);
  expect(pages.flat()).toEqual(names.filter((n) => n.startsWith('Pear')).sort());
});
