// The subgraph registry in Redis: the contract between subgraphs, the `subgraph` CLI and the
// gateway. It keeps two facts apart, because a restart must not change what clients may ask:
// - the *published schemas*: which subgraphs belong to the graph, with their SDL. Only a
//   publish or a removal changes them (schemaPublishing.ts checks both first);
// - the *instances*: which processes of a subgraph run now and where, kept alive by
//   heartbeats. The gateway routes to them; when none runs, the subgraph's fields answer
//   SUBGRAPH_UNAVAILABLE instead of leaving the graph.
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Cluster, Redis } from 'ioredis';

/** A subgraph's schema as it belongs to the graph. */
export interface PublishedSchema {
  readonly name: string;
  /** HTTP endpoint at publish time: the composed supergraph's URL (routing uses the instances). */
  readonly url: string;
  readonly wsUrl: string;
  readonly sdl: string;
  readonly publishedAt: number;
  /** Who published: an instance id, or `cli` for `npm run subgraph -- publish`. */
  readonly publishedBy: string;
}

/**
 * A removed subgraph leaves a tombstone, so that an instance still running (or crash-looping)
 * does not publish it back on its next start: only an explicit publish brings it back.
 */
export interface RemovedSchema {
  readonly name: string;
  readonly removedAt: number;
}

export type SchemaRecord = ({ readonly kind: 'published' } & PublishedSchema) | ({ readonly kind: 'removed' } & RemovedSchema);

/** One running process of a subgraph. */
export interface InstanceEntry {
  readonly name: string;
  readonly instanceId: string;
  /** HTTP endpoint for queries and mutations. */
  readonly url: string;
  /** graphql-ws endpoint for subscriptions. */
  readonly wsUrl: string;
  /** sha256 of the SDL this instance serves (a rolling deploy runs two for a while). */
  readonly sdlHash: string;
  /** When the instance last beat (ms since epoch). */
  readonly lastSeen: number;
}

/** What changed, published on the registry channel so gateways re-read at once and log it. */
export type RegistryNotice =
  | { readonly kind: 'published'; readonly name: string; readonly by: string }
  | { readonly kind: 'removed'; readonly name: string; readonly by: string }
  | { readonly kind: 'refused'; readonly name: string; readonly by: string; readonly action: 'publish' | 'remove'; readonly errors: readonly string[] }
  | { readonly kind: 'instance'; readonly name: string; readonly instanceId: string; readonly change: 'joined' | 'left' };

/** Redis names of the registry of one namespace (STREAMGRAPH_NAMESPACE; '' in production). */
export function registryKeys(namespace = ''): { schemas: string; instances: string; channel: string } {
  return {
    schemas: `sg:registry:${namespace}:schemas`,
    instances: `sg:registry:${namespace}:instances`,
    channel: `sg:registry:${namespace}:changed`,
  };
}

export const sdlHash = (sdl: string): string => createHash('sha256').update(sdl).digest('hex');

const MAX_NOTICE_ERRORS = 20;
const MAX_NOTICE_ERROR_CHARS = 500;

export async function notify(redis: Redis | Cluster, namespace: string, notice: RegistryNotice): Promise<void> {
  // Notices are for logs and re-reads; a refusal's errors are bounded so one bad SDL cannot
  // flood every gateway's log.
  const bounded =
    notice.kind === 'refused'
      ? { ...notice, errors: notice.errors.slice(0, MAX_NOTICE_ERRORS).map((e) => e.slice(0, MAX_NOTICE_ERROR_CHARS)) }
      : notice;
  await redis.publish(registryKeys(namespace).channel, JSON.stringify(bounded));
}

/** A notice from the channel, or null for anything else (an older writer published a bare name). */
export function parseNotice(message: string): RegistryNotice | null {
  try {
    const n = JSON.parse(message) as Partial<RegistryNotice>;
    if (typeof n !== 'object' || n === null || typeof n.name !== 'string') return null;
    if (n.kind === 'published' || n.kind === 'removed' || n.kind === 'refused' || n.kind === 'instance') return n as RegistryNotice;
    return null;
  } catch {
    return null;
  }
}

