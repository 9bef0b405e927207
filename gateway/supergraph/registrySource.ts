// Registry mode: the supergraph is composed from the schemas published in Redis and swapped in
// whenever they change; requests are routed to the subgraphs' live instances. The two are
// apart on purpose: an instance that stops, crashes or restarts changes where requests go,
// never which fields exist (its fields answer SUBGRAPH_UNAVAILABLE meanwhile). A composition
// that fails keeps the last good supergraph.
import { createHash } from 'node:crypto';
import type { SupergraphManager } from '@apollo/gateway';
import type { Cluster, Redis } from 'ioredis';
import { composeSupergraph } from '../../platform/composeSupergraph';
import type { Logger } from '../../platform/logger';
import { parseNotice, readInstances, readSchemas, registryKeys, type PublishedSchema, type RegistryNotice } from '../../platform/registry';
import { createSubscriber } from '../../platform/subscriber';
import { createInstanceRouter, type InstanceRouter } from './instanceRouter';

/** What /ready, /metrics and logs report about the supergraph. */
export type SupergraphState =
  | { readonly phase: 'waiting'; readonly since: number }
  | {
      readonly phase: 'composed';
      readonly subgraphs: readonly string[];
      readonly composedAt: number;
      /** The last composition or publish that failed (refused publishes included), until the next good one. */
      readonly lastFailure: { readonly at: number; readonly subgraph?: string; readonly errors: readonly string[] } | null;
      /** Subgraphs in the graph with no live instance now: their fields answer SUBGRAPH_UNAVAILABLE. */
      readonly unavailable: readonly string[];
    };

export interface RegistrySourceOptions {
  readonly redis: Redis | Cluster;
  readonly namespace?: string;
  /**
   * How long an instance may miss heartbeats (5 s apart) before requests stop going to it.
   * Its subgraph stays in the graph regardless. @default 15000
   */
  readonly absenceWindowMs?: number;
  /** How often the registry is re-read even without a change notice. @default 5000 */
  readonly pollMs?: number;
  /** How long start-up waits for the first published schemas that compose. @default 120000 */
  readonly startupTimeoutMs?: number;
  readonly logger: Logger;
  /** Told about every composition, good or bad (metrics). */
  readonly onComposition?: (outcome: { ok: boolean; subgraphs: readonly string[]; errors?: readonly string[] }) => void;
}

export interface RegistrySource extends SupergraphManager {
  state(): SupergraphState;
  /** Where requests to each subgraph go. */
  readonly router: InstanceRouter;
  /** Re-reads the registry now (tests and operators); resolves when composition is done. */
  refresh(): Promise<void>;
}

