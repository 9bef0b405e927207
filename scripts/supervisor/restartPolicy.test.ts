// Unit test of the supervisor's restart policy: backoff per attempt, giving up on a crash loop, and what resets the count.
import { backoffMs, decideRestart, DEFAULT_RESTART_POLICY, type ExitRecord, type RestartPolicy } from './restartPolicy';

const policy: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 8_000, maxRestarts: 5, windowMs: 120_000, stableAfterMs: 30_000 };

/** Exits of runs that each lasted `uptimeMs`, separated by `gapMs` (the backoff, say). */
function exitsEvery(count: number, uptimeMs: number, gapMs = 0, start = 1_000_000): ExitRecord[] {
  const exits: ExitRecord[] = [];
  let t = start;
  for (let i = 0; i < count; i++) {
    t += uptimeMs;
    exits.push({ at: t, uptimeMs });
    t += gapMs;
  }
  return exits;
}

describe('decideRestart', () => {
  it('restarts a first crash after the initial delay, as attempt 1 of maxRestarts', () => {
    expect(decideRestart([{ at: 10_000, uptimeMs: 2_000 }], policy)).toEqual({ action: 'restart', delayMs: 500, attempt: 1, maxAttempts: 5 });
  });

  it('doubles the backoff per attempt of a streak: 0.5 s, 1 s, 2 s, 4 s, 8 s', () => {
    const delays = [1, 2, 3, 4, 5].map((n) => {
      const d = decideRestart(exitsEvery(n, 100, 500), policy);
      if (d.action !== 'restart') throw new Error(`gave up at ${n}`);
      expect(d.attempt).toBe(n);
      return d.delayMs;
    });
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
  });

  it('gives up at the exit after maxRestarts restarts within the window', () => {
    expect(decideRestart(exitsEvery(6, 100, 500), policy)).toEqual({ action: 'give-up', exits: 6, spanMs: 5 * 600 });
  });

  it('resets the count after a run that lasted stableAfterMs', () => {
    const crashes = exitsEvery(5, 100, 500);
    const last = crashes[crashes.length - 1]!;
    // A long healthy run, then it crashes: a new incident, attempt 1.
    const afterLongRun = [...crashes, { at: last.at + 40_000, uptimeMs: 39_000 }];
    expect(decideRestart(afterLongRun, policy)).toMatchObject({ action: 'restart', attempt: 1, delayMs: 500 });
    // And the crash after that continues the new streak, not the old one.
    expect(decideRestart([...afterLongRun, { at: last.at + 41_000, uptimeMs: 100 }], policy)).toMatchObject({ action: 'restart', attempt: 2 });
  });

  it('forgets exits older than the window', () => {
    // Runs of 25 s (under stableAfterMs) with 8 s gaps: at most four exits fit in 120 s.
    const slowFlapper = exitsEvery(20, 25_000, 8_000);
    const d = decideRestart(slowFlapper, policy);
    expect(d).toMatchObject({ action: 'restart', attempt: 4 });
  });

  it('gives up on a process that dies a few seconds after every start', () => {
    // 8 s runs with the growing backoff between them: six exits within ~56 s.
    const exits: ExitRecord[] = [];
    let t = 0;
    for (let n = 1; n <= 6; n++) {
      t += 8_000;
      exits.push({ at: t, uptimeMs: 8_000 });
      t += backoffMs(n, policy);
    }
    expect(decideRestart(exits, policy)).toMatchObject({ action: 'give-up', exits: 6 });
  });

  it('needs the exit that just happened', () => {
    expect(() => decideRestart([], policy)).toThrow(/at least/);
  });

  it('defaults to the documented numbers', () => {
    expect(DEFAULT_RESTART_POLICY).toEqual(policy);
  });
});

describe('backoffMs', () => {
  it('is capped and never overflows', () => {
    expect(backoffMs(6, policy)).toBe(8_000);
    expect(backoffMs(10_000, policy)).toBe(8_000);
    expect(backoffMs(0, policy)).toBe(500);
  });
});
