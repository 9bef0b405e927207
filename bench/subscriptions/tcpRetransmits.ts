// TCP segments the machine retransmitted, from /proc/net/snmp. On loopback nothing is lost, so a
// retransmission means a sender's timer (200 ms at least) fired before the acknowledgement came:
// some process or the kernel's receive work waited that long for a core. The worse customers runs
// had ten times as many as a staff run (docs/performance.md, "Where the customers run's tail comes
// from"), so the benchmark reports how many its window saw.
import fs from 'node:fs';

/** RetransSegs of the `Tcp:` line; null where /proc/net/snmp cannot be read. */
export function retransmittedSegments(snmp: () => string = () => fs.readFileSync('/proc/net/snmp', 'utf8')): number | null {
  let text: string;
  try {
    text = snmp();
  } catch {
    return null;
  }
  const [names, values] = text.split('\n').filter((l) => l.startsWith('Tcp:'));
  if (!names || !values) return null;
  const at = names.trim().split(/\s+/).indexOf('RetransSegs');
  const value = Number(values.trim().split(/\s+/)[at]);
  return at > 0 && Number.isFinite(value) ? value : null;
}
