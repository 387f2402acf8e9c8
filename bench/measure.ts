/** Small helpers for the benchmark: pixel probe, percentiles, memory of a process tree. */
import { readFileSync, readdirSync } from 'node:fs';
import jpeg from 'jpeg-js';

/** True when the flag region of a JPEG frame is blue (the click toggled it on). */
export function flagIsBlue(bytes: Uint8Array, x: number, y: number): boolean {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  const i = (y * img.width + x) * 4;
  return img.data[i + 2]! > 200 && img.data[i]! < 60;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

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
    for (const q of all) if (q.ppid === p) (out.push(q.pid), stack.push(q.pid));
  }
  return out;
}

/** Proportional set size (MB) of a process and all its descendants. */
export function treePssMb(pid: number): number {
  let kb = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // the process ended while we looked
    }
  }
  return kb / 1024;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
