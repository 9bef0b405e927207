// Keeps one child process running for `npm start`: restarts it per the restart policy when it exits unexpectedly, says so in one line, and stops it on request.
import type { ChildProcess } from 'node:child_process';
import { decideRestart, DEFAULT_RESTART_POLICY, type ExitRecord, type RestartPolicy } from './restartPolicy';

/** running: a child is up; backoff: waiting to restart; gave-up / finished: no child and none coming; stopped: after stop(). */
export type SupervisedState = 'running' | 'backoff' | 'gave-up' | 'finished' | 'stopping' | 'stopped';

export type SupervisorEvent =
  | { readonly type: 'started'; readonly name: string; readonly pid: number | undefined; readonly run: number }
  | {
      readonly type: 'restart-scheduled';
      readonly name: string;
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly delayMs: number;
      readonly attempt: number;
      readonly maxAttempts: number;
    }
  | { readonly type: 'gave-up'; readonly name: string; readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly exits: number }
  | { readonly type: 'finished'; readonly name: string }
  | { readonly type: 'stopped'; readonly name: string };

export interface SuperviseOptions {
  /** Names the process in every line (and `.run/logs/<name>.log` by convention). */
  readonly name: string;
  /** Starts one run of the process; called again for every restart. */
  readonly spawn: () => ChildProcess;
  /** Overrides of DEFAULT_RESTART_POLICY (tests use millisecond backoffs). */
  readonly policy?: Partial<RestartPolicy>;
  /**
   * Whether an exit with code 0 is restarted too. Default true: a server that exits, even
   * cleanly, is down. False for jobs whose clean exit means done (the simulator's --duration).
   */
  readonly restartCleanExits?: boolean;
  /** Where the process's output is kept; the give-up line points there. */
  readonly logPath?: string;
  /** Receives the one-line messages (restart, give up, finished). Default: console.error. */
  readonly report?: (line: string) => void;
  /** Receives every state change, for callers (and tests) that act on them rather than read them. */
  readonly onEvent?: (event: SupervisorEvent) => void;
  /** stop() sends SIGTERM, then SIGKILL after this long. Default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Schedules a restart; returns its cancel. Default: setTimeout. Tests record it to prove stop() cancels it. */
  readonly schedule?: (run: () => void, delayMs: number) => () => void;
}

export interface SupervisedProcess {
  readonly name: string;
  readonly state: SupervisedState;
  /** The current run's child, or null between runs. */
  readonly child: ChildProcess | null;
  /** Restarts so far (not counting the first start). */
  readonly restarts: number;
  /** Stops the child (SIGTERM, then SIGKILL) and cancels any pending restart; nothing is restarted after this. */
  stop(): Promise<void>;
}

export function superviseProcess(options: SuperviseOptions): SupervisedProcess {
  const { name } = options;
  const policy: RestartPolicy = { ...DEFAULT_RESTART_POLICY, ...options.policy };
  const report = options.report ?? ((line: string) => console.error(line));
  const emit = (event: SupervisorEvent) => options.onEvent?.(event);
  const schedule =
    options.schedule ??
    ((run: () => void, delayMs: number) => {
      const timer = setTimeout(run, delayMs);
      return () => clearTimeout(timer);
    });
  // Only the last maxRestarts + 1 exits can change a decision (see decideRestart).
  const exits: ExitRecord[] = [];
  let state: SupervisedState = 'running';
  let child: ChildProcess | null = null;
  let cancelRestart: (() => void) | null = null;
  let runs = 0;
  let stopping: Promise<void> | null = null;

  const launch = () => {
    cancelRestart = null;
    state = 'running';
    runs++;
    const startedAt = Date.now();
    let proc: ChildProcess;
    try {
      proc = options.spawn();
    } catch (e) {
      report(`${name} could not be started: ${(e as Error).message}`);
      exited(startedAt, null, null);
      return;
    }
    child = proc;
    emit({ type: 'started', name, pid: proc.pid, run: runs });
    let done = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      if (child === proc) child = null;
      exited(startedAt, code, signal);
    };
    proc.once('exit', onExit);
    // A child that could not be spawned (ENOENT, EACCES) emits 'error' and may never emit
    // 'exit'; that is a failed run. Other 'error's (a failed kill) must not crash the parent.
    proc.on('error', (e) => {
      if (proc.pid !== undefined) return;
      report(`${name} could not be started: ${e.message}`);
      onExit(null, null);
    });
  };

  const exited = (startedAt: number, code: number | null, signal: NodeJS.Signals | null) => {
    // Exits caused by stop() (or Ctrl-C reaching the whole process group) are expected.
    if (state === 'stopping' || state === 'stopped') return;
    const how = describeExit(code, signal);
    if (code === 0 && options.restartCleanExits === false) {
      state = 'finished';
      report(`${name} finished (${how}); not restarted`);
      emit({ type: 'finished', name });
      return;
    }
    const now = Date.now();
    exits.push({ at: now, uptimeMs: now - startedAt });
    if (exits.length > policy.maxRestarts + 1) exits.splice(0, exits.length - policy.maxRestarts - 1);
    const decision = decideRestart(exits, policy);
    if (decision.action === 'give-up') {
      state = 'gave-up';
      const where = options.logPath ? `its log is ${options.logPath}` : 'see its output above';
      report(
        `${name} keeps crashing (${decision.exits} exits in ${seconds(decision.spanMs)}, last ${how}); not restarting it again, ${where}; ` +
          'the rest of the stack stays up (Ctrl-C stops everything)',
      );
      emit({ type: 'gave-up', name, code, signal, exits: decision.exits });
      return;
    }
    state = 'backoff';
    report(
      `${name} exited (${how}) after ${seconds(now - startedAt)}; restarting in ${seconds(decision.delayMs)} at ` +
        `${clock(now + decision.delayMs)} (attempt ${decision.attempt} of ${decision.maxAttempts})`,
    );
    emit({ type: 'restart-scheduled', name, code, signal, delayMs: decision.delayMs, attempt: decision.attempt, maxAttempts: decision.maxAttempts });
    cancelRestart = schedule(launch, decision.delayMs);
  };

  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    state = 'stopping';
    cancelRestart?.();
    cancelRestart = null;
    const proc = child;
    const exitedAlready = !proc || proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null;
    stopping = (
      exitedAlready
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const kill = setTimeout(() => proc.kill('SIGKILL'), options.stopTimeoutMs ?? 10_000);
            kill.unref();
            proc.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            proc.kill('SIGTERM');
          })
    ).then(() => {
      state = 'stopped';
      emit({ type: 'stopped', name });
    });
    return stopping;
  };

  launch();
  return {
    name,
    get state() {
      return state;
    },
    get child() {
      return child;
    },
    get restarts() {
      return Math.max(0, runs - 1);
    },
    stop,
  };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal ${signal}`;
  if (code === null) return 'failed to start';
  return `code ${code}`;
}

function seconds(ms: number): string {
  // Sub-100 ms only happens with test policies; "0.0 s" would read as "immediately".
  if (ms < 100) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Local wall-clock time, HH:MM:SS, as people read it next to their own log lines. */
function clock(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 8);
}
