/**
 * The processes of this machine, read from /proc: a process tree, its memory (PSS) and CPU time.
 * Tests use it to find a server's Chromium processes, the bench to measure them.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Every process on the machine with its parent and command line (those that end meanwhile are skipped). */
export function processes(): { pid: number; ppid: number; cmd: string }[] {
  const out: { pid: number; ppid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      out.push({ pid: Number(d), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** All descendants of a process. */
export function descendants(pid: number): number[] {
  const all = processes();
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    for (const q of all)
      if (q.ppid === p) {
        out.push(q.pid);
        stack.push(q.pid);
      }
  }
  return out;
}

/** Proportional set size (MB) of one process (0 when it is gone). */
export function pssOfMb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return Number(m?.[1] ?? 0) / 1024;
  } catch {
    return 0; // the process ended while we looked
  }
}

/** Proportional set size (MB) of a process and all its descendants. */
export function treePssMb(pid: number): number {
  return [pid, ...descendants(pid)].reduce((a, p) => a + pssOfMb(p), 0);
}

/** CPU seconds (user + system) a process has used so far (0 when it is gone). */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by a process and its living descendants. */
export function treeCpu(pid: number): number {
  return [pid, ...descendants(pid)].reduce((a, p) => a + cpuOf(p), 0);
}

/** CPU seconds the whole machine has spent busy so far (every core, /proc/stat). */
export function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
}

/**
 * CPU seconds used so far by this process and everything it started, ended or not: a living
 * process counts its own time and that of the children it has reaped (cutime, cstime); an ended
 * one is in its reaper's.
 */
export function ownTreeCpu(): number {
  const withChildren = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    } catch {
      return 0;
    }
  };
  return [process.pid, ...descendants(process.pid)].reduce((a, p) => a + withChildren(p), 0);
}

/**
 * A measure of a browser's process tree, summed by Chromium process type (`--type=` of each
 * command line; the browser process itself has none): where a session's cost goes.
 */
export function treeByType(pid: number, measure: (pid: number) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of [pid, ...descendants(pid)]) {
    let type: string;
    try {
      type = /--type=([a-z-]+)/.exec(readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '))?.[1] ?? 'browser';
    } catch {
      continue; // the process ended while we looked
    }
    out[type] = (out[type] ?? 0) + measure(p);
  }
  return out;
}

/** CPU seconds used so far by a browser's process tree, by process type. */
export const treeCpuByType = (pid: number): Record<string, number> => treeByType(pid, cpuOf);
