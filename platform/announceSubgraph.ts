// What a starting subgraph instance tells the registry: that it runs (for routing, with
// heartbeats), and, the first time its subgraph is seen, its schema (so a new subgraph joins
// the graph without a gateway redeploy and without a separate publish step).
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from './logger';
import { dataProductsKey, readSchemaRecords, registerInstance, registryKeys, writeDataProducts, type AnnouncedDataProduct, type InstanceRegistration } from './registry';
import { publishSchema, refusalLines, type SchemaChangeOutcome } from './schemaPublishing';

/**
 * When an instance publishes its own schema at start:
 * - `first`: only when its subgraph has no schema in the graph (its first start, or Redis lost
 *   the registry); a changed schema is published with `npm run subgraph -- publish`, so an old
 *   instance restarting in a rolling deploy never takes the graph back;
 * - `always`: also when its schema differs from the published one (local development);
 * - `never`: publishing is CI's job alone.
 * A removed subgraph is never published back by an instance, whatever the policy.
 */
export type PublishOnStart = 'first' | 'always' | 'never';
export const PUBLISH_ON_START_VALUES: readonly PublishOnStart[] = ['first', 'always', 'never'];

export interface Announcement extends InstanceRegistration {
  /** What became of the schema at start. */
  readonly publication: SchemaChangeOutcome | { readonly status: 'skipped'; readonly reason: string };
}

export interface AnnounceOptions {
  readonly namespace?: string;
  readonly heartbeatMs?: number;
  /** @default 'first' */
  readonly publish?: PublishOnStart;
  readonly logger?: Logger;
  /** The subgraph's data products, announced at every start (its declarations in code are the truth). @default none announced */
  readonly dataProducts?: readonly AnnouncedDataProduct[];
}

export async function announceSubgraph(
  redis: Redis | Cluster,
  entry: { readonly name: string; readonly url: string; readonly wsUrl: string; readonly sdl: string },
  opts: AnnounceOptions = {},
): Promise<Announcement> {
  const policy = opts.publish ?? 'first';
  const namespace = opts.namespace ?? '';
  let by = 'instance';
  const publishIfWanted = async (): Promise<Announcement['publication']> => {
    if (policy === 'never') return { status: 'skipped', reason: 'SUBGRAPH_PUBLISH_ON_START=never' };
    const record = (await readSchemaRecords(redis, namespace)).get(entry.name);
    if (record?.kind === 'removed')
      return { status: 'skipped', reason: `${entry.name} was removed from the graph at ${new Date(record.removedAt).toISOString()}; publish it to bring it back` };
    if (record?.kind === 'published' && record.sdl !== entry.sdl && policy === 'first')
      return { status: 'skipped', reason: `this instance's schema differs from the published one; run npm run subgraph -- publish ${entry.name} to publish it` };
    return publishSchema(redis, { name: entry.name, url: entry.url, wsUrl: entry.wsUrl, sdl: entry.sdl }, { namespace, by });
  };
  const report = (publication: Announcement['publication']) => {
    const log = opts.logger;
    if (!log) return;
    if (publication.status === 'published') log.info({ subgraph: entry.name, warnings: publication.warnings }, 'schema published to the graph');
    else if (publication.status === 'refused')
      log.error({ subgraph: entry.name, reason: publication.reason, problems: refusalLines(publication) }, 'schema not published: the registry refused it; the graph keeps the published one');
    else if (publication.status === 'skipped') log.warn({ subgraph: entry.name, reason: publication.reason }, 'schema not published');
    if (publication.status !== 'skipped' && publication.warnings.length) log.warn({ subgraph: entry.name, warnings: publication.warnings }, 'schema warnings');
  };

  let started = false;
  let lost = false;
  const registration = await registerInstance(redis, entry, {
    namespace,
    heartbeatMs: opts.heartbeatMs,
    // Redis that restarted without its data lost the published schemas too: the running
    // instances put theirs back rather than leave the graph empty.
    onBeat: async () => {
      // Its data products too (one HEXISTS a beat), so the catalog does not lose them until a restart.
      if (started && opts.dataProducts?.length && !(await redis.hexists(dataProductsKey(namespace), entry.name)))
        await writeDataProducts(redis, namespace, entry.name, opts.dataProducts);
      if (started && !lost && policy !== 'never' && !(await redis.hexists(registryKeys(namespace).schemas, entry.name))) {
        lost = true;
        try {
          report(await publishIfWanted());
        } finally {
          lost = false;
        }
      }
    },
  });
  by = registration.instanceId;
  if (opts.dataProducts) await writeDataProducts(redis, namespace, entry.name, opts.dataProducts);
  const publication = await publishIfWanted();
  report(publication);
  started = true;
  return { ...registration, publication };
}
