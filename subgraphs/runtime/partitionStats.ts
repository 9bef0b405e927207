// Per-partition health of a projection: checkpoint, lag, freshness, throughput and dead
// letters, kept in memory by the runner and read by metrics and readiness checks.

export interface PartitionStats {
  readonly topic: string;
  readonly partition: number;
  /** Last applied offset, null before the first event. */
  readonly checkpoint: number | null;
  /** The partition's log end offset when last measured. */
  readonly highWatermark: number | null;
  /** Records written to the partition but not applied yet. */
  readonly lag: number | null;
  /** occurredAt of the last applied event: how fresh the view is. */
  readonly lastEventAt: string | null;
  /** When the last write to the view happened (ms since epoch). */
  readonly lastAppliedAt: number | null;
  readonly appliedPerSecond: number;
  readonly appliedTotal: number;
  readonly deadLetters: number;
  /** Re-sent events skipped because the view already held them (Projection.alreadyApplied). */
  readonly resent: number;
}

const WINDOW_S = 10;

/** A mutable per-partition record, with a per-second ring for the applied rate. */
export class PartitionStatsRecorder {
  checkpoint: number | null = null;
  highWatermark: number | null = null;
  lowWatermark: number | null = null;
  lastEventAt: string | null = null;
  lastAppliedAt: number | null = null;
  appliedTotal = 0;
  deadLetters = 0;
  resent = 0;
  private readonly ring = new Array<number>(WINDOW_S).fill(0);
  private ringSecond = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  recordApplied(count: number, checkpoint: number, lastEventAt: string | null, now = Date.now()): void {
    this.advance(now);
    this.ring[this.ringSecond % WINDOW_S] += count;
    this.appliedTotal += count;
    this.checkpoint = checkpoint;
    if (lastEventAt) this.lastEventAt = lastEventAt;
    this.lastAppliedAt = now;
    if (this.highWatermark !== null && checkpoint + 1 > this.highWatermark) this.highWatermark = checkpoint + 1;
  }

  private advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (this.ringSecond === 0 || second - this.ringSecond >= WINDOW_S) {
      this.ring.fill(0);
      this.ringSecond = second;
    }
    while (this.ringSecond < second) {
      this.ringSecond++;
      this.ring[this.ringSecond % WINDOW_S] = 0;
    }
  }

  snapshot(now = Date.now()): PartitionStats {
    this.advance(now);
    const total = this.ring.reduce((a, b) => a + b, 0) - this.ring[this.ringSecond % WINDOW_S];
    const next = this.checkpoint === null ? this.lowWatermark : this.checkpoint + 1;
    const lag = this.highWatermark === null || next === null ? null : Math.max(0, this.highWatermark - next);
    return {
      topic: this.topic,
      partition: this.partition,
      checkpoint: this.checkpoint,
      highWatermark: this.highWatermark,
      lag,
      lastEventAt: this.lastEventAt,
      lastAppliedAt: this.lastAppliedAt,
      appliedPerSecond: total / (WINDOW_S - 1),
      appliedTotal: this.appliedTotal,
      deadLetters: this.deadLetters,
      resent: this.resent,
    };
  }
}
