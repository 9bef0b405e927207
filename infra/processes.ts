// Process checks shared by the local broker and Redis scripts.
import fs from 'node:fs';

/** Alive and not a zombie: a detached child of this process lingers as a zombie until reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true; // No /proc (macOS): trust kill(0).
  }
}

/** Whether `pid` runs a command line containing `needle` (no /proc: assume it does). */
export function commandLineIncludes(pid: number, needle: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
  } catch {
    return true;
  }
}
