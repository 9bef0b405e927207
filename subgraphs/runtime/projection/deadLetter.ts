// The dead-letter step: poison records go to `<topic>.dlq` with their original bytes and the
// headers of deadLetterHeaders.ts. It runs before the checkpoint passes them, so a crash may
// repeat a dead letter (its key names the source offset) but never lose one.
import type { TopicContract } from '../../../schema/events';
import type { Logger } from '../../../platform/logger';
import { deadLetterHeaders, deadLetterKey } from '../deadLetterHeaders';
import type { PartitionStatsRecorder } from '../partitionStats';
import type { EventProducer } from '../producer';
import type { Poison } from './decode';

export type DeadLetterWriter = (partition: number, poison: readonly Poison<TopicContract>[]) => Promise<void>;

export interface DeadLetterWriterOptions {
  readonly producer: EventProducer;
  /** The dead-letter topic. */
  readonly dlq: string;
  /** The source topic. */
  readonly topic: string;
  readonly view: string;
  readonly stats: readonly PartitionStatsRecorder[];
  readonly log: Logger;
}

export function deadLetterWriter(opts: DeadLetterWriterOptions): DeadLetterWriter {
  const { topic, view } = opts;
  return async (partition, poison) => {
    if (poison.length === 0) return;
    const at = new Date();
    await opts.producer.publishRaw(
      opts.dlq,
      poison.map((p) => ({
        key: deadLetterKey({ topic, partition, offset: p.offset }),
        value: p.message.value,
        headers: deadLetterHeaders({ topic, partition, offset: p.offset, key: p.message.key ?? null, view, reason: p.reason, at }),
      })),
    );
    opts.stats[partition].deadLetters += poison.length;
    opts.log.warn({ partition, offsets: poison.map((p) => p.offset), reasons: poison.map((p) => p.reason) }, 'dead-lettered events');
  };
}
