// A relay: reads a topic in its own consumer group and turns each partition's records, in log
// order, into effects elsewhere (events written to another topic), then commits (once a second,
// offsetCommitter.ts). Delivery is at least once: a crash after the effect and before the commit
// repeats what came after the last commit, so a relay's
// effects must be idempotent where they land (the reservations' relays write events whose
// folds change nothing the second time; docs/reservations.md).
import type { Consumer, KafkaMessage } from 'kafkajs';
import { DEFAULT_FETCH } from '../../platform/kafkaConfig';
import { withRecordTraces } from '../../platform/tracing';
import { pacedEachBatch } from './fetchPacing';
import { OFFSET_COMMIT_INTERVAL_MS, startOffsetCommitter } from './offsetCommitter';
import { parseRecord, type EventOf, type EventTypeOf, type TopicContract } from '../../schema/events';
import { EVENT_TYPE_HEADER } from './producer';
import type { SubgraphRuntime } from './subgraphRuntime';

/** One event of a relayed batch and where it is. */
export interface RelayedEvent<C extends TopicContract> {
  readonly event: EventOf<C>;
  readonly partition: number;
  readonly offset: number;
}

export interface RelayOptions<C extends TopicContract> {
  readonly runtime: SubgraphRuntime;
  /** Part of the consumer group (`<subgraph>.<name>`) and of log lines. */
  readonly name: string;
  readonly from: C;
  /** The event types it relays; records of other types are passed over unparsed. */
  readonly types: readonly EventTypeOf<C>[];
  /**
   * Handles one partition's events in log order (`lastOffset` is the batch's last record, relayed
   * or not). Resolves once its effects are durable; a rejection retries the batch.
   */
  handle(events: readonly RelayedEvent<C>[], at: { partition: number; lastOffset: number }): Promise<void>;
  /** @default 30000 */
  readonly sessionTimeoutMs?: number;
}

export interface RelayHandle {
  stop(): Promise<void>;
}

/** How long a relay gathers records after a small batch (see pacedEachBatch). */
const RELAY_GATHER_MS = 5;

const headerText = (m: KafkaMessage, name: string): string | undefined => {
  const h = m.headers?.[name];
  return h === undefined ? undefined : Buffer.isBuffer(h) ? h.toString('utf8') : Array.isArray(h) ? String(h[0]) : String(h);
};

/** Starts a relay; resolves once its consumer runs. */
export async function startRelay<C extends TopicContract>(opts: RelayOptions<C>): Promise<RelayHandle> {
  const { runtime } = opts;
  const topic = runtime.topic(opts.from);
  const log = runtime.logger.child({ relay: opts.name });
  const types = new Set<string>(opts.types);
  const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
  const consumer: Consumer = runtime.kafka.consumer({
    groupId: `${runtime.namespace}${runtime.name}.${opts.name}`,
    sessionTimeout,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 5)),
    // One byte and a long wait, paced below: a quiet relay asks once per idle wait, and a record
    // that comes alone is relayed at once.
    maxWaitTimeInMs: DEFAULT_FETCH.idleWaitMs,
    minBytes: 1,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const committer = startOffsetCommitter({ consumer, topic, intervalMs: OFFSET_COMMIT_INTERVAL_MS, log });
  consumer.on(consumer.events.GROUP_JOIN, (e) => committer.retain(e.payload.memberAssignment[topic] ?? []));
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: await runtime.producer.partitionsOf(topic),
    // A relay is on the path of a decision someone waits for (a placed order's confirmation), so
    // it gathers for a few milliseconds only; on a busy source topic (the reservations' router
    // reads every orders record, most of them delivery estimates it passes over) that still turns
    // a fetch per record into one per RELAY_GATHER_MS.
    eachBatch: pacedEachBatch(async ({ batch, heartbeat }) => {
      if (batch.messages.length === 0) return;
      const events: RelayedEvent<C>[] = [];
      const headers: Array<KafkaMessage['headers']> = [];
      for (const m of batch.messages) {
        const type = headerText(m, EVENT_TYPE_HEADER);
        if (type !== undefined && !types.has(type)) continue;
        try {
          const event = parseRecord(opts.from, m.key, m.value);
          if (event && types.has(event.type)) {
            events.push({ event, partition: batch.partition, offset: Number(m.offset) });
            headers.push(m.headers);
          }
        } catch (e) {
          // The views dead-letter a record that breaks the contract; a relay only passes it over.
          log.warn({ partition: batch.partition, offset: m.offset, err: (e as Error).message }, 'relay passes over a record it cannot read');
        }
      }
      const lastOffset = Number(batch.lastOffset());
      // What it writes continues the traces of the records it relays (tracing on; none: untraced).
      if (events.length > 0)
        await withRecordTraces(`relay ${opts.name}`, { 'messaging.system': 'kafka', 'messaging.operation.type': 'process', 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(batch.partition), 'messaging.batch.message_count': events.length }, headers, () =>
          opts.handle(events, { partition: batch.partition, lastOffset }),
        );
      // Committed after the effects (on the committer's next round): a crash before that repeats
      // them, never skips them.
      committer.note(batch.partition, lastOffset + 1);
      await heartbeat();
    }, { minBytes: DEFAULT_FETCH.minBytes, gatherMs: RELAY_GATHER_MS }),
  });
  return {
    stop: async () => {
      await committer.stop().catch(() => undefined);
      await consumer.disconnect().catch(() => undefined);
    },
  };
}
