// Reads the dead-letter topics of every announced product as they grow, into a DeadLetterWindow.
// One consumer of its own (a group per mesh instance, never committing), which starts a day back
// (by record time) so a dead-letter topic's 30 days are not read at every start; when the set of
// topics changes (a product announced), it starts over with the new set, since a kafkajs
// consumer cannot add topics while it runs.
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../platform/logger';
import { parseDeadLetter } from '../runtime/deadLetters';
import { DAY_MS, type DeadLetterWindow } from './deadLetterWindow';

export interface DeadLetterReader {
  /** Reads exactly these topics from now on (those that exist); resolves once the consumer runs. */
  follow(topics: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export function createDeadLetterReader(opts: { kafka: Kafka; admin: Admin; namespace: string; window: DeadLetterWindow; logger: Logger }): DeadLetterReader {
  let consumer: Consumer | null = null;
  let groupId: string | null = null;
  let current = '';
  const stop = async () => {
    const c = consumer;
    const g = groupId;
    consumer = null;
    groupId = null;
    if (c) await c.disconnect().catch(() => undefined);
    if (g) await opts.admin.deleteGroups([g]).catch(() => undefined);
  };
  return {
    async follow(topics) {
      const sorted = [...new Set(topics)].sort();
      const key = sorted.join('\n');
      if (key === current) return;
      await stop();
      current = key;
      opts.window.clear();
      if (sorted.length === 0) return;
      try {
        groupId = `${opts.namespace}mesh.dead-letters.${randomUUID().slice(0, 8)}`;
        const c = opts.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
        consumer = c;
        // Where each partition's last day begins (the log end when nothing is that recent).
        const since = Date.now() - DAY_MS;
        const starts = await Promise.all(sorted.map(async (topic) => ({ topic, offsets: await opts.admin.fetchTopicOffsetsByTimestamp(topic, since) })));
        await c.connect();
        await c.subscribe({ topics: sorted, fromBeginning: true });
        c.on(c.events.GROUP_JOIN, () => {
          for (const { topic, offsets } of starts) for (const o of offsets) c.seek({ topic, partition: o.partition, offset: o.offset });
        });
        await c.run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            opts.window.add(
              topic,
              parseDeadLetter({
                topic,
                partition,
                offset: Number(message.offset),
                timestamp: Number(message.timestamp),
                key: message.key ?? null,
                value: message.value,
                headers: message.headers ?? {},
              }),
            );
          },
        });
      } catch (e) {
        // Not following: the next measurement tries the same set again.
        current = '';
        await stop();
        throw e;
      }
      opts.logger.debug({ topics: sorted.length }, 'reading dead-letter topics');
    },
    async close() {
      current = '';
      await stop();
    },
  };
}
