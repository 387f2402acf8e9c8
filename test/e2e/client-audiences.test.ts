/**
 * The two audiences as people see them, in a real browser: on the demo bank's payment form the
 * customer types their card number and sees it in their own view while the agent's console shows
 * the same field as a solid mask. Screenshots of both, side by side, go to .tmp/screens (and to
 * docs/screenshots/ with SCREENSHOTS=1).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { MASK_COLOUR } from '../../server/browser/redaction/redaction-gate.ts';
import { startDemoSite, type DemoSite } from '../../server/demo/demo-site.ts';
import { startTestServer, type TestServer } from '../../harness/harness.ts';

// The documentation's copies are written only on request (SCREENSHOTS=1, as test/support/client-page.ts):
// a test run must not rewrite tracked files.
const SHOTS = join(import.meta.dirname, '..', '..', process.env.SCREENSHOTS === '1' ? 'docs/screenshots' : '.tmp/screens');
const VIEW = { width: 1280, height: 720 };

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixels of the session canvas inside a page-CSS-pixel rectangle: dark (text) and mask-coloured shares. */
async function inspect(page: Page, r: Rect): Promise<{ dark: number; mask: number; total: number }> {
  const [mr, mg, mb] = [1, 3, 5].map((i) => parseInt(MASK_COLOUR.slice(i, i + 2), 16));
  return page.$eval(
    '#screen',
    (c, r, m) => {
      const canvas = c as HTMLCanvasElement;
      const sx = canvas.width / 1280,
        sy = canvas.height / 720;
      const d = canvas.getContext('2d')!.getImageData(Math.round(r.x * sx), Math.round(r.y * sy), Math.max(1, Math.round(r.width * sx)), Math.max(1, Math.round(r.height * sy))).data;
      let dark = 0,
        mask = 0;
      for (let i = 0; i < d.length; i += 4) {
        const [R, G, B] = [d[i]!, d[i + 1]!, d[i + 2]!];
        if (R + G + B < 200) dark++;
        if (Math.abs(R - m[0]!) < 14 && Math.abs(G - m[1]!) < 14 && Math.abs(B - m[2]!) < 14) mask++;
      }
      return { dark, mask, total: d.length / 4 };
    },
    r,
    [mr, mg, mb],
  );
}

async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('both audiences in the web client', function () {
  this.timeout(90_000);
  let demo: DemoSite;
  let server: TestServer;
  let browser: LaunchedBrowser;

  before(async function () {
    mkdirSync(SHOTS, { recursive: true });
    demo = await startDemoSite();
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: new URL(demo.url).host });
    browser = await launchBrowser({ viewport: VIEW });
  });
  after(async function () {
    await browser?.close();
    await server?.close();
    await demo?.close();
  });

  it('shows the customer their card number as they type it, and the agent a solid mask in its place', async function () {
    // Where the card field is at the session's viewport (same page, same size, no Vitrine).
    const probe = await (await browser.browser.createBrowserContext()).newPage();
    await probe.setViewport(VIEW);
    await probe.goto(new URL('/pay', demo.url).href);
    const field = (await probe.$eval('#cardnumber', (el) => {
      const b = el.getBoundingClientRect();
      return { x: b.x, y: b.y, width: b.width, height: b.height };
    })) as Rect;
    await probe.browserContext().close();
    const inner = { x: field.x + 4, y: field.y + 4, width: field.width - 8, height: field.height - 8 };

    const agentCtx = await browser.browser.createBrowserContext();
    const customerCtx = await browser.browser.createBrowserContext();
    const agent = await agentCtx.newPage();
    await agent.setViewport({ width: 1400, height: 900 });
    await agent.goto(`${server.url}/agent#token=${await server.agentToken()}`);
    await agent.waitForSelector('body[data-state="signed-in"]');
    await agent.$eval('#url', (el, v) => ((el as HTMLInputElement).value = v), new URL('/pay', demo.url).href);
    await agent.click('#start');
    await agent.waitForFunction(() => (document.getElementById('customer-link') as HTMLInputElement).value.includes('/s/'));
    const link = await agent.$eval('#customer-link', (el) => (el as HTMLInputElement).value);

    const customer = await customerCtx.newPage();
    await customer.setViewport({ width: 1400, height: 900 });
    await customer.goto(link);
    await customer.waitForSelector('#consent:not([hidden])');
    await customer.click('#accept');
    await customer.waitForSelector('body[data-state="live"]');
    // Both views show the form: the agent's with the card field as a solid mask already.
    await until("the masked field in the agent's view", async () => (await inspect(agent, inner)).mask / (await inspect(agent, inner)).total > 0.9);

    // The customer clicks into the card field in their own view and types their number.
    const box = (await (await customer.$('#screen'))!.boundingBox())!;
    await customer.mouse.click(box.x + (box.width * (field.x + field.width / 2)) / 1280, box.y + (box.height * (field.y + field.height / 2)) / 720);
    await new Promise((r) => setTimeout(r, 300));
    await customer.keyboard.type('4242 4242 4242 4242', { delay: 40 });
    await until("the typed digits in the customer's view", async () => (await inspect(customer, inner)).dark > 150);
    await new Promise((r) => setTimeout(r, 500));

    const seen = await inspect(customer, inner);
    const masked = await inspect(agent, inner);
    expect(seen.dark, 'digit pixels the customer sees in the card field').to.be.greaterThan(150);
    expect(seen.mask / seen.total, "share of mask colour in the customer's card field").to.be.below(0.2);
    expect(masked.dark, "digit pixels in the agent's card field").to.equal(0);
    expect(masked.mask / masked.total, "share of mask colour in the agent's card field").to.be.above(0.9);

    await customer.screenshot({ path: join(SHOTS, 'pay-customer.png') });
    await agent.screenshot({ path: join(SHOTS, 'pay-agent.png') });
    // Side by side, for a person to look at.
    const sheet = await customerCtx.newPage();
    await sheet.setViewport({ width: 2000, height: 700 });
    const img = (f: string) => `data:image/png;base64,${readFileSync(join(SHOTS, f)).toString('base64')}`;
    await sheet.setContent(`<body style="margin:0;display:flex;gap:16px;background:#222;font:20px sans-serif;color:#fff">
      <figure style="margin:8px;flex:1"><figcaption>Customer: their own page</figcaption><img style="width:100%" src="${img('pay-customer.png')}"></figure>
      <figure style="margin:8px;flex:1"><figcaption>Agent: masked</figcaption><img style="width:100%" src="${img('pay-agent.png')}"></figure></body>`);
    await sheet.screenshot({ path: join(SHOTS, 'pay-both-audiences.png') });

    await customer.click('#end');
    await customer.waitForSelector('#confirm[open]');
    await customer.click('#confirm-ok');
    await agent.waitForSelector('body[data-state="ended"]');
    await agentCtx.close();
    await customerCtx.close();
  });
});
