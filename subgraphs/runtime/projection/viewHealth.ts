// The state of a running view and the bound on its retries. Every step that can fail (applying
// a partition's chunk, seeking to the checkpoints, keeping the consumer in its group) reports
// here; a retriable failure gets a backoff delay until the same step has been failing for
// `giveUpAfterMs`, and then, like any fatal error at once, the view is failed for good. Pure
// (the clock is passed in), so the bound is tested without waiting for it.
import { classifyError, type ErrorClass } from './errors';

export interface RetryPolicy {
  /** The pause after a step's first failure; it doubles with each further one. */
  readonly initialDelayMs: number;
  /** The longest pause between two attempts. */
  readonly maxDelayMs: number;
  /** A step failing this long without one success fails the view. */
  readonly giveUpAfterMs: number;
}

/** 200 ms, 400 ms, 800 ms, 1.6 s, 3.2 s, then every 5 s; the view fails after 2 minutes of failures. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialDelayMs: 200, maxDelayMs: 5000, giveUpAfterMs: 120_000 };

/** The pause before attempt `failures + 1` of a step that has failed `failures` times in a row. */
export function backoffDelay(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(0, failures - 1), 30));
}

export const VIEW_STATES = ['starting', 'running', 'retrying', 'failed', 'stopped'] as const;
export type ViewState = (typeof VIEW_STATES)[number];

export interface ViewStatus {
  readonly state: ViewState;
  /** Why the view is retrying or failed; null otherwise. */
  readonly reason: string | null;
  /** For a failed view: `retriable` when its retries ran out, `fatal` when it could not go on. */
  readonly errorClass: ErrorClass | null;
  /** When the view entered this state (ISO). */
  readonly since: string;
}

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number; readonly failures: number }
  | { readonly retry: false; readonly status: ViewStatus };

interface Streak {
  readonly since: number;
  failures: number;
}

export class ViewHealth {
  private current: ViewStatus;
  private readonly streaks = new Map<string, Streak>();
  private readonly listeners: Array<(status: ViewStatus) => void> = [];

  constructor(
    readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    private readonly now: () => number = Date.now,
  ) {
    this.current = { state: 'starting', reason: null, errorClass: null, since: new Date(now()).toISOString() };
  }

  status(): ViewStatus {
    return this.current;
  }

  /** Whether the view is failed or stopped: nothing may be applied any more. */
  isOver(): boolean {
    return this.current.state === 'failed' || this.current.state === 'stopped';
  }

  /** Called once when the view fails (at once if it already has). */
  onFailed(listener: (status: ViewStatus) => void): void {
    if (this.current.state === 'failed') listener(this.current);
    else this.listeners.push(listener);
  }

  /** The consumer runs: the view is running unless a step is still failing. */
  started(): void {
    if (!this.isOver() && this.streaks.size === 0) this.set('running', null, null);
  }

  stopped(): void {
    if (!this.isOver()) this.set('stopped', null, null);
  }

  /** `step` worked: its failures are over. */
  succeeded(step: string): void {
    if (!this.streaks.delete(step) || this.isOver()) return;
    if (this.streaks.size === 0) this.set('running', null, null);
  }

  /** Forgets the failures of steps this instance no longer runs (partitions given to another). */
  forget(keep: (step: string) => boolean): void {
    for (const step of [...this.streaks.keys()]) if (!keep(step)) this.succeeded(step);
  }

  /** `step` failed with `error`: wait and retry, or (fatal, or the bound passed) the view has failed. */
  failure(step: string, error: unknown): RetryDecision {
    if (this.isOver()) return { retry: false, status: this.current };
    const c = classifyError(error);
    if (c.class === 'fatal') return { retry: false, status: this.fail('fatal', c.message) };
    const now = this.now();
    const streak = this.streaks.get(step) ?? { since: now, failures: 0 };
    streak.failures++;
    this.streaks.set(step, streak);
    const failingFor = now - streak.since;
    if (failingFor >= this.policy.giveUpAfterMs) {
      const reason = `${step}: ${c.cause} for ${(failingFor / 1000).toFixed(1)} s over ${streak.failures} attempts; last error: ${c.message}`;
      return { retry: false, status: this.fail('retriable', reason) };
    }
    this.set('retrying', `${step}: ${c.cause}: ${c.message}`, null);
    return { retry: true, delayMs: backoffDelay(this.policy, streak.failures), failures: streak.failures };
  }

  private fail(errorClass: ErrorClass, reason: string): ViewStatus {
    this.set('failed', reason, errorClass);
    for (const l of this.listeners.splice(0)) l(this.current);
    return this.current;
  }

  private set(state: ViewState, reason: string | null, errorClass: ErrorClass | null): void {
    // `since` moves only when the state changes, not with each retry's new reason.
    const since = state === this.current.state ? this.current.since : new Date(this.now()).toISOString();
    this.current = { state, reason, errorClass, since };
  }
}

/** A failed view as /ready reports it. */
export interface FailedView {
  readonly view: string;
  readonly errorClass: ErrorClass | null;
  readonly reason: string | null;
  readonly since: string;
}

/** The views that failed (a subgraph with any is not ready), each with why. */
export function failedViews(views: ReadonlyArray<{ readonly name: string; readonly handle: { status(): ViewStatus } }>): FailedView[] {
  return views.flatMap((v) => {
    const s = v.handle.status();
    return s.state === 'failed' ? [{ view: v.name, errorClass: s.errorClass, reason: s.reason, since: s.since }] : [];
  });
}