function parseRecord(raw: string): SchemaRecord | null {
  try {
    const r = JSON.parse(raw) as Partial<SchemaRecord>;
    if (r.kind === 'removed' && typeof r.name === 'string') return r as SchemaRecord;
    if (r.kind === 'published' && typeof r.name === 'string' && typeof r.sdl === 'string' && typeof r.url === 'string') return r as SchemaRecord;
    return null;
  } catch {
    return null;
  }
}

/** Every schema record (published and removed), by name. */
export async function readSchemaRecords(redis: Redis | Cluster, namespace = ''): Promise<Map<string, SchemaRecord>> {
  const all = await redis.hgetall(registryKeys(namespace).schemas);
  const out = new Map<string, SchemaRecord>();
  for (const [name, raw] of Object.entries(all)) {
    const r = parseRecord(raw);
    if (r) out.set(name, r);
  }
  return out;
}

/** The schemas that belong to the graph now, by name. */
export async function readSchemas(redis: Redis | Cluster, namespace = ''): Promise<PublishedSchema[]> {
  const out: PublishedSchema[] = [];
  for (const r of (await readSchemaRecords(redis, namespace)).values()) if (r.kind === 'published') out.push(withoutKind(r));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function withoutKind(r: { kind: 'published' } & PublishedSchema): PublishedSchema {
  const { kind: _kind, ...rest } = r;
  return rest;
}

export const serializeRecord = (r: SchemaRecord): string => JSON.stringify(r);

/** Every registered instance, live or not (the reader decides with its own absence window). */
export async function readInstances(redis: Redis | Cluster, namespace = ''): Promise<InstanceEntry[]> {
  const all = await redis.hgetall(registryKeys(namespace).instances);
  return Object.values(all)
    .map((v) => {
      try {
        return JSON.parse(v) as InstanceEntry;
      } catch {
        return null;
      }
    })
    .filter((e): e is InstanceEntry => e !== null && typeof e.name === 'string' && typeof e.url === 'string')
    .sort((a, b) => a.name.localeCompare(b.name) || a.instanceId.localeCompare(b.instanceId));
}

const instanceField = (name: string, instanceId: string) => `${name}/${instanceId}`;

/** Instances older than this are deleted by the next heartbeat of any instance (they died without deregistering). */
const FORGET_INSTANCE_MS = 10 * 60_000;

export interface InstanceRegistration {
  readonly instanceId: string;
  /** Stops the heartbeat; with `deregister` (the default) removes the instance so gateways stop routing to it now. */
  close(opts?: { deregister?: boolean }): Promise<void>;
}

export interface RegisterInstanceOptions {
  readonly namespace?: string;
  /** @default 5000 */
  readonly heartbeatMs?: number;
  /** Runs after every heartbeat (the announcement re-publishes a schema Redis lost). */
  readonly onBeat?: () => Promise<void>;
}

/** Registers one running instance and keeps its entry fresh every `heartbeatMs`. */
export async function registerInstance(
  redis: Redis | Cluster,
  entry: { readonly name: string; readonly url: string; readonly wsUrl: string; readonly sdl: string },
  opts: RegisterInstanceOptions = {},
): Promise<InstanceRegistration> {
  const namespace = opts.namespace ?? '';
  const { instances } = registryKeys(namespace);
  const instanceId = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const field = instanceField(entry.name, instanceId);
  const hash = sdlHash(entry.sdl);
  let joined = false;
  const beat = async () => {
    const next: InstanceEntry = { name: entry.name, instanceId, url: entry.url, wsUrl: entry.wsUrl, sdlHash: hash, lastSeen: Date.now() };
    const isNew = (await redis.hset(instances, field, JSON.stringify(next))) === 1;
    // Also after Redis lost the entry (a restart that kept nothing): gateways learn at once.
    if (isNew || !joined) await notify(redis, namespace, { kind: 'instance', name: entry.name, instanceId, change: 'joined' });
    joined = true;
    await forgetDead(redis, instances);
    await opts.onBeat?.();
  };
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), opts.heartbeatMs ?? 5_000);
  timer.unref();
  return {
    instanceId,
    async close(closeOpts = {}) {
      clearInterval(timer);
      if (closeOpts.deregister ?? true) {
        await redis.hdel(instances, field);
        await notify(redis, namespace, { kind: 'instance', name: entry.name, instanceId, change: 'left' });
      }
    },
  };
}

