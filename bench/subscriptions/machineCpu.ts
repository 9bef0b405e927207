// How busy the whole machine was over a window, from /proc/stat: on two cores shared by Kafka,
// Redis, three subgraphs, a gateway and the clients, a gateway's figures mean little without
// knowing whether the machine itself was saturated.
import fs from 'node:fs';

export interface CpuSample {
  readonly busy: number;
  readonly total: number;
}

/** The aggregate `cpu` line of /proc/stat, in clock ticks. */
export function sampleMachineCpu(): CpuSample {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, total: busy + idle! + iowait! };
}

/** Cores busy on average between two samples (0 .. number of cores). */
export function busyCores(from: CpuSample, to: CpuSample, cores: number): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.busy - from.busy) / total) * cores : 0;
}
