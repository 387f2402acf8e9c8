/** The renderer processes of a browser, from the process table (for chaos and confinement tests). */
import { descendants, processes } from '../../harness/processes.ts';

export function rendererPids(browserPid: number): number[] {
  const mine = new Set(descendants(browserPid));
  return processes()
    .filter((p) => mine.has(p.pid) && p.cmd.includes('--type=renderer'))
    .map((p) => p.pid);
}
