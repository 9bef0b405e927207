// The mesh resolvers: access first, then bounded arguments, then the monitor's last snapshot.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { AnnouncedDataProduct, AnnouncedTopic } from '../../platform/registry';
import type { SubgraphContext } from '../runtime/startSubgraph';
import { badInput } from '../runtime/errors';
import { assertMayReadCatalog } from './access';
import type { declaration } from './declaration';
import { emptyFigures, type MeshMonitor, type MeshSnapshot } from './meshMonitor';
import { isCoordinate, MAX_PRODUCTS } from './productCatalog';

type Ctx = SubgraphContext<typeof declaration.views>;
/** A product as resolvers pass it on: with the snapshot it was read from. */
type Product = { readonly product: AnnouncedDataProduct; readonly snapshot: MeshSnapshot };

const MAX_NAME = 200;

export function meshResolvers(monitor: () => MeshMonitor): GraphQLResolverMap<Ctx> {
  const snapshot = () => monitor().snapshot();
  const topicOf = (t: AnnouncedTopic, s: MeshSnapshot) => ({ ...t, source: t.source === 'cdc' ? 'CDC' : 'EVENTS', readBy: s.catalog.readBy(t.name) });
  return {
    Query: {
      async dataProducts(_: unknown, args: { first?: number | null }, ctx: Ctx): Promise<Product[]> {
        assertMayReadCatalog(ctx.identity);
        const first = args.first ?? 50;
        if (!Number.isInteger(first) || first < 0 || first > MAX_PRODUCTS) throw badInput(`first must be 0 to ${MAX_PRODUCTS}`, 'first');
        const s = await snapshot();
        return s.catalog.products.slice(0, first).map((product) => ({ product, snapshot: s }));
      },
      async dataProduct(_: unknown, args: { name: string }, ctx: Ctx): Promise<Product | null> {
        assertMayReadCatalog(ctx.identity);
        if (args.name.length > MAX_NAME) throw badInput(`name is at most ${MAX_NAME} characters`, 'name');
        const s = await snapshot();
        const product = s.catalog.product(args.name);
        return product ? { product, snapshot: s } : null;
      },
      async fieldLineage(_: unknown, args: { coordinate: string }, ctx: Ctx) {
        assertMayReadCatalog(ctx.identity);
        if (!isCoordinate(args.coordinate)) throw badInput('coordinate must read Type.field (at most 100 characters each)', 'coordinate');
        const sources = (await snapshot()).catalog.fieldSources(args.coordinate);
        return sources.length ? { coordinate: args.coordinate, sources } : null;
      },
    },
    DataProduct: {
      name: (p: Product) => p.product.name,
      subgraph: (p: Product) => p.product.subgraph,
      team: (p: Product) => p.product.team,
      contact: (p: Product) => p.product.contact,
      description: (p: Product) => p.product.description,
      topics: (p: Product) => p.product.topics.map((t) => topicOf(t, p.snapshot)),
      views: (p: Product) => p.snapshot.catalog.viewsOf(p.product),
      contract: (p: Product) =>
        p.product.topics.map((t) => ({ topic: t.name, version: t.contract.version, status: t.contract.status, events: t.events, jsonSchema: JSON.stringify(t.contract.jsonSchema) })),
      serviceLevels: (p: Product) => (p.snapshot.figures.get(p.product.name) ?? emptyFigures()).levels,
      live: (p: Product) => p.snapshot.figures.get(p.product.name) ?? emptyFigures(),
      lineage: (p: Product) => ({ upstream: p.snapshot.catalog.upstream(p.product), downstream: p.snapshot.catalog.downstream(p.product) }),
    },
    ProductView: {
      consumerGroup: (v: { groupId: string }) => v.groupId,
    },
  };
}
