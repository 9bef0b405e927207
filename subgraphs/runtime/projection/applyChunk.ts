// One chunk of a partition batch through the steps: decode, read the entities and checkpoint
// (one MGET), fold, dead-letter the poison, write the operations with the checkpoint in one
// guarded script. Records at or below the checkpoint are skipped; a fetch that began past
// `checkpoint + 1` seeks back instead of writing a view with a hole in it; a checkpoint moved
// by another writer (a zombie after a rebalance, a rebuild) means re-reading and re-folding.
import type { Cluster, Redis } from 'ioredis';
import type { KafkaMessage } from 'kafkajs';
import type { TopicContract } from '../../../schema/events';
import type { Logger } from '../../../platform/logger';
import { endSpan, sampledContextOfRecord, SpanKind, startSpan, traceparentOf, tracingEnabled, type Span } from '../../../platform/tracing';
import { appliedMessage, type AppliedWatch } from '../appliedWatch';
import type { GenerationWatch } from '../generation';
import { partitionKeys, viewChannels } from '../keys';
import type { Projection } from '../projection';
import { applyBatch } from './applyBatch';
import { parseCheckpoint, resumePoint } from './checkpoints';
import type { DeadLetterWriter } from './deadLetter';
import { createDecoder } from './decode';
import { entitiesRead, foldChunk, parseSnapshot, type FoldContext } from './fold';
import type { LagMeter } from './lag';
import { chunkOperations, noticeMessages } from './operations';

export type ChunkOutcome = { readonly kind: 'applied'; readonly last: number } | { readonly kind: 'seek'; readonly to: number };

/**
 * Applies the records of one chunk that the view has not applied yet. `startsAt` is the offset
 * the chunk's fetch began at: if the view's checkpoint is behind it, records in between were
 * never applied (Redis lost them, or another generation is live), so the outcome is a seek back.
 */
export type ChunkApplier = (partition: number, startsAt: number, chunk: readonly KafkaMessage[]) => Promise<ChunkOutcome>;

export interface ChunkApplierOptions<C extends TopicContract, S> {
  readonly redis: Redis | Cluster;
  readonly projection: Projection<C, S>;
  readonly topic: string;
  readonly generation: GenerationWatch;
  readonly applied: AppliedWatch;
  readonly lag: LagMeter;
  readonly deadLetter: DeadLetterWriter;
  readonly log: Logger;
}

export function chunkApplier<C extends TopicContract, S>(opts: ChunkApplierOptions<C, S>): ChunkApplier {
  const { redis, projection, topic, lag, log } = opts;
  const view = projection.name;
  const channels = viewChannels(view);
  const decode = createDecoder(projection);

  /**
   * Tracing on: a span per record whose producer was sampled, as a child of the producing span,
   * so each traced event's apply sits in its own trace (at 1% sampling a chunk holds one at
   * most, usually none: then nothing is made). Their contexts go out with the change notices.
   */
  const applySpans = (partition: number, chunk: readonly KafkaMessage[]): Map<number, Span> | undefined => {
    let spans: Map<number, Span> | undefined;
    for (const m of chunk) {
      const parent = sampledContextOfRecord(m.headers);
      if (!parent) continue;
      const offset = Number(m.offset);
      const span = startSpan(`apply ${view}`, { 'messaging.system': 'kafka', 'messaging.operation.type': 'process', 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(partition), 'messaging.kafka.offset': offset, 'messaging.batch.message_count': chunk.length, 'streamgraph.view': view }, { parent, kind: SpanKind.CONSUMER });
      if (span) (spans ??= new Map()).set(offset, span);
    }
    return spans;
  };

  return async (partition, startsAt, chunk) => {
    const spans = tracingEnabled() ? applySpans(partition, chunk) : undefined;
    if (!spans) return applyOnce(partition, startsAt, chunk, undefined);
    try {
      const outcome = await applyOnce(partition, startsAt, chunk, spans);
      for (const span of spans.values()) endSpan(span.setAttribute('streamgraph.apply.outcome', outcome.kind));
      return outcome;
    } catch (e) {
      for (const span of spans.values()) endSpan(span, e);
      throw e;
    }
  };

  async function applyOnce(partition: number, startsAt: number, chunk: readonly KafkaMessage[], spans: Map<number, Span> | undefined): Promise<ChunkOutcome> {
    const ctx: FoldContext<C, S> = { projection, topic, partition };
    const read = entitiesRead(ctx, chunk.map(decode));
    const last = Number(chunk[chunk.length - 1].offset);
    for (;;) {
      const gen = opts.generation.current();
      const keys = partitionKeys(view, gen, topic, partition);
      const [cpRaw, ...values] = await redis.mget(keys.checkpoint, ...read.ids.map((id) => keys.entity(id)));
      const checkpoint = parseCheckpoint(view, partition, cpRaw);
      const next = checkpoint === null ? (await lag.logBoundsOf(partition)).start : checkpoint + 1;
      if (startsAt > next) {
        // Throws when the records in between are gone from the log: seeking would loop forever.
        if (checkpoint !== null) resumePoint(view, partition, checkpoint, await lag.logBoundsOf(partition));
        return { kind: 'seek', to: next };
      }
      const pending = read.records.filter((r) => r.offset >= next);
      if (pending.length === 0) return { kind: 'applied', last };

      const folded = foldChunk(ctx, read, parseSnapshot<S>(view, read.ids, values), pending, spans && new Set(spans.keys()));
      await opts.deadLetter(partition, folded.poison);
      const { ops, notices } = chunkOperations(projection, keys, folded);
      const result = await applyBatch(redis, {
        keys,
        expectedCheckpoint: checkpoint,
        newCheckpoint: last,
        meta: { lastEventAt: folded.lastEventAt, appliedAt: Date.now() },
        ops,
        noticeChannel: channels.notices,
        notices: noticeMessages(view, gen, partition, notices, spans && noticeTraces(spans, folded.tracedBy)),
        appliedChannel: channels.applied,
        appliedMessage: appliedMessage(gen, topic, partition, last),
      });
      if (result.ok) {
        opts.applied.noteApplied(gen, partition, last);
        lag.stats[partition].recordApplied(folded.applied, last, folded.lastEventAt);
        lag.stats[partition].resent += folded.resent;
        return { kind: 'applied', last };
      }
      // Another instance (a zombie after a rebalance, or a rebuild) wrote first. Re-reading and
      // re-folding from its checkpoint is always safe.
      log.info({ partition, expected: checkpoint, found: result.checkpoint }, 'checkpoint moved underneath; re-folding');
    }
  }
}

/** For each entity a traced record changed, the trace context of the last such record's apply. */
function noticeTraces(spans: ReadonlyMap<number, Span>, tracedBy: ReadonlyMap<string, number>): Record<string, string> {
  // fromEntries defines own properties: an entity id such as "__proto__" stays a plain key.
  return Object.fromEntries([...tracedBy].map(([id, offset]) => [id, traceparentOf(spans.get(offset))!]));
}
