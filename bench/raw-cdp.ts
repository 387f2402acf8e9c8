/**
 * The physical limit of this design, measured in the same run: Chromium's own screencast driven
 * directly over CDP, with no server in between, on the same pages, quality and size.
 */
import type { CDPSession, Page } from 'puppeteer-core';
import { launchBrowser, type LaunchedBrowser } from '../server/browser/launch.ts';
import { flagIsBlue, probeStats, sleep } from './measure.ts';
import { treeCpu, treeCpuByType, treePssMb } from '../harness/processes.ts';
import { FLAG } from './pages.ts';
import { formAction, TRIAL_TIMEOUT_MS, type LoadResult } from './workload.ts';

export interface RawPage {
  page: Page;
  cdp: CDPSession;
  frames: { at: number; data: Buffer }[];
  /** Called on each frame as it arrives (after it is acknowledged). */
  onFrame: ((data: Buffer, at: number) => void) | null;
  close(): Promise<void>;
}

export class RawCdp {
  private constructor(
    readonly launched: LaunchedBrowser,
    readonly quality: number,
  ) {}

  static async start(quality: number, extraArgs: string[] = []): Promise<RawCdp> {
    return new RawCdp(await launchBrowser({ viewport: { width: 1280, height: 720 }, extraArgs }), quality);
  }

