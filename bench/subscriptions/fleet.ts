// The benchmark's side of a client process (clientFleet.ts): starts it with an IPC channel,
// sends it requests and waits for the reply with the same sequence number. Its pid is kept so
// the clients' CPU time can be read from /proc like the gateway's.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Envelope, FleetCheck, FleetClientSpec, FleetReply, FleetRequest, FleetStatus, FleetSummary } from './fleetProtocol';

export interface Fleet {
  readonly pid: number;
  start(opts: { url: string; query: string; store: string; clients: readonly FleetClientSpec[]; connectConcurrency: number; localAddress: string | null }): Promise<void>;
  status(): Promise<FleetStatus>;
  check(viewVersions: readonly number[]): Promise<FleetCheck>;
  summarise(opts: Omit<Extract<FleetRequest, { type: 'summarise' }>, 'type'>): Promise<FleetSummary>;
  /** Closes every client, then the process exits. */
  stop(): Promise<void>;
}

type ReplyOf<T extends FleetReply['type']> = Extract<FleetReply, { type: T }>;

/** Starts one client process; `name` prefixes what it writes to stderr. */
export function startFleet(name: string): Promise<Fleet> {
  const child: ChildProcess = fork(path.join(__dirname, 'clientFleet.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  child.stderr!.on('data', (d: Buffer) =>
    process.stderr.write(
      d
        .toString()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => `[${name}] ${l}\n`)
        .join(''),
    ),
  );
  const waiting = new Map<number, { resolve(reply: FleetReply): void; reject(e: Error): void }>();
  let seq = 0;
  let exited: string | null = null;
  child.on('message', (raw: unknown) => {
    const reply = raw as Envelope<FleetReply>;
    const w = waiting.get(reply.seq);
    waiting.delete(reply.seq);
    w?.resolve(reply);
  });
  child.once('exit', (code, signal) => {
    exited = signal ?? `code ${code}`;
    for (const w of waiting.values()) w.reject(new Error(`${name} exited (${exited}) before it replied`));
    waiting.clear();
  });

  const ask = <T extends FleetReply['type']>(request: FleetRequest, expect: T): Promise<ReplyOf<T>> => {
    if (exited) return Promise.reject(new Error(`${name} has exited (${exited})`));
    const n = ++seq;
    return new Promise<FleetReply>((resolve, reject) => {
      waiting.set(n, { resolve, reject });
      child.send({ ...request, seq: n } satisfies Envelope<FleetRequest>);
    }).then((reply) => {
      if (reply.type !== expect) throw new Error(`${name} answered ${request.type} with ${reply.type}`);
      return reply as ReplyOf<T>;
    });
  };

  return new Promise<Fleet>((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () =>
      resolve({
        pid: child.pid!,
        start: async (opts) => void (await ask({ type: 'start', ...opts }, 'started')),
        status: () => ask({ type: 'status' }, 'status'),
        check: (viewVersions) => ask({ type: 'check', viewVersions }, 'check'),
        summarise: (opts) => ask({ type: 'summarise', ...opts }, 'summary'),
        stop: async () => {
          if (exited) return;
          const gone = new Promise<void>((r) => child.once('exit', () => r()));
          await ask({ type: 'stop' }, 'stopped').catch(() => undefined);
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await gone;
          clearTimeout(killer);
        },
      }),
    );
  });
}
