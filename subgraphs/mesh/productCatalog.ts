// The announced data products as one catalog: products by name, and lineage both ways, from
// topic to the views built from it (whichever product they belong to) to the fields they back,
// and from a field back to its views, topics and owners. Pure: built from registry entries.
import type { AnnouncedDataProduct, AnnouncedTopic, AnnouncedView, DataProductsRecord } from '../../platform/registry';

/** A view with the product it belongs to. */
export interface CatalogView extends AnnouncedView {
  readonly product: string;
  readonly subgraph: string;
  readonly topicOwner: string;
}

/** topic -> view -> fields, with who owns each end. */
export interface LineageEdge {
  readonly topic: string;
  readonly topicOwner: string;
  readonly topicProduct: string | null;
  readonly view: string;
  readonly viewProduct: string;
  readonly viewSubgraph: string;
  readonly fields: readonly string[];
}

export interface ProductCatalog {
  /** By name. */
  readonly products: readonly AnnouncedDataProduct[];
  product(name: string): AnnouncedDataProduct | undefined;
  /** Every view built from `topic`. */
  readBy(topic: string): readonly CatalogView[];
  viewsOf(product: AnnouncedDataProduct): readonly CatalogView[];
  /** Where the product's views' data comes from. */
  upstream(product: AnnouncedDataProduct): readonly LineageEdge[];
  /** What is built from the product's topics. */
  downstream(product: AnnouncedDataProduct): readonly LineageEdge[];
  /** The views that back `Type.field`; empty when none does. */
  fieldSources(coordinate: string): readonly LineageEdge[];
}

/** The most products a catalog holds: names become metric labels and page rows. */
export const MAX_PRODUCTS = 200;

/**
 * Builds the catalog from the registry's entries. Two subgraphs announcing one product name:
 * the first by subgraph name wins, so the answer is stable, and `conflicts` says so.
 */
export function buildProductCatalog(records: readonly DataProductsRecord[]): ProductCatalog & { readonly conflicts: readonly string[] } {
  const byName = new Map<string, AnnouncedDataProduct>();
  const conflicts: string[] = [];
  for (const r of [...records].sort((a, b) => a.subgraph.localeCompare(b.subgraph)))
    for (const p of r.products) {
      const seen = byName.get(p.name);
      if (seen) conflicts.push(`product ${p.name} is announced by ${seen.subgraph} and ${p.subgraph}; ${seen.subgraph}'s is shown`);
      else if (byName.size < MAX_PRODUCTS) byName.set(p.name, p);
    }
  const products = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  const topicOf = new Map<string, { topic: AnnouncedTopic; product: string }>();
  for (const p of products) for (const t of p.topics) if (!topicOf.has(t.name)) topicOf.set(t.name, { topic: t, product: p.name });
  const views: CatalogView[] = products.flatMap((p) =>
    p.views.map((v) => ({ ...v, product: p.name, subgraph: p.subgraph, topicOwner: topicOf.get(v.topic)?.topic.owner ?? v.topicOwner ?? '(unknown)' })),
  );
  const edge = (v: CatalogView): LineageEdge => ({
    topic: v.topic,
    topicOwner: v.topicOwner,
    topicProduct: topicOf.get(v.topic)?.product ?? null,
    view: v.name,
    viewProduct: v.product,
    viewSubgraph: v.subgraph,
    fields: v.fields,
  });
  const readBy = (topic: string) => views.filter((v) => v.topic === topic);
  return {
    products,
    conflicts,
    product: (name) => byName.get(name),
    readBy,
    viewsOf: (p) => views.filter((v) => v.product === p.name),
    upstream: (p) => views.filter((v) => v.product === p.name).map(edge),
    downstream: (p) => p.topics.flatMap((t) => readBy(t.name)).map(edge),
    fieldSources: (coordinate) => views.filter((v) => v.fields.includes(coordinate)).map(edge),
  };
}

const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]{0,99}\.[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** Whether `s` reads as a schema coordinate `Type.field`. */
export const isCoordinate = (s: string): boolean => COORDINATE.test(s);