  /**
   * `keep: false` keeps only the newest frame (long runs with many pages). `focused` makes the
   * page behave as focused, as every Vitrine session page does (a focused field's caret blinks).
   */
  async open(url: string, opts: { keep?: boolean; focused?: boolean; capture?: { quality: number; maxWidth: number; maxHeight: number } } = {}): Promise<RawPage> {
    const context = await this.launched.browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    const cdp = await page.createCDPSession();
    const frames: { at: number; data: Buffer }[] = [];
    const raw: RawPage = { page, cdp, frames, onFrame: null, close: () => context.close() };
    cdp.on('Page.screencastFrame', (e) => {
      void cdp.send('Page.screencastFrameAck', { sessionId: e.sessionId }).catch(() => undefined);
      const f = { at: performance.now(), data: Buffer.from(e.data, 'base64') };
      if (opts.keep === false) frames.length = 0;
      frames.push(f);
      raw.onFrame?.(f.data, f.at);
    });
    if (opts.focused) await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true });
    await page.goto(url, { waitUntil: 'load' });
    await cdp.send('Page.startScreencast', { format: 'jpeg', ...(opts.capture ?? { quality: this.quality, maxWidth: 1280, maxHeight: 720 }) });
    return raw;
  }

  /**
   * The form workload on `n` pages at once, the same schedule as bench/load-worker.ts runs
   * against Vitrine: an action a second per page, staggered, timed to the first frame showing it.
   */
  async load(url: string, n: number, actions: number, capture?: { quality: number; maxWidth: number; maxHeight: number }): Promise<LoadResult & { pssMb: number; byType: Record<string, number> }> {
    const pages: RawPage[] = [];
    for (let i = 0; i < n; i++) pages.push(await this.open(url, { keep: false, focused: true, capture }));
    await sleep(500);
    const probes0 = { ...probeStats };
    const bytes = pages.map(() => 0);
    let frames = 0;
    pages.forEach((p, i) => {
      p.onFrame = (d) => {
        bytes[i]! += d.length;
        frames++;
      };
    });
    const latencies: (number | null)[] = [];
    const cpu0 = this.pids().reduce((a, pid) => a + treeCpu(pid), 0);
    const types0 = treeCpuByType(this.pids()[0] ?? 0);
    const t0 = performance.now();
    await Promise.all(
      pages.map(async (p, s) => {
        await sleep((s * 1000) / n);
        for (let i = 0; i < actions; i++) {
          const start = performance.now();
          latencies.push(await this.#trial(p, s, i, (d) => ((bytes[s]! += d.length), frames++)));
          await sleep(Math.max(0, 1000 - (performance.now() - start)));
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const browserCpu = this.pids().reduce((a, pid) => a + treeCpu(pid), 0) - cpu0;
    const pssMb = this.pids().reduce((a, pid) => a + treePssMb(pid), 0);
    const byType = treeCpuByType(this.pids()[0] ?? 0);
    for (const k of Object.keys(byType)) byType[k]! -= types0[k] ?? 0;
    for (const p of pages) await p.close().catch(() => undefined);
    return { latencies, bytes, seconds, frames, probes: probeStats.probes - probes0.probes, fullDecodes: probeStats.fullDecodes - probes0.fullDecodes, cpu: { browser: browserCpu }, pssMb, byType };
  }

  #trial(p: RawPage, s: number, i: number, count: (d: Buffer) => void): Promise<number | null> {
    const last = p.frames.at(-1);
    const blue = last ? !flagIsBlue(last.data, FLAG.x, FLAG.y) : true;
    return new Promise((resolve) => {
      const t0 = performance.now();
      const finish = (ms: number | null) => {
        clearTimeout(timer);
        p.onFrame = count;
        resolve(ms);
      };
      const timer = setTimeout(() => finish(null), TRIAL_TIMEOUT_MS);
      p.onFrame = (d, at) => {
        count(d);
        if (flagIsBlue(d, FLAG.x, FLAG.y) === blue) finish(at - t0);
      };
      const a = formAction(s, i);
      // Sent back to back without waiting for each answer, as a Vitrine participant's are.
      const sent =
        a.kind === 'click'
          ? [
              p.cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: a.x, y: a.y }),
              p.cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: a.x, y: a.y, button: 'left', buttons: 1, clickCount: 1 }),
              p.cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: a.x, y: a.y, button: 'left', buttons: 0, clickCount: 1 }),
            ]
          : [p.cdp.send('Input.insertText', { text: a.text })];
      for (const s of sent) s.catch(() => undefined);
    });
  }

  /**
   * Frames per second the screencast delivers over `ms`. With `typeAt` the field there is
   * clicked and a character typed every `everyMs` (the form page under steady typing).
   */
  async fps(url: string, ms: number, opts: { typeAt?: { x: number; y: number }; everyMs?: number } = {}): Promise<number> {
    const p = await this.open(url, { keep: false, focused: true });
    let frames = 0;
    p.onFrame = () => void frames++;
    let typing: NodeJS.Timeout | null = null;
    if (opts.typeAt) {
      const { x, y } = opts.typeAt;
      await p.cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', x, y, button: 'left', buttons: 1, clickCount: 1 });
      await p.cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', buttons: 0, clickCount: 1 });
      typing = setInterval(() => void p.cdp.send('Input.insertText', { text: 'a' }).catch(() => undefined), opts.everyMs ?? 50);
    }
    await sleep(500);
    const start = frames;
    await sleep(ms);
    const n = frames - start;
    if (typing) clearInterval(typing);
    await p.close();
    return n / (ms / 1000);
  }

  /** A page kept open for click trials (see clickTrial), so that they can interleave with Vitrine's. */
  async trialPage(url: string): Promise<RawPage> {
    const p = await this.open(url);
    await sleep(500);
    return p;
  }

  /** Click → first screencast frame whose pixels show the change (ms; NaN after 5 s). */
  async clickTrial(p: RawPage): Promise<number> {
    const from = p.frames.length;
    const last = p.frames.at(-1);
    const blue = last ? !flagIsBlue(last.data, FLAG.x, FLAG.y) : true;
    const t0 = performance.now();
    await p.cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: 640, y: 360, button: 'left', clickCount: 1 });
    await p.cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: 640, y: 360, button: 'left', clickCount: 1 });
    let checked = from;
    for (let waited = 0; waited < 5000; waited += 2) {
      for (; checked < p.frames.length; checked++) if (flagIsBlue(p.frames[checked]!.data, FLAG.x, FLAG.y) === blue) return p.frames[checked]!.at - t0;
      await sleep(2);
    }
    return NaN;
  }

  /** Click → first screencast frame whose pixels show the change, per trial (ms). */
  async latency(url: string, trials: number): Promise<number[]> {
    const p = await this.trialPage(url);
    const out: number[] = [];
    for (let i = 0; i < trials; i++) {
      const ms = await this.clickTrial(p);
      if (!Number.isNaN(ms)) out.push(ms);
      await sleep(150);
    }
    await p.close();
    return out;
  }

  /**
   * New context + new page + goto + first screencast frame (ms). With `shown`, the first frame
   * that shows the page (its flag blue: bench/pages.ts /ready and /large), not any frame.
   */
  async timeToFirstFrame(url: string, opts: { shown?: boolean; timeoutMs?: number } = {}): Promise<number> {
    const t0 = performance.now();
    const context = await this.launched.browser.createBrowserContext();
    try {
      const page = await context.newPage();
      const cdp = await page.createCDPSession();
      const first = new Promise<number>((resolve) => {
        const timer = setTimeout(() => resolve(NaN), opts.timeoutMs ?? 60_000);
        cdp.on('Page.screencastFrame', (e) => {
          void cdp.send('Page.screencastFrameAck', { sessionId: e.sessionId }).catch(() => undefined);
          if (opts.shown && !flagIsBlue(Buffer.from(e.data, 'base64'), FLAG.x, FLAG.y)) return;
          clearTimeout(timer);
          resolve(performance.now() - t0);
        });
      });
      await cdp.send('Page.startScreencast', { format: 'jpeg', quality: this.quality, maxWidth: 1280, maxHeight: 720 });
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
      return await first;
    } finally {
      await context.close();
    }
  }

  pids(): number[] {
    const pid = this.launched.browser.process()?.pid;
    return pid ? [pid] : [];
  }

  close(): Promise<void> {
    return this.launched.close();
  }
}