/** Instances that died without deregistering (SIGKILL) would otherwise stay in the hash for good. */
async function forgetDead(redis: Redis | Cluster, instancesKey: string): Promise<void> {
  const all = await redis.hgetall(instancesKey);
  const now = Date.now();
  const dead: string[] = [];
  for (const [field, raw] of Object.entries(all)) {
    try {
      if (now - (JSON.parse(raw) as InstanceEntry).lastSeen > FORGET_INSTANCE_MS) dead.push(field);
    } catch {
      dead.push(field);
    }
  }
  if (dead.length) await redis.hdel(instancesKey, ...dead);
}

// ---------------------------------------------------------------------------------------------
// Data products: each subgraph announces its declarations with its schema, one entry per
// subgraph (replaced whole at every start, so a product renamed in code is not left behind).
// The mesh subgraph reads them to serve the catalog of data products.

/** One topic of a product as announced: the contract's settings, version and JSON Schema. */
export interface AnnouncedTopic {
  readonly name: string;
  readonly owner: string;
  readonly keyedBy: string;
  readonly partitions: number;
  /** `events`: written by its owner's producer; `cdc`: change data capture of a database. */
  readonly source: 'events' | 'cdc';
  readonly events: ReadonlyArray<{ readonly type: string; readonly version: number }>;
  readonly contract: {
    readonly version: number;
    /** PUBLISHED, UNPUBLISHED_CHANGE, INCOMPATIBLE or NEW (schema/contracts/published.ts). */
    readonly status: string;
    readonly jsonSchema: unknown;
  };
}

/** One view of a product: its name, the topic it folds, its consumer group and the fields it backs. */
export interface AnnouncedView {
  readonly name: string;
  readonly topic: string;
  /** The team that writes `topic`, from its contract (its own product may not be announced). */
  readonly topicOwner?: string;
  /** Without the namespace prefix, like `name` and `topic`. */
  readonly groupId: string;
  readonly fields: readonly string[];
}

export interface AnnouncedDataProduct {
  readonly name: string;
  readonly subgraph: string;
  readonly team: string;
  readonly contact: string;
  readonly description: string;
  readonly topics: readonly AnnouncedTopic[];
  readonly views: readonly AnnouncedView[];
  readonly serviceLevels: {
    readonly maxLag: { readonly records: number; readonly seconds: number };
    readonly maxEventAgeSeconds: number | null;
    readonly minValidShare: number;
  };
}

export interface DataProductsRecord {
  readonly subgraph: string;
  readonly products: readonly AnnouncedDataProduct[];
  readonly announcedAt: number;
}

export const dataProductsKey = (namespace = '') => `sg:registry:${namespace}:products`;

/** Replaces the data products `subgraph` announces (an empty list removes them). */
export async function writeDataProducts(redis: Redis | Cluster, namespace: string, subgraph: string, products: readonly AnnouncedDataProduct[]): Promise<void> {
  const key = dataProductsKey(namespace);
  if (products.length === 0) await redis.hdel(key, subgraph);
  else await redis.hset(key, subgraph, JSON.stringify({ subgraph, products, announcedAt: Date.now() } satisfies DataProductsRecord));
}

/** Every announced subgraph's products, by subgraph name (an unreadable entry is skipped). */
export async function readDataProducts(redis: Redis | Cluster, namespace = ''): Promise<DataProductsRecord[]> {
  const all = await redis.hgetall(dataProductsKey(namespace));
  const out: DataProductsRecord[] = [];
  for (const raw of Object.values(all)) {
    try {
      const r = JSON.parse(raw) as Partial<DataProductsRecord>;
      if (typeof r.subgraph === 'string' && Array.isArray(r.products)) out.push(r as DataProductsRecord);
    } catch {
      // An entry of a newer or broken writer: the others still count.
    }
  }
  return out.sort((a, b) => a.subgraph.localeCompare(b.subgraph));
}
