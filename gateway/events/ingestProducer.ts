// The gateway's writer of client events: one idempotent kafkajs producer (acks=all) for the
// process. Requests arriving while a send is in flight queue up and go out together in the next
// send, so the broker sees a few large batches instead of one request per HTTP call, and each
// caller learns whether its own records were written. Records are placed on the partition of
// their key with Kafka's Java partitioner and the contract's partition count, where readers look.
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';

export interface IngestRecords {
  readonly topic: string;
  readonly messages: readonly Message[];
}

export interface IngestProducer {
  /** Resolves once every record of `batches` is acknowledged by all in-sync replicas. */
  send(batches: readonly IngestRecords[]): Promise<void>;
  close(): Promise<void>;
}

export function createIngestProducer(kafka: Kafka): IngestProducer {
  const producer: Producer = kafka.producer({
    idempotent: true,
    // One request in flight keeps each partition's order across retries (kafkajs' idempotence needs it).
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Records carry their partition; the partitioner is only named to keep kafkajs quiet.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // Connected on first use and again after a failure, so a gateway starts (and serves GraphQL)
  // while the broker is away; POST /events answers 503 until it is back.
  let connected: Promise<void> | null = null;
  const connect = () => {
    if (!connected) {
      connected = producer.connect();
      connected.catch(() => (connected = null));
    }
    return connected;
  };
  type Pending = { batches: readonly IngestRecords[]; resolve(): void; reject(e: unknown): void };
  let queue: Pending[] = [];
  let sending = false;
  const pump = async () => {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const taken = queue;
        queue = [];
        const byTopic = new Map<string, Message[]>();
        for (const p of taken)
          for (const b of p.batches) {
            const list = byTopic.get(b.topic);
            if (list) for (const m of b.messages) list.push(m);
            else byTopic.set(b.topic, [...b.messages]);
          }
        try {
          await connect();
          await producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          });
          for (const p of taken) p.resolve();
        } catch (e) {
          for (const p of taken) p.reject(e);
        }
      }
    } finally {
      sending = false;
    }
  };
  return {
    send(batches) {
      if (batches.every((b) => b.messages.length === 0)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ batches, resolve, reject });
        void pump();
      });
    },
    async close() {
      if (connected) await connected.then(() => producer.disconnect()).catch(() => undefined);
    },
  };
}
