// Publishing and removing subgraph schemas: the only ways fields enter or leave the graph.
// Each is checked first, in the spirit of a schema registry's checks: the graph must still
// compose, and no operation the gateways served recently may stop validating (unless forced).
// Writes are optimistic (WATCH on the schemas hash), so two publishes at once cannot both pass
// their checks against a graph that no longer exists.
import type { Cluster, Redis } from 'ioredis';
import { composeSupergraph, type SubgraphSource } from './composeSupergraph';
import { DEFAULT_OPERATION_WINDOW_MS, readRecentOperations } from './operationLog';
import { notify, readSchemaRecords, registryKeys, serializeRecord, type PublishedSchema, type SchemaRecord } from './registry';
import { apiSchemaOf, breakingOperations, nonNullExtensionWarnings, type BreakingOperation } from './schemaChecks';

export interface SchemaChangeOptions {
  readonly namespace?: string;
  /** Publish or remove although recent operations would break (never past a composition failure). */
  readonly force?: boolean;
  /** Check only: report what would happen, write nothing. */
  readonly dryRun?: boolean;
  /** How far back "recent" reaches. @default 7 days */
  readonly operationWindowMs?: number;
  /** Who asks (an instance id, or `cli`); logged by gateways. */
  readonly by: string;
}

export type SchemaChangeOutcome =
  | { readonly status: 'published' | 'removed'; readonly warnings: readonly string[]; readonly forcedPast: readonly BreakingOperation[] }
  | { readonly status: 'unchanged'; readonly warnings: readonly string[] }
  /** Dry run: the change passes its checks. */
  | { readonly status: 'would-change'; readonly warnings: readonly string[]; readonly breaking: readonly BreakingOperation[] }
  | {
      readonly status: 'refused';
      readonly reason: 'composition' | 'breaking' | 'not-published' | 'empty-graph';
      readonly errors: readonly string[];
      readonly breaking: readonly BreakingOperation[];
      readonly warnings: readonly string[];
    };

type Change = { readonly kind: 'publish'; readonly schema: Omit<PublishedSchema, 'publishedAt' | 'publishedBy'> } | { readonly kind: 'remove'; readonly name: string };

/** Puts `schema` into the graph (or replaces the subgraph's schema), after the checks. */
export function publishSchema(redis: Redis | Cluster, schema: Omit<PublishedSchema, 'publishedAt' | 'publishedBy'>, opts: SchemaChangeOptions): Promise<SchemaChangeOutcome> {
  return change(redis, { kind: 'publish', schema }, opts);
}

/** Takes a subgraph's fields out of the graph, after the checks; its instances are no longer routed to. */
export function removeSchema(redis: Redis | Cluster, name: string, opts: SchemaChangeOptions): Promise<SchemaChangeOutcome> {
  return change(redis, { kind: 'remove', name }, opts);
}

const MAX_ATTEMPTS = 5;

async function change(redis: Redis | Cluster, c: Change, opts: SchemaChangeOptions): Promise<SchemaChangeOutcome> {
  const namespace = opts.namespace ?? '';
  const key = registryKeys(namespace).schemas;
  const name = c.kind === 'publish' ? c.schema.name : c.name;
  for (let attempt = 1; ; attempt++) {
    // WATCH needs the same connection for WATCH, reads and MULTI: a dedicated one (cheap; CLI and start-up only).
    const conn = (redis as Redis).duplicate();
    try {
      await conn.watch(key);
      const records = await readSchemaRecords(conn, namespace);
      const decision = await decide(conn, records, c, opts);
      if (decision.outcome.status !== 'published' && decision.outcome.status !== 'removed') {
        await conn.unwatch();
        if (decision.outcome.status === 'refused' && !opts.dryRun)
          await notify(redis, namespace, { kind: 'refused', name, by: opts.by, action: c.kind, errors: refusalLines(decision.outcome) });
        return decision.outcome;
      }
      const written = await conn.multi().hset(key, name, serializeRecord(decision.record!)).exec();
      if (written === null) {
        // Someone changed the graph between our read and write: check again against what is there now.
        if (attempt >= MAX_ATTEMPTS) throw new Error(`the registry kept changing during ${MAX_ATTEMPTS} attempts to ${c.kind} ${name}; try again`);
        continue;
      }
      await notify(redis, namespace, c.kind === 'publish' ? { kind: 'published', name, by: opts.by } : { kind: 'removed', name, by: opts.by });
      return decision.outcome;
    } finally {
      conn.disconnect();
    }
  }
}

/** One line per problem, for logs, notices and the CLI. */
export function refusalLines(o: Extract<SchemaChangeOutcome, { status: 'refused' }>): string[] {
  if (o.reason === 'breaking')
    return o.breaking.map((b) => `operation ${b.operation} (last served ${new Date(b.lastSeen).toISOString()}) would fail: ${b.error}`);
  return [...o.errors];
}

async function decide(
  redis: Redis | Cluster,
  records: Map<string, SchemaRecord>,
  c: Change,
  opts: SchemaChangeOptions,
): Promise<{ outcome: SchemaChangeOutcome; record?: SchemaRecord }> {
  const name = c.kind === 'publish' ? c.schema.name : c.name;
  const published = [...records.values()].filter((r): r is Extract<SchemaRecord, { kind: 'published' }> => r.kind === 'published');
  const existing = published.find((r) => r.name === name) ?? null;
  const others = published.filter((r) => r.name !== name);
  const candidate: SubgraphSource[] = c.kind === 'publish' ? [...others, c.schema] : others;
  const warnings = c.kind === 'publish' ? nonNullExtensionWarnings(candidate, name) : [];

  if (c.kind === 'publish' && existing && existing.sdl === c.schema.sdl && existing.url === c.schema.url) return { outcome: { status: 'unchanged', warnings } };
  if (c.kind === 'remove' && !existing)
    return { outcome: { status: 'refused', reason: 'not-published', errors: [`${name} is not published in this graph`], breaking: [], warnings } };
  if (candidate.length === 0)
    return { outcome: { status: 'refused', reason: 'empty-graph', errors: [`removing ${name} would leave the graph empty`], breaking: [], warnings } };

  const composed = composeSupergraph(candidate);
  if (!composed.ok) return { outcome: { status: 'refused', reason: 'composition', errors: composed.errors, breaking: [], warnings } };

  // Only a change to what is there can break operations: a new subgraph only adds.
  let breaking: BreakingOperation[] = [];
  if (existing) {
    const now = composeSupergraph(published);
    const operations = await readRecentOperations(redis, opts.namespace, opts.operationWindowMs ?? DEFAULT_OPERATION_WINDOW_MS);
    breaking = breakingOperations(now.ok ? apiSchemaOf(now.supergraphSdl) : null, apiSchemaOf(composed.supergraphSdl), operations);
  }
  if (breaking.length > 0 && !opts.force)
    return { outcome: { status: 'refused', reason: 'breaking', errors: [], breaking, warnings } };
  if (opts.dryRun) return { outcome: { status: 'would-change', warnings, breaking } };
  const at = Date.now();
  const record: SchemaRecord =
    c.kind === 'publish' ? { kind: 'published', ...c.schema, publishedAt: at, publishedBy: opts.by } : { kind: 'removed', name, removedAt: at };
  return { outcome: { status: c.kind === 'publish' ? 'published' : 'removed', warnings, forcedPast: breaking }, record };
}
