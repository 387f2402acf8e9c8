/** Small helpers for the benchmark: pixel probe, click trials, percentiles (process measurements: harness/processes.ts). */
import jpeg from 'jpeg-js';
import type { TestClient } from '../harness/harness.ts';
import { jpegSize, probeJpeg } from './jpeg-probe.ts';
import { FLAG } from './pages.ts';

/** Frames probed, and how many needed a full decode (anything but baseline JPEG). */
export const probeStats = { probes: 0, fullDecodes: 0 };

/**
 * True when the flag region of a JPEG frame is blue (the click toggled it on). (x, y) are page
 * CSS pixels of a 1280×720 viewport; a frame captured smaller is probed at the scaled point.
 * Only the probed block is looked at (see jpeg-probe.ts); a full decode is the fallback.
 */
export function flagIsBlue(bytes: Uint8Array, x: number, y: number, viewport = { width: 1280, height: 720 }): boolean {
  probeStats.probes++;
  const size = jpegSize(bytes);
  const px = size ? Math.floor((x * size.width) / viewport.width) : x;
  const py = size ? Math.floor((y * size.height) / viewport.height) : y;
  const p = probeJpeg(bytes, px, py);
  if (p) return p.b > 200 && p.r < 60;
  probeStats.fullDecodes++;
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  const i = (py * img.width + px) * 4;
  return img.data[i + 2]! > 200 && img.data[i]! < 60;
}

/**
 * One click on a bench page: resolves with the milliseconds from the click to the arrival of the
 * first frame whose flag shows the toggle (NaN after timeoutMs). It expects the opposite of what
 * the page shows now, so one lost click cannot skew the rest; arrival is recorded before any
 * pixel is looked at.
 */
export async function clickTrial(c: TestClient, timeoutMs: number): Promise<number> {
  const from = c.frames.length;
  const blue = !flagIsBlue(c.frames.at(-1)!.jpeg, FLAG.x, FLAG.y);
  const t0 = Date.now();
  c.input({ kind: 'pointer', action: 'down', x: 640, y: 360, button: 'left', clickCount: 1 });
  c.input({ kind: 'pointer', action: 'up', x: 640, y: 360, button: 'left', clickCount: 1 });
  let checked = from;
  const at = await c
    .waitFor(() => {
      for (; checked < c.frames.length; checked++) if (flagIsBlue(c.frames[checked]!.jpeg, FLAG.x, FLAG.y) === blue) return c.frames[checked]!.at;
      return undefined;
    }, timeoutMs)
    .catch(() => NaN);
  return at - t0;
}

/**
 * One click seen by both audiences of a session: the customer clicks, and each side times the
 * arrival of its first frame whose flag shows the toggle (NaN after timeoutMs). Both expect the
 * opposite of what the customer's page shows now; arrival is recorded before any pixel is read.
 */
export async function audienceClickTrial(customer: TestClient, agent: TestClient, timeoutMs: number): Promise<{ customer: number; agent: number }> {
  const from = { customer: customer.frames.length, agent: agent.frames.length };
  const blue = !flagIsBlue(customer.frames.at(-1)!.jpeg, FLAG.x, FLAG.y);
  const t0 = Date.now();
  customer.input({ kind: 'pointer', action: 'down', x: 640, y: 360, button: 'left', clickCount: 1 });
  customer.input({ kind: 'pointer', action: 'up', x: 640, y: 360, button: 'left', clickCount: 1 });
  const arrival = (c: TestClient, start: number) => {
    let checked = start;
    return c
      .waitFor(() => {
        for (; checked < c.frames.length; checked++) if (flagIsBlue(c.frames[checked]!.jpeg, FLAG.x, FLAG.y) === blue) return c.frames[checked]!.at;
        return undefined;
      }, timeoutMs)
      .catch(() => NaN);
  };
  const [c, a] = await Promise.all([arrival(customer, from.customer), arrival(agent, from.agent)]);
  return { customer: c - t0, agent: a - t0 };
}

/** `p50 / p95` of a list, rounded. */
export const p50p95 = (v: number[]) => `${round(percentile(v, 50))} / ${round(percentile(v, 95))}`;

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
