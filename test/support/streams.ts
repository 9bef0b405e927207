// A per-test streams environment: real Kafka and Redis clients, unique topics, and a
// deterministic stream of order events with where each one landed.
import Redis from 'ioredis';
import type { Kafka } from 'kafkajs';
import { createEvent, dlqSpec, ORDERS_TOPIC, type OrdersEvent, type TopicSpec } from '../../schema/events';
import { ensureTopics } from '../../infra/topics';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import type { EventPosition } from '../../subgraphs/runtime/projection';
import { createEventProducer, type EventProducer } from '../../subgraphs/runtime/producer';
import { seededRandom } from '../../scripts/simulator/simulation';
import { uniqueName } from './waitFor';

export interface StreamsEnv {
  readonly kafka: Kafka;
  readonly redis: Redis;
  readonly producer: EventProducer;
  /** Creates a unique topic (and its dead-letter topic) with `partitions` partitions. */
  topic(label: string, partitions: number): Promise<string>;
  close(): Promise<void>;
}

export async function createStreamsEnv(brokers?: string[]): Promise<StreamsEnv> {
  const config = kafkaConfigFromEnv();
  const kafka = createKafka(brokers ? { ...config, brokers } : config);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
  const producer = await createEventProducer(kafka);
  const admin = kafka.admin();
  await admin.connect();
  return {
    kafka,
    redis,
    producer,
    async topic(label, partitions) {
      const spec: TopicSpec = { name: uniqueName(label), partitions, cleanupPolicy: 'delete', retentionMs: -1, keyedBy: 'orderId' };
      await ensureTopics(admin, [spec, dlqSpec(spec)], { warn: () => undefined });
      return spec.name;
    },
    async close() {
      await producer.close();
      await admin.disconnect();
      redis.disconnect();
    },
  };
}


const LIFECYCLE = ['PLACED', 'SHOPPER_ASSIGNED', 'PICKING', 'OUT_FOR_DELIVERY', 'DELIVERED'] as const;

/**
 * `count` order events over `orders` orders for `customers` customers: each order is placed,
 * then advances through its lifecycle or is canceled; orders interleave, each in its own order.
 */
export function orderEvents(opts: { seed: number; count: number; orders: number; customers: number }): OrdersEvent[] {
  const rnd = seededRandom(opts.seed);
  const state = Array.from({ length: opts.orders }, (_, i) => ({
    id: `o-${opts.seed}-${i}`,
    customerId: `c-${Math.floor(rnd() * opts.customers)}`,
    storeId: `s-${i % 7}`,
    totalCents: 100 + Math.floor(rnd() * 10_000),
    step: -1,
    done: false,
  }));
  const events: OrdersEvent[] = [];
  const base = Date.parse('2026-01-01T00:00:00Z');
  const open = [...state];
  while (events.length < opts.count && open.length > 0) {
    const pick = Math.floor(rnd() * open.length);
    const o = open[pick];
    const occurredAt = new Date(base + events.length * 1000).toISOString();
    if (o.step === -1) {
      events.push(
        createEvent(ORDERS_TOPIC, 'OrderPlaced', {
          orderId: o.id,
          customerId: o.customerId,
          storeId: o.storeId,
          items: [{ productId: `p-${events.length % 50}`, quantity: 1 + (events.length % 3), unitPriceCents: o.totalCents }],
          totalCents: o.totalCents,
        }, { occurredAt }),
      );
      o.step = 0;
    } else {
      const from = LIFECYCLE[o.step];
      const cancel = o.step < 3 && rnd() < 0.1;
      const to = cancel ? 'CANCELED' : LIFECYCLE[o.step + 1];
      events.push(
        createEvent(ORDERS_TOPIC, 'OrderStatusChanged', {
          orderId: o.id,
          customerId: o.customerId,
          storeId: o.storeId,
          totalCents: o.totalCents,
          from,
          to,
        }, { occurredAt }),
      );
      o.step++;
      if (cancel || to === 'DELIVERED') o.done = true;
    }
    if (o.done) {
      // Swap-remove keeps generation linear in the number of events.
      open[pick] = open[open.length - 1];
      open.pop();
    }
  }
  return events;
}

/** Produces `events` in batches and returns each with where it landed, in log order. */
export async function produceAll(
  producer: EventProducer,
  topic: string,
  events: readonly OrdersEvent[],
  batch = 500,
): Promise<Array<{ event: OrdersEvent; at: EventPosition }>> {
  const out: Array<{ event: OrdersEvent; at: EventPosition }> = [];
  for (let i = 0; i < events.length; i += batch) {
    const slice = events.slice(i, i + batch);
    const written = await producer.publishMany(topic, slice);
    slice.forEach((event, j) =>
      out.push({ event, at: { partition: written[j].partition, offset: written[j].offset, occurredAt: event.occurredAt } }),
    );
  }
  return out;
}
