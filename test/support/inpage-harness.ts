/**
 * Drives the in-page redaction script on its own, in real Chromium, without a Vitrine server:
 * the script text is built exactly as RedactionGate's constructor builds it, installed with
 * evaluateOnNewDocument, and pages are judged by their own pixels (the rule of ./pixels.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { compilePolicy, mergeSections, type CompiledPolicy } from '../../server/policy/engine.ts';
import { ibanValid, luhnValid } from '../../server/policy/patterns.ts';
import { PolicyStore } from '../../server/policy/store.ts';
import { DIGIT_ZEROS } from '../../server/policy/unicode-digits.ts';
import { MASK_COLOUR } from '../../server/browser/redaction/redaction-gate.ts';
import { countPixels } from './pixels.ts';

const INPAGE = readFileSync(join(import.meta.dirname, '../../server/browser/redaction/inpage.js'), 'utf8').trim();
export const MARK = 'data-vitrine-masked';

export interface InpageScript {
  script: string;
  key: string;
  token: string;
}

/** The script as RedactionGate ships it, for the repository's policy `name` (default: default). */
export function inpageScript(name = 'default'): InpageScript {
  const compiled: CompiledPolicy = compilePolicy(PolicyStore.load(join(import.meta.dirname, '../../policies')).require(name));
  const key = `__vitrine_${randomBytes(9).toString('base64url').replace(/[-]/g, '_')}`;
  const token = randomBytes(18).toString('base64url');
  const binding = `__vitrine_bell_${randomBytes(9).toString('hex')}`;
  const cfg = { key, compiled, colour: MASK_COLOUR, token, binding, digitZeros: DIGIT_ZEROS };
  return { key, token, script: `${INPAGE}(${JSON.stringify(cfg)}, ${mergeSections.toString()}, ${luhnValid.toString()}, ${ibanValid.toString()});` };
}

/** A fresh incognito page, with the script installed before any page script when given. */
export async function openPage(browser: Browser, url: string, s: InpageScript | null): Promise<Page> {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  if (s) await page.evaluateOnNewDocument(s.script);
  await page.goto(url, { waitUntil: 'load' });
  await settle(page);
  return page;
}

/** Two animation frames: mutation callbacks, style and paint have all run. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

/** Secret and control pixel counts of the viewport, or of one element's box. */
export async function pixels(page: Page, selector?: string): Promise<{ secret: number; control: number }> {
  let clip: { x: number; y: number; width: number; height: number } | undefined;
  if (selector) {
    const box = await page.$eval(selector, (el) => {
      const b = el.getBoundingClientRect();
      return { x: b.left, y: b.top, width: b.width, height: b.height };
    });
    if (box.width < 1 || box.height < 1) throw new Error(`${selector} has no box`);
    clip = box;
  }
  const shot = await page.screenshot({ type: 'jpeg', quality: 92, ...(clip ? { clip } : {}) });
  return countPixels(shot);
}

/** Does the element itself carry the pattern mark? */
export async function marked(page: Page, selector: string): Promise<boolean> {
  return page.$eval(selector, (el, m) => el.hasAttribute(m), MARK);
}

/** Calls the document's probe, as the server does once per capture tick. */
export async function probe(page: Page, s: InpageScript): Promise<unknown> {
  return page.evaluate((k, t) => (window as unknown as Record<string, { probe(t: string): unknown }>)[k]!.probe(t), s.key, s.token);
}
