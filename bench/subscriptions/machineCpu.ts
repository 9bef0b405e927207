// How busy the whole machine was over a window, from /proc/stat: on two cores shared by Kafka,
// Redis, three subgraphs, a gateway and the clients, a gateway's figures mean little without
// knowing whether the machine itself was saturated.
import fs from 'node:fs';

export interface CpuSample {
  readonly busy: number;
  readonly total: number;
  /** Ticks the hypervisor gave another guest while this one wanted to run (part of busy). */
  readonly steal: number;
}

/** The aggregate `cpu` line of /proc/stat, in clock ticks. */
export function sampleMachineCpu(): CpuSample {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, total: busy + idle! + iowait!, steal: steal! };
}

/** Cores busy on average between two samples (0 .. number of cores). */
export function busyCores(from: CpuSample, to: CpuSample, cores: number): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.busy - from.busy) / total) * cores : 0;
}

/**
 * Cores' worth of time the hypervisor took between two samples: runs on virtual machines are
 * comparable only when this is small (a host busy with other guests slows every process alike).
 */
export function stolenCores(from: CpuSample, to: CpuSample, cores: number): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.steal - from.steal) / total) * cores : 0;
}

/** The machine's shared services, which the benchmark's CPU budget names apart. */
export type InfraProcess = 'kafka' | 'redis' | 'connectAndPostgres';

/** The inodes of the sockets listening on each of `ports` (IPv4 and IPv6). */
function listeningInodes(ports: readonly number[]): Map<string, number> {
  const wanted = new Set(ports);
  const out = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      // local_address is ip:port in hex; state 0A is LISTEN; the inode is field 10.
      const port = f[1] ? parseInt(f[1].split(':')[1] ?? '', 16) : NaN;
      if (f[3] === '0A' && wanted.has(port)) out.set(f[9]!, port);
    }
  }
  return out;
}

/**
 * The pids of the services this run uses: whichever processes listen on the Kafka broker's,
 * Redis's, Connect's and PostgreSQL's ports. Found by port, not by name, so another Kafka or
 * Redis on the machine (a cluster on other ports) is not counted as this run's.
 */
export function infraPids(ports: { kafka: readonly number[]; redis: readonly number[]; connectAndPostgres: readonly number[] }): Record<InfraProcess, number[]> {
  const inodes = listeningInodes([...ports.kafka, ...ports.redis, ...ports.connectAndPostgres]);
  const out: Record<InfraProcess, number[]> = { kafka: [], redis: [], connectAndPostgres: [] };
  const kindOf = (port: number): InfraProcess => (ports.kafka.includes(port) ? 'kafka' : ports.redis.includes(port) ? 'redis' : 'connectAndPostgres');
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // exited while listed, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const port = link.startsWith('socket:[') ? inodes.get(link.slice(8, -1)) : undefined;
      if (port !== undefined) {
        out[kindOf(port)].push(Number(entry));
        break;
      }
    }
  }
  return out;
}
