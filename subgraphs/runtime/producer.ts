// The event producer every subgraph and tool uses: idempotent, acks=all, keyed with
// Kafka's Java partitioner, and it tells the caller exactly where each event landed.
import { Partitioners, type Admin, type Kafka, type Message, type Producer } from 'kafkajs';
import { encodeEvent, partitionForKey, type Envelope } from '../../schema/events';

import type { WrittenAt } from '../../platform/consistency';
import { recordTraceHeaders, SpanKind, withSpan } from '../../platform/tracing';

export type { WrittenAt };

/** The header naming each event's type, so that a view can pass over types its fold ignores unparsed. */
export const EVENT_TYPE_HEADER = 'event-type';

export interface EventProducer {
  /** Writes one event keyed by `event.key`; resolves once all in-sync replicas have it. */
  publish(topic: string, event: Envelope<string, unknown>): Promise<WrittenAt>;
  /** Writes many events to one topic in one request, preserving order per key. */
  publishMany(topic: string, events: readonly Envelope<string, unknown>[]): Promise<WrittenAt[]>;
  /** Writes raw records (used for dead letters, which must keep the original bytes). */
  publishRaw(topic: string, messages: readonly Message[]): Promise<void>;
  /** The partition count of a topic, as the broker reports it (cached). */
  partitionsOf(topic: string): Promise<number>;
  close(): Promise<void>;
}

export async function createEventProducer(kafka: Kafka): Promise<EventProducer> {
  // maxInFlightRequests 1 keeps per-partition order even across retries (kafkajs' idempotent
  // producer does not track sequence numbers over several in-flight requests).
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Records carry an explicit partition; the Java-compatible partitioner covers raw sends.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const admin: Admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  const partitionCounts = new Map<string, Promise<number>>();

  const partitionsOf = (topic: string): Promise<number> => {
    let p = partitionCounts.get(topic);
    if (!p) {
      p = admin.fetchTopicMetadata({ topics: [topic] }).then((m) => {
        const n = m.topics[0]?.partitions.length ?? 0;
        if (n === 0) throw new Error(`topic ${topic} does not exist: run "npm run topics" to create it`);
        return n;
      });
      p.catch(() => partitionCounts.delete(topic));
      partitionCounts.set(topic, p);
    }
    return p;
  };

  // Sends are one at a time (ordering under retries), so concurrent publishes queue up and
  // the next send carries all of them: one acks=all round trip for many callers.
  type Pending = {
    topic: string;
    messages: Message[];
    partitions: number[];
    resolve(written: WrittenAt[]): void;
    reject(error: unknown): void;
  };
  let queue: Pending[] = [];
  let sending = false;
  const pump = async () => {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        try {
          const byTopic = new Map<string, Message[]>();
          for (const p of batch) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), ...p.messages]);
          const meta = await producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          });
          const base = new Map<string, number>();
          for (const m of meta) base.set(`${m.topicName}:${m.partition}`, Number(m.baseOffset ?? m.offset));
          // kafkajs keeps each partition's records in the order given, so offsets follow it.
          const seen = new Map<string, number>();
          for (const p of batch) {
            p.resolve(
              p.partitions.map((partition) => {
                const k = `${p.topic}:${partition}`;
                const i = seen.get(k) ?? 0;
                seen.set(k, i + 1);
                const b = base.get(k);
                if (b === undefined) throw new Error(`broker did not report an offset for ${k}`);
                return { topic: p.topic, partition, offset: b + i };
              }),
            );
          }
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      sending = false;
    }
  };

  const publishMany = (topic: string, events: readonly Envelope<string, unknown>[]): Promise<WrittenAt[]> =>
    // A producer span (tracing on) whose W3C context rides in each record's headers, so every
    // view that applies the record continues the trace.
    withSpan(`send ${topic}`, { 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': topic, 'messaging.batch.message_count': events.length }, async (span) => {
      const written = await publishTraced(topic, events, recordTraceHeaders());
      if (span && written.length > 0) span.setAttributes({ 'messaging.destination.partition.id': String(written[0].partition), 'messaging.kafka.offset': written[0].offset });
      return written;
    }, { kind: SpanKind.PRODUCER });

  const publishTraced = async (topic: string, events: readonly Envelope<string, unknown>[], trace: Record<string, string> | undefined): Promise<WrittenAt[]> => {
    if (events.length === 0) return [];
    const n = await partitionsOf(topic);
    // The partition is chosen here, with the same function readers use to find a key,
    // so that each event's offset can be read from its partition's base offset.
    const partitions = events.map((e) => partitionForKey(e.key, n));
    const messages: Message[] = events.map((e, i) => ({
      key: e.key,
      value: encodeEvent(e),
      partition: partitions[i],
      headers: trace ? { [EVENT_TYPE_HEADER]: e.type, ...trace } : { [EVENT_TYPE_HEADER]: e.type },
    }));
    return new Promise<WrittenAt[]>((resolve, reject) => {
      queue.push({ topic, messages, partitions, resolve, reject });
      void pump();
    });
  };

  return {
    publish: async (topic, event) => (await publishMany(topic, [event]))[0],
    publishMany,
    publishRaw: async (topic, messages) => {
      await producer.send({ topic, acks: -1, messages: [...messages] });
    },
    partitionsOf,
    close: async () => {
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}
