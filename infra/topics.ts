// Creates the declared Kafka topics that are missing, for infra up, the test setup and npm start.

import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs';
import type { TopicSpec } from '../schema/events/contract';

export interface EnsureTopicsOptions {
  /** 1 suits the local single-node broker; a real cluster wants its own (-1 = broker default). */
  replicationFactor?: number;
  /** How long to wait for every partition of every declared topic to have a leader. */
  timeoutMs?: number;
  /** Where mismatch warnings go; stderr by default. */
  warn?: (line: string) => void;
}

/**
 * Creates the topics of `specs` that do not exist and waits until all of them have leaders.
 * Existing topics are never altered: a partition count that differs from the declaration
 * is reported, because changing it would move keys to other partitions under the readers.
 */
export async function ensureTopics(
  target: Admin | string[],
  specs: readonly TopicSpec[],
  opts: EnsureTopicsOptions = {},
): Promise<{ created: string[] }> {
  const ownAdmin = Array.isArray(target)
    ? new Kafka({ brokers: target, clientId: 'streamgraph-topics', logLevel: logLevel.NOTHING }).admin()
    : undefined;
  const admin = ownAdmin ?? (target as Admin);
  if (ownAdmin) await ownAdmin.connect();
  try {
    return await ensureWith(admin, specs, opts);
  } finally {
    if (ownAdmin) await ownAdmin.disconnect();
  }
}

async function ensureWith(admin: Admin, specs: readonly TopicSpec[], opts: EnsureTopicsOptions): Promise<{ created: string[] }> {
  const warn = opts.warn ?? ((line: string) => console.warn(line));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const existing = new Set(await admin.listTopics());
  const present = specs.filter((s) => existing.has(s.name));
  const missing = specs.filter((s) => !existing.has(s.name));

  if (present.length > 0) {
    const { topics } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    for (const spec of present) {
      const actual = topics.find((t) => t.name === spec.name)?.partitions.length;
      if (actual !== undefined && actual !== spec.partitions) {
        warn(
          `warning: topic ${spec.name} has ${actual} partitions but its contract declares ${spec.partitions}; ` +
            `it was left as is (keys would move between partitions): recreate it or fix the declaration`,
        );
      }
    }
  }

  let created = missing.map((s) => s.name);
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((spec) => ({
      topic: spec.name,
      numPartitions: spec.partitions,
      replicationFactor: opts.replicationFactor ?? 1,
      configEntries: [
        { name: 'cleanup.policy', value: spec.cleanupPolicy },
        { name: 'retention.ms', value: String(spec.retentionMs) },
      ],
    }));
    // Right after a broker starts, creation can fail with a metadata error although the
    // topics were made (or are about to be): look again, and create what is really missing.
    let pending = topics;
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        // false: all of them already existed, created meanwhile by another process.
        const madeAll = await admin.createTopics({ topics: pending, waitForLeaders: true, timeout: timeoutMs });
        if (!madeAll && attempt === 1) created = [];
        break;
      } catch (err) {
        const deadline = Date.now() + 3_000;
        let now = new Set(await admin.listTopics());
        while (pending.some((t) => !now.has(t.topic)) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          now = new Set(await admin.listTopics());
        }
        pending = pending.filter((t) => !now.has(t.topic));
        if (pending.length > 0 && attempt >= 3)
          throw new Error(`Could not create Kafka topics ${pending.map((t) => t.topic).join(', ')}: ${errorText(err)}`);
      }
    }
  }

  await waitForLeaders(admin, specs.map((s) => s.name), timeoutMs);
  return { created };
}

/** createTopics' own wait stops at the first answer; this checks every partition has a leader. */
async function waitForLeaders(admin: Admin, names: string[], timeoutMs: number): Promise<void> {
  if (names.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = '';
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0)).map((t) => t.name);
      if (leaderless.length === 0 && topics.length === names.length) return;
      lastProblem = `no leader yet for ${leaderless.join(', ') || 'some topics'}`;
    } catch (err) {
      lastProblem = errorText(err);
    }
    if (Date.now() > deadline) throw new Error(`Kafka topics were not ready within ${timeoutMs / 1000}s: ${lastProblem}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // kafkajs wraps per-topic failures in an aggregate whose own message says little.
  const inner = (err as Error & { errors?: unknown[] }).errors;
  if (Array.isArray(inner) && inner.length > 0) return inner.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
  return err.message;
}
