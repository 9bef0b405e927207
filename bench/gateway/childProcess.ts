// Child processes of the gateway benchmark: each subgraph and each gateway runs in its own
// Node process, so a gateway's CPU time and memory can be read from /proc apart from the
// subgraphs, the load generator, Kafka and Redis that share the cores with it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  /** The URL the process printed when it was ready. */
  readonly url: string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; resolves with how it exited. */
  stop(): Promise<string>;
}

export interface StartChildOptions {
  /** A label for errors and the output prefix. */
  readonly name: string;
  /** A TypeScript entry point, run as `node --import tsx <script>`. */
  readonly script: string;
  readonly env: NodeJS.ProcessEnv;
  /** Matches the line that says the process is ready; group 1 is its URL. */
  readonly ready: RegExp;
  /** Node options before `--import tsx` (e.g. `--cpu-prof`). @default [] */
  readonly nodeArgs?: readonly string[];
  /** @default 60000 */
  readonly timeoutMs?: number;
}

/**
 * Starts `node --import tsx <script>` directly (no npm or tsx wrapper process), so the pid is
 * the process that does the work and /proc/<pid> describes it alone.
 */
export function startChild(opts: StartChildOptions): Promise<ChildHandle> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.script], { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep stderr visible (warnings, crashes) but say whose it is.
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(prefixLines(opts.name, d.toString())));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
  return new Promise<ChildHandle>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      void stopChild(child, exited);
      reject(new Error(`${opts.name} did not say it was ready within ${opts.timeoutMs ?? 60_000} ms; it printed: ${seen.slice(-500)}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = opts.ready.exec(seen);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      // Drain later output so a chatty child never blocks on a full pipe.
      child.stdout!.resume();
      resolve({ name: opts.name, pid: child.pid!, url: m[1], stop: () => stopChild(child, exited) });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited (${signal ?? `code ${code}`}) before it was ready`));
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<string>): Promise<string> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  }
  return exited;
}

const prefixLines = (name: string, text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `[${name}] ${l}\n`)
    .join('');

// The kernel counts CPU time in clock ticks; almost always 100 per second, but ask once.
let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User plus system CPU time of a process (all its threads), in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicks();
}

/** The pids of a process's children (a gateway's workers under GATEWAY_WORKERS). */
function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU used by a process and its living children, in ms: a gateway and its workers. */
export function treeCpuMs(pid: number): number {
  return [pid, ...childPids(pid)].reduce((sum, p) => {
    try {
      return sum + cpuMs(p);
    } catch {
      return sum; // a child that exited between the listing and the read
    }
  }, 0);
}

/** The peak resident set sizes (VmHWM) of a process and its living children, added up, in MiB. */
export function treePeakRssMb(pid: number): number {
  return [pid, ...childPids(pid)].reduce((sum, p) => {
    try {
      return sum + peakRssMb(p);
    } catch {
      return sum;
    }
  }, 0);
}

/** The process's peak resident set size so far (VmHWM), in MiB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(m[1]) / 1024;
}
