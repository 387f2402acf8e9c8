/**
 * The physical limit of this design, measured in the same run: Chromium's own screencast driven
 * directly over CDP, with no server in between, on the same pages, quality and size.
 */
import type { CDPSession, Page } from 'puppeteer';
import { launchBrowser, type LaunchedBrowser } from '../server/browser/launch.ts';
import { flagIsBlue, sleep } from './measure.ts';
import { FLAG } from './pages.ts';

export interface RawPage {
  page: Page;
  cdp: CDPSession;
  frames: { at: number; data: Buffer }[];
  close(): Promise<void>;
}

export class RawCdp {
  private constructor(readonly launched: LaunchedBrowser, readonly quality: number) {}

  static async start(quality: number): Promise<RawCdp> {
    return new RawCdp(await launchBrowser({ viewport: { width: 1280, height: 720 } }), quality);
  }

  async open(url: string): Promise<RawPage> {
    const context = await this.launched.browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    const cdp = await page.createCDPSession();
    const frames: { at: number; data: Buffer }[] = [];
    cdp.on('Page.screencastFrame', (e) => {
      void cdp.send('Page.screencastFrameAck', { sessionId: e.sessionId }).catch(() => undefined);
      frames.push({ at: performance.now(), data: Buffer.from(e.data, 'base64') });
    });
    await page.goto(url, { waitUntil: 'load' });
    await cdp.send('Page.startScreencast', { format: 'jpeg', quality: this.quality, maxWidth: 1280, maxHeight: 720 });
    return { page, cdp, frames, close: () => context.close() };
  }

  async fps(url: string, ms: number): Promise<number> {
    const p = await this.open(url);
    await sleep(500);
    const start = p.frames.length;
    await sleep(ms);
    const n = p.frames.length - start;
    await p.close();
    return n / (ms / 1000);
  }

  /** Click → first screencast frame whose pixels show the change, per trial (ms). */
  async latency(url: string, trials: number): Promise<number[]> {
    const p = await this.open(url);
    await sleep(500);
    const out: number[] = [];
    for (let i = 0; i < trials; i++) {
      const from = p.frames.length;
      const last = p.frames.at(-1);
      const blue = last ? !flagIsBlue(last.data, FLAG.x, FLAG.y) : true;
      const t0 = performance.now();
      await p.cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: 640, y: 360, button: 'left', clickCount: 1 });
      await p.cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: 640, y: 360, button: 'left', clickCount: 1 });
      let checked = from;
      for (let waited = 0; waited < 5000; waited += 2) {
        let hit = -1;
        for (; checked < p.frames.length && hit < 0; checked++) if (flagIsBlue(p.frames[checked]!.data, FLAG.x, FLAG.y) === blue) hit = checked;
        if (hit >= 0) {
          out.push(p.frames[hit]!.at - t0);
          break;
        }
        await sleep(2);
      }
      await sleep(150);
    }
    await p.close();
    return out;
  }

  /** New context + new page + goto + first screencast frame (ms). */
  async timeToFirstFrame(url: string): Promise<number> {
    const t0 = performance.now();
    const context = await this.launched.browser.createBrowserContext();
    const page = await context.newPage();
    const cdp = await page.createCDPSession();
    const first = new Promise<number>((resolve) => cdp.once('Page.screencastFrame', () => resolve(performance.now() - t0)));
    await cdp.send('Page.startScreencast', { format: 'jpeg', quality: this.quality, maxWidth: 1280, maxHeight: 720 });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const ms = await first;
    await context.close();
    return ms;
  }

  pids(): number[] {
    const pid = this.launched.browser.process()?.pid;
    return pid ? [pid] : [];
  }

  close(): Promise<void> {
    return this.launched.close();
  }
}
