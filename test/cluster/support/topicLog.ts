// Reads a whole topic from a cluster, to fold it independently of the runtime (the truth a
// view is held to).
import type { OrdersEvent } from '../../../schema/events';
import { createKafka } from '../../../platform/kafkaConfig';
import type { EventPosition } from '../../../subgraphs/runtime/projection';

export async function readTopic(brokers: readonly string[], topic: string, timeoutMs = 60_000): Promise<Array<{ event: OrdersEvent; at: EventPosition }>> {
  const kafka = createKafka({ brokers: [...brokers], clientId: 'cluster-truth' });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const log: Array<{ event: OrdersEvent; at: EventPosition }> = [];
  if ([...want.values()].every((h) => h === 0)) return log;
  const consumer = kafka.consumer({ groupId: `cluster-truth-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map<number, number>();
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const event = JSON.parse(message.value!.toString()) as OrdersEvent;
        log.push({ event, at: { partition, offset: Number(message.offset), occurredAt: event.occurredAt } });
        seen.set(partition, Number(message.offset) + 1);
        if ([...want].every(([p, h]) => (seen.get(p) ?? 0) >= h)) resolve();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([done, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`could not read the whole ${topic} within ${timeoutMs / 1000} s`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return log;
}
