// Rebuilds a view from the start of its topic into a new key generation while the live
// generation keeps serving, then switches readers and writers over in one atomic step.
import type { Cluster, Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { TopicContract } from '../../schema/events';
import { readGeneration, switchGeneration } from './generation';
import { generationPattern } from './keys';
import { createLogger, type Logger } from '../../platform/logger';
import type { PartitionStats } from './partitionStats';
import type { Projection } from './projection';
import { startProjection } from './projectionRunner';
import { deleteMatching } from './deleteMatching';

export { deleteMatching };

export interface RebuildOptions<C extends TopicContract, S> {
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  readonly projection: Projection<C, S>;
  /** @default the projection's declared topic */
  readonly topic?: string;
  /** The live view's consumer group; the rebuild uses `<groupId>.rebuild.<gen>`. @default `view.<name>` */
  readonly groupId?: string;
  /** Switch once every partition's lag is at most this. @default 0 */
  readonly maxLagToSwitch?: number;
  /** Delete the old generation's keys after the switch. @default true */
  readonly dropOld?: boolean;
  /**
   * Time to let live writers notice the switch before the old keys go, so none is left behind.
   * @default 5000
   */
  readonly dropGraceMs?: number;
  /** Called about twice a second while catching up. */
  readonly onProgress?: (progress: { applied: number; lag: number; partitions: PartitionStats[] }) => void;
  /** Give up (keeping the old generation live) after this long. @default 30 minutes */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface RebuildResult {
  readonly view: string;
  readonly from: string;
  readonly to: string;
  readonly applied: number;
  readonly droppedKeys: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function rebuildView<C extends TopicContract, S>(opts: RebuildOptions<C, S>): Promise<RebuildResult> {
  const { redis, projection } = opts;
  const view = projection.name;
  const log = opts.logger ?? createLogger(`rebuild:${view}`);
  const from = await readGeneration(redis, view);
  const to = `g${Date.now().toString(36)}`;
  const groupId = `${opts.groupId ?? `view.${view}`}.rebuild.${to}`;
  const runner = await startProjection({
    kafka: opts.kafka,
    redis,
    projection,
    topic: opts.topic ?? projection.topic.name,
    groupId,
    generation: to,
    logger: log,
    lagRefreshMs: 500,
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  let applied = 0;
  try {
    for (;;) {
      const partitions = await runner.refreshLag();
      const lag = partitions.reduce((a, p) => a + (p.lag ?? Number.MAX_SAFE_INTEGER), 0);
      applied = partitions.reduce((a, p) => a + p.appliedTotal, 0);
      opts.onProgress?.({ applied, lag, partitions });
      if (partitions.every((p) => p.lag !== null && p.lag <= (opts.maxLagToSwitch ?? 0))) break;
      if (Date.now() > deadline) throw new Error(`rebuild of ${view} did not catch up in time; ${from} stays live`);
      // A rebuild whose view failed or stopped will never catch up: say so now, not at the deadline.
      const status = runner.status();
      if (status.state === 'failed' || status.state === 'stopped')
        throw new Error(`rebuild of ${view} ${status.state}: ${status.reason ?? 'the view stopped'}; ${from} stays live`);
      await sleep(500);
    }
    await switchGeneration(redis, view, to);
    log.info({ view, from, to, applied }, 'switched to the rebuilt generation');
  } finally {
    await runner.stop();
    const admin = opts.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  let droppedKeys = 0;
  if (opts.dropOld ?? true) {
    await sleep(opts.dropGraceMs ?? 5000);
    droppedKeys = await deleteMatching(redis, generationPattern(view, from));
  }
  return { view, from, to, applied, droppedKeys };
}
