// Integration test of npm start's supervisor against real child processes: crash loops give up, a one-off crash is restarted once, stop() restarts nothing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { superviseProcess, type SupervisedProcess, type SupervisorEvent } from '../scripts/supervisor/supervise';
import { waitFor } from './support/waitFor';

/** Millisecond backoffs so a whole crash loop takes well under a second of waiting. */
const FAST = { initialDelayMs: 20, maxDelayMs: 80, maxRestarts: 3, windowMs: 60_000, stableAfterMs: 30_000 };

/** A supervised `node -e <code>` with its lines, events and output recorded. */
function supervise(code: string, extra: Partial<Parameters<typeof superviseProcess>[0]> = {}) {
  const lines: string[] = [];
  const events: SupervisorEvent[] = [];
  const output: string[] = [];
  const handle = superviseProcess({
    name: 'worker',
    spawn: () => {
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      return child;
    },
    policy: FAST,
    logPath: '.run/logs/worker.log',
    report: (line) => lines.push(line),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  handles.push(handle);
  const count = (type: SupervisorEvent['type']) => events.filter((e) => e.type === type).length;
  return { handle, lines, events, output, count };
}

const handles: SupervisedProcess[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

describe('superviseProcess', () => {
  it('restarts a crash-looping process with growing backoff, then gives up and says where its log is', async () => {
    const { handle, lines, events, count } = supervise('process.exit(3)');
    await waitFor(() => handle.state === 'gave-up', { what: 'the supervisor to give up', timeoutMs: 30_000 });

    // The first start plus maxRestarts restarts, then nothing more.
    expect(count('started')).toBe(4);
    expect(handle.restarts).toBe(3);
    expect(handle.child).toBeNull();
    const scheduled = events.filter((e) => e.type === 'restart-scheduled');
    expect(scheduled.map((e) => [e.attempt, e.delayMs, e.code])).toEqual([
      [1, 20, 3],
      [2, 40, 3],
      [3, 80, 3],
    ]);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^worker exited \(code 3\) after [\d.]+ m?s; restarting in 20 ms at \d\d:\d\d:\d\d \(attempt 1 of 3\)$/);
    expect(lines[2]).toMatch(/\(attempt 3 of 3\)$/);
    expect(lines[3]).toMatch(/^worker keeps crashing \(4 exits in [\d.]+ m?s, last code 3\); not restarting it again, its log is \.run\/logs\/worker\.log; the rest of the stack stays up/);
    expect(events[events.length - 1]).toEqual({ type: 'gave-up', name: 'worker', code: 3, signal: null, exits: 4 });
  });

  it('restarts a process that crashes once and then stays up, exactly once', async () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'supervisor-')), 'crashed-once');
    // First run: leave a marker and crash. Later runs: say so and keep running.
    const code = `const fs = require('fs'); const f = ${JSON.stringify(marker)};
      if (!fs.existsSync(f)) { fs.writeFileSync(f, ''); process.exit(7); }
      console.log('up'); setInterval(() => {}, 1 << 30);`;
    const { handle, lines, output, count } = supervise(code);
    await waitFor(() => output.join('').includes('up'), { what: 'the restarted run to be up', timeoutMs: 30_000 });

    expect(handle.state).toBe('running');
    expect(handle.restarts).toBe(1);
    expect(count('started')).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^worker exited \(code 7\) .*\(attempt 1 of 3\)$/)]);

    // stop() ends the running child with SIGTERM; its exit is expected, so nothing restarts.
    const child = handle.child!;
    await handle.stop();
    expect(child.signalCode).toBe('SIGTERM');
    expect(handle.state).toBe('stopped');
    expect(count('started')).toBe(2);
    expect(count('restart-scheduled')).toBe(1);
    expect(lines).toHaveLength(1);
  });

  it('cancels the pending restart when stopped during backoff', async () => {
    // Timers recorded, so the test can see that the restart was cancelled, not merely late.
    const pending = new Set<number>();
    let scheduledCount = 0;
    const schedule = (run: () => void, delayMs: number) => {
      const id = ++scheduledCount;
      pending.add(id);
      const timer = setTimeout(() => {
        pending.delete(id);
        run();
      }, delayMs);
      return () => {
        pending.delete(id);
        clearTimeout(timer);
      };
    };
    // A long backoff: the process is certainly still waiting when stop() comes.
    const { handle, count } = supervise('process.exit(1)', { policy: { ...FAST, initialDelayMs: 60_000 }, schedule });
    await waitFor(() => handle.state === 'backoff', { what: 'the first crash to be seen', timeoutMs: 30_000 });
    expect(pending.size).toBe(1);

    await handle.stop();
    expect(handle.state).toBe('stopped');
    expect(pending.size).toBe(0);
    expect(scheduledCount).toBe(1);
    expect(count('started')).toBe(1);
    // stop() is idempotent.
    await handle.stop();
    expect(count('stopped')).toBe(1);
  });

  it('treats a clean exit as done when told to (the simulator with --duration)', async () => {
    const { handle, lines, count } = supervise('process.exit(0)', { restartCleanExits: false });
    await waitFor(() => handle.state === 'finished', { what: 'the clean exit to be seen', timeoutMs: 30_000 });
    expect(count('started')).toBe(1);
    expect(lines).toEqual(['worker finished (code 0); not restarted']);
  });

  it('restarts a process killed by a signal and names the signal', async () => {
    const { handle, lines, output, count } = supervise(`console.log('up'); setInterval(() => {}, 1 << 30);`);
    await waitFor(() => output.length === 1, { what: 'the first run to be up', timeoutMs: 30_000 });
    handle.child!.kill('SIGKILL');
    await waitFor(() => output.length === 2, { what: 'the restarted run to be up', timeoutMs: 30_000 });
    expect(count('started')).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^worker exited \(signal SIGKILL\) .*\(attempt 1 of 3\)$/)]);
  });

  it('counts a binary that cannot be spawned as a crash, and gives up on it', async () => {
    const lines: string[] = [];
    const handle = superviseProcess({
      name: 'missing',
      spawn: () => spawn(path.join(os.tmpdir(), 'no-such-binary-for-supervisor-test'), [], { stdio: 'ignore' }),
      policy: FAST,
      report: (line) => lines.push(line),
    });
    handles.push(handle);
    await waitFor(() => handle.state === 'gave-up', { what: 'the supervisor to give up on a missing binary', timeoutMs: 30_000 });
    expect(lines.filter((l) => l.includes('could not be started'))).toHaveLength(4);
    expect(lines[lines.length - 1]).toMatch(/^missing keeps crashing \(4 exits .*last failed to start\); not restarting it again, see its output above;/);
  });
});
