/**
 * The form workload both sides run: each session acts once a second, alternately clicking into
 * one of the form's fields and typing a few characters into it. Either action toggles the flag
 * (bench/pages.ts), and the first frame whose flag shows the toggle ends the trial.
 */

/** Centres of the six inputs of /form at 1280×720 (page CSS pixels). */
const FIELDS = [121, 186, 251, 316, 381, 446].map((y) => ({ x: 242, y }));

export type Action = { kind: 'click'; x: number; y: number } | { kind: 'text'; text: string };

/** The i-th action of session `s`. */
export function formAction(s: number, i: number): Action {
  if (i % 2 === 0) return { kind: 'click', ...FIELDS[(s + i / 2) % FIELDS.length]! };
  return { kind: 'text', text: 'abc' };
}

/** A trial that saw no frame with the change within this long counts as this long (and missed). */
export const TRIAL_TIMEOUT_MS = 5000;

export interface LoadResult {
  /** Input-to-frame per trial (ms); null when no frame showed the change in time. */
  latencies: (number | null)[];
  /** The same inputs seen by each session's agent (index k is the same input as latencies[k]). */
  agentLatencies?: (number | null)[];
  /** Bytes of staff frames received per session's agent. */
  agentBytes?: number[];
  /** Bytes of frames received per session over the run. */
  bytes: number[];
  seconds: number;
  frames: number;
  /** Frames whose pixels were looked at, and how many of those needed a full decode. */
  probes: number;
  fullDecodes: number;
  /** CPU seconds over the run: the browser's process tree, and (Vitrine) server and participants. */
  cpu: { browser: number; server?: number; participants?: number };
}
