// Registry mode: the supergraph is composed from what subgraphs announce in Redis and
// swapped in whenever that changes. A composition that fails keeps the last good
// supergraph; a subgraph leaves only when it deregisters or after the absence window.
import { createHash } from 'node:crypto';
import type { SupergraphManager } from '@apollo/gateway';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../../platform/logger';
import { readRegistry, registryKeys, type RegistryEntry } from '../../platform/registry';
import { createSubscriber } from '../../platform/subscriber';
import { composeSupergraph } from './compose';

/** What /ready, /metrics and logs report about the supergraph. */
export type SupergraphState =
  | { readonly phase: 'waiting'; readonly since: number }
  | {
      readonly phase: 'composed';
      readonly subgraphs: readonly string[];
      readonly composedAt: number;
      readonly lastFailure: { readonly at: number; readonly errors: readonly string[] } | null;
    };

export interface RegistrySourceOptions {
  readonly redis: Redis | Cluster;
  readonly namespace?: string;
  /**
   * How long a subgraph may miss heartbeats before it leaves the graph. A restart or a
   * network blip is shorter than this, so it never drops fields in use. @default 60000
   */
  readonly absenceWindowMs?: number;
  /** How often the registry is re-read even without a change notice. @default 5000 */
  readonly pollMs?: number;
  /** How long start-up waits for the first subgraph that composes. @default 120000 */
  readonly startupTimeoutMs?: number;
  readonly logger: Logger;
  /** Told about every composition, good or bad (metrics). */
  readonly onComposition?: (outcome: { ok: boolean; subgraphs: readonly string[]; errors?: readonly string[] }) => void;
}

export interface RegistrySource extends SupergraphManager {
  state(): SupergraphState;
  /** Re-reads the registry now (tests and operators); resolves when composition is done. */
  refresh(): Promise<void>;
}

export function createRegistrySource(opts: RegistrySourceOptions): RegistrySource {
  const absence = opts.absenceWindowMs ?? 60_000;
  let state: SupergraphState = { phase: 'waiting', since: Date.now() };
  let lastKey = '';
  let update: ((sdl: string) => void) | null = null;
  let running: Promise<void> = Promise.resolve();

  /** Composes the live entries; returns the new SDL when the graph changed and composed. */
  const compose = async (): Promise<string | null> => {
    const now = Date.now();
    const entries = (await readRegistry(opts.redis, opts.namespace)).filter((e) => now - e.lastSeen <= absence);
    if (entries.length === 0) return null;
    const key = fingerprint(entries);
    if (key === lastKey) return null;
    const result = composeSupergraph(entries);
    const names = entries.map((e) => e.name);
    if (!result.ok) {
      // Keep serving the last good supergraph; say loudly what is wrong with the new one.
      if (state.phase === 'composed') state = { ...state, lastFailure: { at: now, errors: result.errors } };
      lastKey = key;
      opts.logger.error({ subgraphs: names, errors: result.errors }, 'composition failed; keeping the last good supergraph');
      opts.onComposition?.({ ok: false, subgraphs: names, errors: result.errors });
      return null;
    }
    lastKey = key;
    state = { phase: 'composed', subgraphs: names, composedAt: now, lastFailure: null };
    opts.logger.info({ subgraphs: names }, 'supergraph composed');
    opts.onComposition?.({ ok: true, subgraphs: names });
    return result.supergraphSdl;
  };

  // One composition at a time, in order: a burst of notices costs at most one extra run.
  const refresh = () => {
    running = running.then(async () => {
      try {
        const sdl = await compose();
        if (sdl && update) update(sdl);
      } catch (e) {
        opts.logger.warn({ err: (e as Error).message }, 'reading the registry failed; will retry');
      }
    });
    return running;
  };

  return {
    state: () => state,
    refresh,
    async initialize({ update: u }) {
      const deadline = Date.now() + (opts.startupTimeoutMs ?? 120_000);
      let first: string | null = null;
      for (;;) {
        first = await compose();
        if (first) break;
        if (Date.now() > deadline)
          throw new Error(`no subgraph that composes registered within ${(opts.startupTimeoutMs ?? 120_000) / 1000} s; start the subgraphs (npm start) or use the static supergraph (SUPERGRAPH_SOURCE=file)`);
        if (state.phase === 'waiting') opts.logger.info('waiting for subgraphs to register');
        await new Promise((r) => setTimeout(r, 500));
      }
      update = u;
      const subscriber = await createSubscriber(opts.redis);
      const { channel } = registryKeys(opts.namespace);
      subscriber.on('message', (ch: string) => {
        if (ch === channel) void refresh();
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

/** What makes a graph different: names, URLs and SDL (not heartbeat times). */
function fingerprint(entries: readonly RegistryEntry[]): string {
  const h = createHash('sha256');
  for (const e of entries) h.update(`${e.name}\n${e.url}\n${e.wsUrl}\n${e.sdl}\n`);
  return h.digest('hex');
}
