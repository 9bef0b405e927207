// What a subgraph process holds: Kafka and Redis clients, the producer, its views (runner,
// reader, change notices), metrics and readiness. Subgraphs wire their schema on top.
import type { FetchSettings } from '../../platform/kafkaConfig';
import DataLoader from 'dataloader';
import type { Cluster, Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { EventOf, TopicContract, TopicSpec } from '../../schema/events';
import { WaitTimeoutError } from './appliedWatch';
import { acceptedNotApplied } from './errors';
import { createKafka, kafkaConfigFromEnv } from '../../platform/kafkaConfig';
import { createLogger, type Logger } from '../../platform/logger';
import { createNoticeHub, type NoticeHub } from './noticeHub';
import { createEventProducer, type EventProducer, type WrittenAt } from './producer';
import type { Projection } from './projection';
import { registerProjectionMetrics } from './projectionMetrics';
import { noteAppliedInRequest, noteWritten } from './requestScope';
import { startProjection, type ProjectionHandle, type RetryPolicy } from './projectionRunner';
import { failedViews } from './projection/viewHealth';
import { redisFromEnv } from '../../platform/redisConfig';
import type { Readiness } from './subgraphServer';
import { createViewReader, type ViewReader } from './viewReader';

export interface SubgraphRuntimeConfig {
  /** The subgraph's name: logs, metrics, consumer groups. */
  readonly name: string;
  /**
   * Prefix for topic and view names, so tests can run isolated copies side by side.
   * Production leaves it empty. @default ''
   */
  readonly namespace?: string;
  readonly kafka?: Kafka;
  readonly redis?: Redis | Cluster;
  /** /ready fails while any view partition lags more records than this. @default 1000 */
  readonly readyMaxLag?: number;
  /** How long a mutation waits for its own view to apply its event. @default 5000 */
  readonly writeTimeoutMs?: number;
  /** Consumer session timeout (see ProjectionRunnerOptions). @default 30000 */
  readonly sessionTimeoutMs?: number;
  /** How the views' consumers fetch (see FetchSettings). @default DEFAULT_FETCH */
  readonly fetch?: FetchSettings;
  /** Backoff and bound of the views' retries (see ProjectionRunnerOptions.retry). */
  readonly projectionRetry?: Partial<RetryPolicy>;
  readonly logger?: Logger;
}

/** A running view: its projection, a reader of its live generation and its change notices. */
export interface View<S> {
  readonly name: string;
  readonly handle: ProjectionHandle;
  readonly reader: ViewReader<S>;
  readonly notices: NoticeHub<S>;
  /** A per-request DataLoader: every id asked for in one tick is read in one Redis round trip. */
  loader(): DataLoader<string, S | undefined>;
}

export interface SubgraphRuntime {
  readonly name: string;
  readonly kafka: Kafka;
  readonly redis: Redis | Cluster;
  readonly producer: EventProducer;
  readonly registry: Registry;
  readonly logger: Logger;
  /** The Kafka topic name of a topic, in this runtime's namespace. */
  topic(contract: TopicSpec): string;
  /** Starts a projection and its reader and notice hub. */
  view<C extends TopicContract, S>(projection: Projection<C, S>): Promise<View<S>>;
  /**
   * Writes an event and waits until `view` has applied it (read-your-writes). On timeout the
   * error says the write was accepted and where it is.
   */
  emit<C extends TopicContract>(topic: C, event: EventOf<C>, view: View<unknown>): Promise<WrittenAt>;
  /** The views started so far. */
  views(): readonly View<unknown>[];
  /**
   * Waits, at most `timeoutMs`, until every view that consumes one of the positions' topics
   * has applied it (consistency tokens). Resolves false if the wait ran out.
   */
  awaitPositions(positions: readonly WrittenAt[], timeoutMs: number): Promise<boolean>;
  /** Lag and last applied event time of each view, for responses' `extensions.freshness`. */
  freshness(): Array<{ view: string; lag: number | null; lastEventAt: string | null }>;
  /** The namespace topics and views live in ('' in production). */
  readonly namespace: string;
  readiness(): Readiness;
  close(): Promise<void>;
}

export async function createSubgraphRuntime(config: SubgraphRuntimeConfig): Promise<SubgraphRuntime> {
  const ns = config.namespace ?? '';
  const logger = config.logger ?? createLogger(config.name);
  const kafka = config.kafka ?? createKafka(kafkaConfigFromEnv());
  const ownRedis = !config.redis;
  const redis = config.redis ?? redisFromEnv();
  const producer = await createEventProducer(kafka);
  const registry = new Registry();
  registry.setDefaultLabels({ subgraph: config.name });
  collectDefaultMetrics({ register: registry });
  const views: View<unknown>[] = [];
  registerProjectionMetrics(registry, () => views.map((v) => v.handle));
  const maxLag = config.readyMaxLag ?? 1000;
  const writeTimeout = config.writeTimeoutMs ?? 5000;
  const topic = (contract: TopicSpec) => `${ns}${contract.name}`;

  return {
    name: config.name,
    kafka,
    redis,
    producer,
    registry,
    logger,
    topic,
    async view<C extends TopicContract, S>(base: Projection<C, S>): Promise<View<S>> {
      const projection: Projection<C, S> = { ...base, name: `${ns}${base.name}` };
      const topicName = topic(base.topic);
      const handle = await startProjection({
        kafka,
        redis,
        projection,
        topic: topicName,
        groupId: `${ns}${config.name}.${base.name}`,
        sessionTimeoutMs: config.sessionTimeoutMs,
        fetch: config.fetch,
        retry: config.projectionRetry,
        logger: logger.child({ view: projection.name }),
      });
      const partitions = await producer.partitionsOf(topicName);
      const reader = await createViewReader({
        redis,
        projection,
        topic: topicName,
        partitions,
        awaitApplied: async (partition, offset, seen) => {
          // Only a view that went back makes this: Redis lost writes it had acknowledged.
          logger.warn({ view: projection.name, partition, offset, checkpoint: seen }, 'the view is behind a write it had applied for this request (Redis lost applied writes); waiting for the re-fold');
          try {
            await handle.waitFor(partition, offset, writeTimeout, seen);
          } catch (e) {
            if (e instanceof WaitTimeoutError) throw acceptedNotApplied({ topic: topicName, partition, offset }, writeTimeout);
            throw e;
          }
        },
      });
      const notices = await createNoticeHub<S>(redis, projection.name);
      const view: View<S> = {
        name: projection.name,
        handle,
        reader,
        notices,
        loader: () => new DataLoader<string, S | undefined>((ids) => reader.getMany(ids), { maxBatchSize: 1000 }),
      };
      views.push(view as View<unknown>);
      return view;
    },
    async emit(contract, event, view) {
      const at = await producer.publish(topic(contract), event);
      // Recorded before waiting: even an ACCEPTED_NOT_APPLIED answer reports where it wrote.
      noteWritten(at);
      try {
        await view.handle.waitFor(at.partition, at.offset, writeTimeout);
      } catch (e) {
        if (e instanceof WaitTimeoutError) throw acceptedNotApplied(at, writeTimeout);
        throw e;
      }
      // The answer is read after this: it must come from a state that holds the write, even if
      // the Redis node that applied it failed over to a replica that never received it.
      noteAppliedInRequest(view.name, at.partition, at.offset);
      return at;
    },
    views: () => views,
    namespace: ns,
    async awaitPositions(positions, timeoutMs) {
      const waits = positions.flatMap((p) =>
        views.filter((v) => v.handle.topic === p.topic).map((v) => v.handle.waitFor(p.partition, p.offset, timeoutMs)),
      );
      const results = await Promise.allSettled(waits);
      return results.every((r) => r.status === 'fulfilled');
    },
    freshness: () =>
      views.map((v) => {
        const stats = v.handle.stats();
        const lags = stats.map((s) => s.lag);
        return {
          view: v.name,
          lag: lags.some((l) => l === null) ? null : lags.reduce<number>((a, l) => a + (l ?? 0), 0),
          lastEventAt: stats.reduce<string | null>((a, s) => (s.lastEventAt && (!a || s.lastEventAt > a) ? s.lastEventAt : a), null),
        };
      }),
    readiness() {
      const lagging = views.flatMap((v) =>
        v.handle
          .stats()
          .filter((s) => s.lag === null || s.lag > maxLag)
          .map((s) => ({ view: v.name, partition: s.partition, lag: s.lag })),
      );
      const failed = failedViews(views);
      return {
        ready: lagging.length === 0 && failed.length === 0,
        detail: {
          maxLag,
          views: views.map((v) => ({
            view: v.name,
            state: v.handle.status().state,
            lag: v.handle.stats().reduce((a, s) => a + (s.lag ?? 0), 0),
            lastEventAt: v.handle.stats().reduce<string | null>((a, s) => (s.lastEventAt && (!a || s.lastEventAt > a) ? s.lastEventAt : a), null),
          })),
          ...(lagging.length ? { lagging } : {}),
          ...(failed.length ? { failed } : {}),
        },
      };
    },
    async close() {
      for (const v of views.splice(0)) {
        await v.handle.stop();
        await v.reader.close();
        await v.notices.close();
      }
      await producer.close();
      if (ownRedis) redis.disconnect();
    },
  };
}
