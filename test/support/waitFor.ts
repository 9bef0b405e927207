// Waits on a condition with a deadline (never a bare sleep): tests poll state that
// other processes change, and fail with the last thing they saw.
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${opts.what ?? 'a condition'}; last saw: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/**
 * A test-unique name: topics, groups, views and key prefixes never collide between tests.
 * It starts with this run's prefix, so global teardown can delete the run's topics.
 */
export function uniqueName(label: string): string {
  return `${testRunPrefix()}${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** `t-<run id>-`: the run id comes from global setup (STREAMGRAPH_TEST_RUN). */
export function testRunPrefix(): string {
  return `t-${process.env.STREAMGRAPH_TEST_RUN ?? 'local'}-`;
}