export function createRegistrySource(opts: RegistrySourceOptions): RegistrySource {
  const router = createInstanceRouter({ absenceWindowMs: opts.absenceWindowMs ?? 15_000 });
  const log = opts.logger;
  let state: SupergraphState = { phase: 'waiting', since: Date.now() };
  let lastKey = '';
  let update: ((sdl: string) => void) | null = null;
  let running: Promise<void> = Promise.resolve();
  let published = new Map<string, PublishedSchema>();

  const unavailable = () => {
    const live = router.live();
    return [...published.keys()].filter((n) => !live.has(n));
  };

  /** Re-reads instances; logs who joined and who left. */
  const route = async () => {
    const { joined, left } = router.update(await readInstances(opts.redis, opts.namespace));
    for (const { entry } of joined) log.info({ subgraph: entry.name, instance: entry.instanceId, url: entry.url }, 'subgraph instance joined');
    for (const { entry, why } of left) {
      const alone = !router.live().has(entry.name) && published.has(entry.name);
      (alone ? log.warn : log.info).call(log, { subgraph: entry.name, instance: entry.instanceId, why }, alone ? 'subgraph instance left; none runs now, its fields answer SUBGRAPH_UNAVAILABLE' : 'subgraph instance left');
    }
    if (state.phase === 'composed') state = { ...state, unavailable: unavailable() };
  };

  /** Composes the published schemas; returns the new SDL when the graph changed and composed. */
  const compose = async (): Promise<string | null> => {
    const now = Date.now();
    const schemas = await readSchemas(opts.redis, opts.namespace);
    const before = published;
    published = new Map(schemas.map((s) => [s.name, s]));
    for (const s of schemas) if (!before.has(s.name) && state.phase === 'composed') log.info({ subgraph: s.name }, 'subgraph joined the graph (schema published)');
    for (const name of before.keys()) if (!published.has(name)) log.info({ subgraph: name }, 'subgraph left the graph (schema removed)');
    if (schemas.length === 0) return null;
    const key = fingerprint(schemas);
    if (key === lastKey) return null;
    const result = composeSupergraph(schemas);
    const names = schemas.map((e) => e.name);
    if (!result.ok) {
      // Keep serving the last good supergraph; say loudly what is wrong with the new one.
      if (state.phase === 'composed') state = { ...state, lastFailure: { at: now, errors: result.errors } };
      lastKey = key;
      log.error({ subgraphs: names, errors: result.errors }, 'composition failed; keeping the last good supergraph');
      opts.onComposition?.({ ok: false, subgraphs: names, errors: result.errors });
      return null;
    }
    lastKey = key;
    state = { phase: 'composed', subgraphs: names, composedAt: now, lastFailure: null, unavailable: unavailable() };
    log.info({ subgraphs: names }, 'supergraph composed');
    opts.onComposition?.({ ok: true, subgraphs: names });
    return result.supergraphSdl;
  };

  const onNotice = (notice: RegistryNotice) => {
    switch (notice.kind) {
      case 'published':
        log.info({ subgraph: notice.name, by: notice.by }, 'schema published');
        break;
      case 'removed':
        log.info({ subgraph: notice.name, by: notice.by }, 'schema removed');
        break;
      case 'refused':
        log.warn({ subgraph: notice.name, by: notice.by, action: notice.action, problems: notice.errors }, `${notice.action} refused by the schema checks; the graph is unchanged`);
        if (state.phase === 'composed') state = { ...state, lastFailure: { at: Date.now(), subgraph: notice.name, errors: notice.errors } };
        break;
      case 'instance':
        // route() logs it with the reason, once it has read the registry.
        break;
    }
  };

  // One re-read at a time, in order: a burst of notices costs at most one extra run.
  const refresh = () => {
    running = running.then(async () => {
      try {
        await route();
        const sdl = await compose();
        if (sdl && update) update(sdl);
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'reading the registry failed; will retry');
      }
    });
    return running;
  };

  return {
    state: () => state,
    router,
    refresh,
    async initialize({ update: u }) {
      const deadline = Date.now() + (opts.startupTimeoutMs ?? 120_000);
      let first: string | null = null;
      for (;;) {
        await route();
        first = await compose();
        if (first) break;
        if (Date.now() > deadline)
          throw new Error(`no published schemas that compose within ${(opts.startupTimeoutMs ?? 120_000) / 1000} s; start the subgraphs (npm start) or use the static supergraph (SUPERGRAPH_SOURCE=file)`);
        if (state.phase === 'waiting') log.info('waiting for subgraphs to publish their schemas');
        await new Promise((r) => setTimeout(r, 500));
      }
      update = u;
      const subscriber = await createSubscriber(opts.redis);
      const { channel } = registryKeys(opts.namespace);
      subscriber.on('message', (ch: string, message: string) => {
        if (ch !== channel) return;
        const notice = parseNotice(message);
        if (notice) onNotice(notice);
        void refresh();
      });
      await subscriber.subscribe(channel);
      const timer = setInterval(() => void refresh(), opts.pollMs ?? 5_000);
      timer.unref();
      return {
        supergraphSdl: first,
        cleanup: async () => {
          clearInterval(timer);
          update = null;
          subscriber.disconnect();
        },
      };
    },
  };
}

/** What makes a graph different: names, URLs and SDL (not who published or when). */
function fingerprint(schemas: readonly PublishedSchema[]): string {
  const h = createHash('sha256');
  for (const e of schemas) h.update(`${e.name}\n${e.url}\n${e.wsUrl}\n${e.sdl}\n`);
  return h.digest('hex');
}
