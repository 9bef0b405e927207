// The restart policy of `npm start`'s supervisor, as a pure function: given a process's exits so far, restart it after how long, or give up.
//
// The numbers (DEFAULT_RESTART_POLICY) and why:
// - backoff 0.5 s, 1 s, 2 s, 4 s, 8 s (doubling, capped at 8 s): the first restart is quick
//   enough that a one-off crash costs about a second, and the doubling gives a dependency
//   that is briefly away (Kafka, Redis, a port still in TIME_WAIT) time to come back;
// - give up at the 6th exit when the 5 restarts before it all came within 120 s: a crash
//   loop (a typo in a setting, a port held by someone else) stops flooding the console
//   after about 20 s. The window is 120 s rather than 60 s because the backoff alone takes
//   15.5 s, so a 60 s window would miss processes that die ~9 s after starting (e.g. after a
//   connection timeout); with 120 s those that die within ~20 s are still caught;
// - a run that lasted 30 s resets the count: that process was serving, so its next crash is
//   a new incident (attempt 1, 0.5 s backoff) rather than the tail of an old one.
// A process that crashes every 25 s therefore keeps being restarted (it serves most of the
// time); one that crashes within seconds of every start is given up on.

export interface RestartPolicy {
  /** Backoff before the first restart of a streak. */
  readonly initialDelayMs: number;
  /** Backoff never grows beyond this. */
  readonly maxDelayMs: number;
  /** Restarts allowed within `windowMs`; the exit after them gives up. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** A run at least this long resets the count: its exit starts a new streak. */
  readonly stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRestarts: 5,
  windowMs: 120_000,
  stableAfterMs: 30_000,
};

/** One exit of the process: when (ms, any monotonic clock) and how long that run had lasted. */
export interface ExitRecord {
  readonly at: number;
  readonly uptimeMs: number;
}

export type RestartDecision =
  | {
      readonly action: 'restart';
      readonly delayMs: number;
      /** 1-based: which restart of the current streak this is. */
      readonly attempt: number;
      readonly maxAttempts: number;
    }
  | {
      readonly action: 'give-up';
      /** Exits counted against the limit (maxRestarts + 1) and the time they span. */
      readonly exits: number;
      readonly spanMs: number;
    };

/**
 * Decides what to do after the last exit in `exits` (oldest first, the one just seen last).
 * Only the current streak counts: exits after the last run that lasted `stableAfterMs`
 * (that long run's own exit included, as the streak's first) and within `windowMs` of the
 * latest exit.
 */
export function decideRestart(exits: readonly ExitRecord[], policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartDecision {
  if (exits.length === 0) throw new Error('decideRestart needs at least the exit that just happened');
  const latest = exits[exits.length - 1]!;
  let counted = 0;
  let earliest = latest.at;
  for (let i = exits.length - 1; i >= 0; i--) {
    const exit = exits[i]!;
    if (latest.at - exit.at > policy.windowMs) break;
    counted++;
    earliest = exit.at;
    if (exit.uptimeMs >= policy.stableAfterMs) break;
  }
  if (counted > policy.maxRestarts) return { action: 'give-up', exits: counted, spanMs: latest.at - earliest };
  return { action: 'restart', delayMs: backoffMs(counted, policy), attempt: counted, maxAttempts: policy.maxRestarts };
}

/** initialDelayMs doubled per earlier attempt of the streak, capped at maxDelayMs. */
export function backoffMs(attempt: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  // The exponent is bounded so a large attempt number cannot overflow to Infinity before the cap.
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}
