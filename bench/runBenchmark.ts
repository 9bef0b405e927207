// How every benchmark script runs: main, then clean-up of the processes and topics it made,
// also on Ctrl-C or a failure, with one line saying what went wrong.
export function runBenchmark(name: string, main: () => Promise<void>, cleanUp: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      console.error(`${signal}: stopping the benchmark's processes`);
      void cleanUp().finally(() => process.exit(130));
    });

  main()
    .then(cleanUp)
    // Keep-alive sockets of fetch's global pool would hold the process open for a while.
    .then(() => process.exit(0))
    .catch(async (e: unknown) => {
      console.error(`${name} benchmark failed: ${(e as Error).message}`);
      await cleanUp().catch(() => undefined);
      process.exit(1);
    });
}
