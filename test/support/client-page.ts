/**
 * Helpers for driving the web client in a real browser: reading the shared page off the canvas,
 * waiting on the page, and screenshots of a state at the sizes people use.
 *
 * Screenshots: every call writes one at the page's current size into .tmp/screens. With
 * SCREENSHOTS=1 in the environment it also writes the state at phone (390×844), 1280×720 and
 * 1920×1080 into docs/screenshots/<state>-<size>.png, the set the documentation shows.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import type { Env } from '../../server/config.ts';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { near, serveFixtures, startTestServer, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const TMP_SHOTS = join(import.meta.dirname, '..', '..', '.tmp', 'screens');
const DOC_SHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

export const SCREEN_SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: '1280x720', width: 1280, height: 720 },
  { name: '1920x1080', width: 1920, height: 1080 },
] as const;

export async function shoot(page: Page, state: string): Promise<void> {
  mkdirSync(TMP_SHOTS, { recursive: true });
  await page.screenshot({ path: join(TMP_SHOTS, `${state}.png`) });
  if (process.env.SCREENSHOTS !== '1') return;
  mkdirSync(DOC_SHOTS, { recursive: true });
  const before = page.viewport();
  for (const size of SCREEN_SIZES) {
    await page.setViewport({ width: size.width, height: size.height });
    // The canvas refits on resize and repaints with the next frame; give both a moment.
    await new Promise((r) => setTimeout(r, 400));
    await page.screenshot({ path: join(DOC_SHOTS, `${state}-${size.name}.png`) });
  }
  if (before) await page.setViewport(before);
}

/**
 * One screenshot at the page's current size (a phone test's own device size): into .tmp/screens,
 * and into docs/screenshots/<file> only with SCREENSHOTS=1, so that a test run leaves the
 * documentation as it was.
 */
export async function docShot(page: Page, file: string): Promise<void> {
  mkdirSync(TMP_SHOTS, { recursive: true });
  await page.screenshot({ path: join(process.env.SCREENSHOTS === '1' ? DOC_SHOTS : TMP_SHOTS, file) as `${string}.png` });
}

/** Colour of the shared page at page CSS pixel (x, y) of a 1280×720 session, read from the canvas. */
export async function canvasColour(page: Page, x: number, y: number): Promise<[number, number, number]> {
  return page.$eval(
    '#screen',
    (c, x, y) => {
      const canvas = c as HTMLCanvasElement;
      if (!canvas.width) return [-1, -1, -1];
      const d = canvas.getContext('2d')!.getImageData(x, y, 1, 1).data;
      return [d[0]!, d[1]!, d[2]!];
    },
    x,
    y,
  ) as Promise<[number, number, number]>;
}

export async function waitColour(page: Page, x: number, y: number, rgb: [number, number, number], ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (near(await canvasColour(page, x, y), rgb)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`canvas never showed ${rgb} at ${x},${y}; last ${await canvasColour(page, x, y)}`);
}

/** Clicks the canvas at page CSS pixel (x, y) of a 1280×720 session, through its scaling. */
export async function clickPage(page: Page, x: number, y: number): Promise<void> {
  const box = (await (await page.$('#screen'))!.boundingBox())!;
  await page.mouse.click(box.x + (box.width * x) / 1280, box.y + (box.height * y) / 720);
}

export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const text = (page: Page, selector: string): Promise<string> => page.$eval(selector, (el) => el.textContent ?? '');
export const visible = (page: Page, selector: string): Promise<boolean> => page.$eval(selector, (el) => el.checkVisibility()).catch(() => false);
export const focused = (page: Page): Promise<string> => page.evaluate(() => document.activeElement?.id ?? '');

/** What the client-page tests share: a fixture site, a test server that may reach it, one browser. */
export interface ClientSuite {
  site: FixtureSite;
  server: TestServer;
  browser: LaunchedBrowser;
}

export async function startClientSuite(pages: Parameters<typeof serveFixtures>[0], env: Env = {}): Promise<ClientSuite> {
  const site = await serveFixtures(pages);
  const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, ...env });
  const browser = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  return { site, server, browser };
}

/** Closes what startClientSuite opened (and the test's socket clients), whatever of it got started. */
export async function stopClientSuite(s: Partial<ClientSuite>, clients: { close(): Promise<void> }[] = []): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
  await s.browser?.close();
  await s.server?.close();
  await s.site?.close();
}

/** The customer view in its own browser context, consent given and live (close the context after). */
export async function openCustomer(browser: Browser, link: string, size = { width: 1280, height: 720 }): Promise<{ page: Page; ctx: BrowserContext }> {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport(size);
  await page.goto(link);
  await page.waitForSelector('#consent:not([hidden])');
  await page.click('#accept');
  await page.waitForSelector('body[data-state="live"]');
  return { page, ctx };
}
