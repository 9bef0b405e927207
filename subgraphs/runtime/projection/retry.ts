// Runs a step of a view again after retriable failures, with the backoff and the bound of the
// view's health (viewHealth.ts): resolves with the step's result, or with `undefined` once the
// view is over (failed, stopped) or the caller no longer wants the result.
import type { Logger } from '../../../platform/logger';
import type { ViewHealth } from './viewHealth';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RetryContext {
  readonly health: ViewHealth;
  readonly log: Logger;
  /** Whether the result is still wanted (e.g. the partition is still assigned). @default always */
  readonly wanted?: () => boolean;
  /** How to wait between attempts. @default setTimeout */
  readonly wait?: (ms: number) => Promise<void>;
}

export async function withRetries<T>(ctx: RetryContext, step: string, attempt: () => Promise<T>): Promise<T | undefined> {
  const { health, log } = ctx;
  const wait = ctx.wait ?? sleep;
  for (;;) {
    if (health.isOver() || (ctx.wanted && !ctx.wanted())) return undefined;
    try {
      const value = await attempt();
      health.succeeded(step);
      return value;
    } catch (e) {
      const decision = health.failure(step, e);
      // A failed view says so once, through its onFailed listener.
      if (!decision.retry) return undefined;
      log.warn({ step, failures: decision.failures, delayMs: decision.delayMs, err: (e as Error).message }, `${step} failed; retrying`);
      await wait(decision.delayMs);
    }
  }
}
