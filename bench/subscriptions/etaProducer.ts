// The load of the subscription benchmark: OrderEtaUpdated events produced straight to the
// namespace's orders topic at a steady rate, round-robin over the run's orders. Each event
// carries an estimate later than every earlier one, so each moves its order's version up by
// exactly one; the produce time of every event is kept per order, in order, which maps
// (order, version) to the moment its event was handed to Kafka.
import { createEvent, ORDERS_TOPIC } from '../../schema/events';
import type { EventProducer } from '../../subgraphs/runtime/producer';

export interface EtaTarget {
  readonly orderId: string;
  readonly customerId: string;
  readonly storeId: string;
}

export interface EtaProductionResult {
  /** Per target: produce times (epoch ms, sub-ms) of its events, in production order. */
  readonly producedAt: number[][];
  /** Events handed to the producer. */
  readonly sent: number;
  /** Events whose send failed (their orders' version mapping is off from there). */
  readonly failed: number;
  /** Events acknowledged whose produce time falls in [from, to). */
  ackedBetween(from: number, to: number): number;
}

export interface EtaProduction {
  /** Stops producing and waits for every send to be acknowledged or fail. */
  stop(): Promise<EtaProductionResult>;
}

/** How often the loop wakes to send what has come due. */
const TICK_MS = 5;
const now = () => performance.timeOrigin + performance.now();

export function startEtaProduction(opts: {
  producer: EventProducer;
  namespace: string;
  targets: readonly EtaTarget[];
  /** Events per second over all targets. */
  rate: number;
}): EtaProduction {
  const topic = `${opts.namespace}${ORDERS_TOPIC.name}`;
  const producedAt: number[][] = opts.targets.map(() => []);
  const batches: Array<{ at: number; n: number; acked: boolean }> = [];
  const sends: Promise<unknown>[] = [];
  // Estimates in the near future, one millisecond apart per event: strictly increasing for
  // every order, whatever the interleaving.
  const etaBase = Date.now() + 30 * 60_000;
  let sent = 0;
  let failed = 0;
  let stopped = false;
  const started = performance.now();

  const dispatch = (n: number) => {
    const at = now();
    const events = [];
    for (let k = 0; k < n; k++) {
      const i = sent++;
      const slot = i % opts.targets.length;
      const t = opts.targets[slot]!;
      events.push(
        createEvent(ORDERS_TOPIC, 'OrderEtaUpdated', {
          orderId: t.orderId,
          customerId: t.customerId,
          storeId: t.storeId,
          estimatedDeliveryAt: new Date(etaBase + i).toISOString(),
          by: 'bench-courier',
        }),
      );
      producedAt[slot]!.push(at);
    }
    const batch = { at, n, acked: false };
    batches.push(batch);
    // Not awaited: the producer queues concurrent sends and carries them in its next request,
    // so a slow acknowledgement delays this batch without holding back the schedule.
    sends.push(
      opts.producer.publishMany(topic, events).then(
        () => void (batch.acked = true),
        () => void (failed += n),
      ),
    );
  };

  const loop = (async () => {
    while (!stopped) {
      // Due by the clock since the start, so a late wake-up catches up instead of drifting.
      const due = Math.floor(((performance.now() - started) * opts.rate) / 1000);
      if (due > sent) dispatch(due - sent);
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.allSettled(sends);
      return {
        producedAt,
        sent,
        failed,
        ackedBetween: (from, to) => batches.reduce((sum, b) => (b.acked && b.at >= from && b.at < to ? sum + b.n : sum), 0),
      };
    },
  };
}
