/**
 * Phones and tablets, first-class, in real Chromium on both sides: a customer on a phone
 * (390×844, touch, pixel ratio 3) gets the site's own mobile layout at the phone's size (the
 * session page is emulated as the device, under begin-frame control), scrolls by touch, types
 * through the hidden field that opens the phone's keyboard, and sees the whole consent button.
 * Only the customer's device decides: staff cannot change it. Agents see the phone's frame at
 * its real aspect ratio.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { GREEN, WHITE } from '../support/fixture-pages.ts';
import { docShot, until, waitColour, startClientSuite, stopClientSuite } from '../support/client-page.ts';
import { colourAt, near, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

/** Green when laid out for a narrow (phone) viewport, white on a desktop one; the title says the width. */
const RESPONSIVE = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Responsive</title><style>html,body{margin:0;background:#fff}@media (max-width:600px){body{background:rgb(0,160,0)}}
.tall{height:4000px}</style></head><body><div class="tall"></div>
<script>const t=()=>{document.title='w'+innerWidth+' h'+innerHeight+' touch'+(navigator.maxTouchPoints>0?1:0)+' y'+Math.round(scrollY)};t();addEventListener('resize',t);addEventListener('scroll',t);setInterval(t,200);</script></body></html>`;

/** A field near the top; the page turns green once it holds exactly "hello" and Enter was pressed. */
const FORM = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Form</title>
<style>html,body{margin:0;height:100%;background:#fff}input{position:absolute;left:20px;top:40px;width:300px;height:48px;font-size:20px}</style></head>
<body><form id="f"><input id="t" autocomplete="off"></form>
<script>const t=document.getElementById('t');let entered=false;
document.getElementById('f').addEventListener('submit',(e)=>{e.preventDefault();entered=true;u()});
const u=()=>{document.title='v:'+t.value+(entered?' entered':'');document.body.style.background=t.value==='hello'&&entered?'rgb(0,160,0)':'#fff'};
t.addEventListener('input',u);u();</script></body></html>`;

/** Listens to touch only (no mouse handlers): the title lists the events seen, and the scroll. */
const TOUCH_ONLY = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>touch</title>
<style>html,body{margin:0;background:#fff}.tall{height:4000px}</style></head><body><div class="tall"></div>
<script>const seen=new Set();const t=()=>{document.title='ev:'+[...seen].sort().join(',')+' y'+Math.round(scrollY)};
for(const k of ['touchstart','touchmove','touchend']) document.addEventListener(k,()=>{seen.add(k);t()},{passive:true});
document.addEventListener('click',()=>{seen.add('click');t()});addEventListener('scroll',t);t();</script></body></html>`;

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core in the page (over DevTools: the strict CSP stays); no serious or critical violation. */
async function axe(page: Page, state: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(() =>
    (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }, resultTypes: ['violations'] })
      .then((r) => r.violations),
  );
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `axe in state ${state}`,
  ).to.deep.equal([]);
}

const PHONE = { width: 390, height: 844, deviceScaleFactor: 3, isMobile: true, hasTouch: true, isLandscape: false };

describe('a customer on a phone', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const clients: TestClient[] = [];

  before(async function () {
    ({ site, server, browser } = await startClientSuite({ '/responsive': RESPONSIVE, '/form': FORM, '/touch': TOUCH_ONLY }));
  });
  after(() => stopClientSuite({ site, server, browser }, clients));

  it('the session page is emulated as the device the customer sends, and only the customer may send it', async function () {
    const { body } = await server.createSession(`${site.url}/responsive`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    clients.push(customer);
    customer.send({ type: 'consent', accept: true });
    await customer.message('state', (m) => m.snapshot.state === 'live');
    const session = server.vitrine.registry.get(body.id)!;
    await customer.frameWhere((img) => img.width === 1280 && near(colourAt(img, 640, 400), WHITE));

    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    agent.send({ type: 'device', device: { width: 390, height: 700, dpr: 3, touch: true, mobile: true } });
    const refused = await agent.message('error', (m) => m.ref === 'device');
    expect(refused.code).to.equal('NOT_CUSTOMER');
    customer.send({ type: 'device', device: { width: 100000, height: 700, dpr: 3, touch: true, mobile: true } });
    expect((await customer.message('error', (m) => m.ref === 'device')).code).to.equal('BAD_MESSAGE');
    expect(session.viewport).to.deep.equal({ width: 1280, height: 720 });

    const from = customer.frames.length;
    customer.send({ type: 'device', device: { width: 390, height: 700, dpr: 3, touch: true, mobile: true } });
    const img = await customer.frameWhere((i) => i.width === 390 && near(colourAt(i, 200, 350), GREEN), from);
    expect(img.height).to.equal(700);
    const last = customer.frames.at(-1)!;
    expect(last.header.viewport).to.deep.equal({ width: 390, height: 700 });
    expect(session.viewport).to.deep.equal({ width: 390, height: 700 });
    await until('the page laid out at the phone size', () => /^w390 h700 touch1/.test(session.snapshot().title)).catch((e) => {
      throw new Error(e.message + ' ' + session.snapshot().title);
    });
    // Staff see the same device frame, masked, at its real shape.
    await agent.frameWhere((i) => i.width === 390 && i.height === 700);

    // Turning the phone: the latest size wins, bounded.
    for (const [w, h] of [
      [700, 390],
      [650, 390],
      [844, 390],
    ])
      customer.send({ type: 'device', device: { width: w, height: h, dpr: 3, touch: true, mobile: true } });
    await customer.frameWhere((i) => i.width === 844 && i.height === 390 && near(colourAt(i, 400, 200), WHITE), from);
    await until('landscape layout', () => /^w844 h390/.test(session.snapshot().title));
    // Input beyond the emulated viewport is refused like any other.
    customer.input({ kind: 'pointer', action: 'move', x: 900, y: 100 });
    expect((await customer.message('error', (m) => m.code === 'OUT_OF_VIEWPORT')).ref).to.equal('input');
    await customer.close();
    await agent.close();
  });

  /** A phone customer in real Chromium (390×844, touch, pixel ratio 3) on `path`, live. */
  async function phoneCustomer(path: string, shots?: string, link?: string): Promise<{ page: Page; id: string; close(): Promise<void> }> {
    const body = link ? { customerUrl: link, id: decodeURIComponent(new URL(link).pathname.split('/')[2]!) } : (await server.createSession(`${site.url}${path}`)).body;
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport(PHONE);
    await page.goto(body.customerUrl);
    await page.waitForSelector('#consent:not([hidden])');
    await page.waitForFunction(() => document.body.classList.contains('touch-device'));
    // The whole consent button is on screen and nothing of its label is cut.
    const accept = await page.$eval('#accept', (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, clipped: el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1, w: innerWidth, h: innerHeight };
    });
    expect(accept.left, 'accept left').to.be.at.least(0);
    expect(accept.right, 'accept right').to.be.at.most(accept.w);
    expect(accept.top, 'accept top').to.be.at.least(0);
    expect(accept.bottom, 'accept bottom').to.be.at.most(accept.h);
    expect(accept.clipped, 'accept label clipped').to.equal(false);
    if (shots) await docShot(page, `${shots}-consent-phone.png`);
    await page.tap('#accept');
    await page.waitForSelector('body[data-state="live"]');
    return { page, id: body.id, close: () => ctx.close() };
  }

  it("gets the mobile layout at the phone's size and scrolls by touch", async function () {
    const { page, id, close } = await phoneCustomer('/responsive', 'customer-phone');
    const session = server.vitrine.registry.get(id)!;
    // The page fills the space under the one compact bar, at one CSS pixel per CSS pixel.
    const stage = await page.$eval('main.stage', (el) => ({ w: Math.floor(el.getBoundingClientRect().width + 0.01), h: Math.floor(el.getBoundingClientRect().height + 0.01) }));
    expect(stage.w).to.equal(390);
    expect(stage.h, 'the compact bar leaves most of the screen to the page').to.be.above(760);
    await until('the session page emulated as the phone', () => session.viewport.width === 390 && session.viewport.height === stage.h);
    await until('the page laid out for the phone', () => new RegExp(`^w390 h${stage.h} touch1 y0`).test(session.snapshot().title));
    await waitColour(page, 200, 400, GREEN);
    expect(await page.$eval('#screen', (c) => ({ w: (c as HTMLCanvasElement).width, css: c.getBoundingClientRect().width }))).to.deep.equal({ w: 390, css: 390 });
    await docShot(page, 'customer-phone-live-phone.png');

    // One finger up the screen scrolls the page down.
    const box = (await (await page.$('#screen'))!.boundingBox())!;
    const x = box.x + 200;
    await page.touchscreen.touchStart(x, box.y + 600);
    for (let i = 1; i <= 10; i++) await page.touchscreen.touchMove(x, box.y + 600 - i * 40);
    await page.touchscreen.touchEnd();
    await until('the page scrolled by touch', () => {
      const m = /y(\d+)$/.exec(session.snapshot().title);
      return !!m && Number(m[1]) >= 300;
    });

    // The menu unfolds the rest of the bars, and the page keeps its size meanwhile.
    await page.tap('#bars-toggle');
    await page.waitForSelector('body.bars-open');
    expect(await page.$eval('#address', (el) => el.checkVisibility())).to.equal(true);
    await axe(page, 'phone, menu open');
    await docShot(page, 'customer-phone-menu-phone.png');
    await new Promise((r) => setTimeout(r, 600));
    expect(session.viewport.height).to.equal(stage.h);
    await page.tap('#bars-toggle');
    await close();
  });

  it('opens the phone keyboard on a field of the page, and what is typed reaches the page', async function () {
    // The agent console starts the session and watches the phone customer.
    const agentCtx = await browser.browser.createBrowserContext();
    const agent = await agentCtx.newPage();
    await agent.setViewport({ width: 1280, height: 720 });
    await agent.goto(`${server.url}/agent#token=${await server.agentToken()}`);
    await agent.waitForSelector('body[data-state="signed-in"]');
    await agent.$eval('#url', (el, v) => ((el as HTMLInputElement).value = v), `${site.url}/form`);
    await agent.click('#start');
    await agent.waitForFunction(() => (document.getElementById('customer-link') as HTMLInputElement).value.includes('/s/'));
    const link = await agent.$eval('#customer-link', (el) => (el as HTMLInputElement).value);
    const { page, id, close } = await phoneCustomer('/form', undefined, link);
    const session = server.vitrine.registry.get(id)!;
    await until('the phone layout', () => session.viewport.width === 390);

    await waitColour(page, 200, 300, WHITE);
    const box = (await (await page.$('#screen'))!.boundingBox())!;
    // A tap on the page's field (page CSS 20..320 × 40..88).
    await page.touchscreen.tap(box.x + 150, box.y + 64);
    await until('the hidden field focused for the keyboard', async () => (await page.evaluate(() => document.activeElement?.id)) === 'softkey');
    await page.keyboard.type('helo', { delay: 30 });
    await page.keyboard.press('Backspace');
    await page.keyboard.type('lo', { delay: 30 });
    // IME: a composed word arrives when it is committed.
    await page.$eval('#softkey', (el) => {
      el.dispatchEvent(new CompositionEvent('compositionstart', { data: '' }));
      el.dispatchEvent(new CompositionEvent('compositionend', { data: '' }));
    });
    await until('typed text in the page', () => session.snapshot().title === 'v:hello');
    expect(await page.$eval('#softkey', (el) => (el as HTMLTextAreaElement).value), 'nothing stays in the hidden field').to.equal('');
    await page.keyboard.press('Enter');
    await until('Enter submitted the form', () => session.snapshot().title === 'v:hello entered');
    await waitColour(page, 200, 300, GREEN);
    await docShot(page, 'customer-phone-typing-phone.png');
    // The hidden field loses focus (the phone closed its keyboard): the Keyboard button offers it again.
    await page.$eval('#softkey', (el) => (el as HTMLTextAreaElement).blur());
    await page.waitForSelector('#softkey-open:not([hidden])');
    await axe(page, 'phone, keyboard button');
    await docShot(page, 'customer-phone-keyboard-button-phone.png');
    {
      const shape = await agent
        .waitForFunction(
          () => {
            const c = document.getElementById('screen') as HTMLCanvasElement | null;
            if (!c || c.width !== 390) return null;
            const r = c.getBoundingClientRect();
            return { w: r.width, h: r.height, cw: c.width, ch: c.height };
          },
          { timeout: 20_000 },
        )
        .then((h) => h.jsonValue())
        .catch(() => null);
      expect(shape, 'the agent sees the phone frame').to.not.equal(null);
      if (shape) expect(Math.abs(shape.w / shape.h - shape.cw / shape.ch), "agent view keeps the phone's aspect ratio").to.be.below(0.02);
      await agent.setViewport({ width: 390, height: 844 });
      await new Promise((r) => setTimeout(r, 500));
      await docShot(agent, 'agent-phone-customer-phone.png');
      await agent.setViewport({ width: 1280, height: 720 });
      await new Promise((r) => setTimeout(r, 500));
      await docShot(agent, 'agent-phone-customer-1280x720.png');
    }
    await agentCtx.close();
    await close();
  });

  it('sends taps and drags to a touch-only page as real touch; staff without control cannot send touch, nor anyone to a desktop page', async function () {
    const { body } = await server.createSession(`${site.url}/touch`);
    const { page, close } = await phoneCustomer('/touch', undefined, body.customerUrl);
    const session = server.vitrine.registry.get(body.id)!;
    await until('the phone layout', () => session.viewport.width === 390);
    await until('the page listening', () => session.snapshot().title.startsWith('ev:'));
    const title = () => session.snapshot().title;
    // The phone's picture is on screen (taps map onto it).
    await page.waitForFunction(() => (document.getElementById('screen') as HTMLCanvasElement).width === 390);
    await waitColour(page, 200, 300, WHITE);
    const box = (await (await page.$('#screen'))!.boundingBox())!;
    // A tap: the page's touch handlers run, and Chromium makes the click of the tap itself.
    await page.touchscreen.tap(box.x + 150, box.y + 200);
    await until('touchstart and touchend reached the page', () => /ev:\S*touchend/.test(title()) && /ev:\S*touchstart/.test(title()));
    await until('Chromium made the click of the tap', () => /ev:\S*click/.test(title()));
    expect(title()).to.not.match(/touchmove/);
    // A drag is touch too, and scrolls the page natively.
    await page.touchscreen.touchStart(box.x + 200, box.y + 600);
    for (let i = 1; i <= 10; i++) await page.touchscreen.touchMove(box.x + 200, box.y + 600 - i * 40);
    await page.touchscreen.touchEnd();
    await until(`touch moves reached the page and it scrolled (${title()})`, () => {
      const m = /ev:(\S*) y(\d+)$/.exec(title());
      return !!m && m[1]!.includes('touchmove') && Number(m[2]) >= 200;
    });

    // Staff: touch is input, and input needs control; the schema bounds the fingers.
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    agent.input({ kind: 'touch', action: 'start', points: [{ x: 100, y: 100, id: 0 }] });
    expect((await agent.message('error', (m) => m.ref === 'input')).code).to.equal('CONTROL_NOT_GRANTED');
    agent.input({ kind: 'touch', action: 'start', points: Array.from({ length: 6 }, (_, id) => ({ x: 10, y: 10, id })) });
    expect((await agent.next('error', (m) => m.ref === 'input')).code).to.equal('BAD_MESSAGE');
    await agent.close();
    await close();

    // A desktop page (no touch emulation) takes no touch, from the customer either; a point off the page is refused.
    const desk = await server.createSession(`${site.url}/touch`);
    const customer = await TestClient.join(server.url, desk.body.id, desk.body.customerToken);
    clients.push(customer);
    customer.send({ type: 'consent', accept: true });
    await customer.message('state', (m) => m.snapshot.state === 'live');
    customer.input({ kind: 'touch', action: 'start', points: [{ x: 100, y: 100, id: 0 }] });
    expect((await customer.message('error', (m) => m.ref === 'input')).code).to.equal('FORBIDDEN');
    customer.send({ type: 'device', device: { width: 390, height: 700, dpr: 3, touch: true, mobile: true } });
    // The new size applies first (pictures and the viewport check follow it at once), touch a
    // moment later: a touch sent in between is refused as on a desktop page.
    await until('emulated as a phone, touch included', () => {
      const s = server.vitrine.registry.get(desk.body.id)!;
      return s.viewport.width === 390 && s.page.touchEmulated;
    });
    customer.input({ kind: 'touch', action: 'start', points: [{ x: 500, y: 100, id: 0 }] });
    expect((await customer.next('error', (m) => m.ref === 'input')).code).to.equal('OUT_OF_VIEWPORT');
    await customer.close();
  });

  it("keeps the agent's pointer on its spot of the page while the customer pinch-zooms the view", async function () {
    const { body } = await server.createSession(`${site.url}/responsive`);
    const { page, close } = await phoneCustomer('/responsive', undefined, body.customerUrl);
    const session = server.vitrine.registry.get(body.id)!;
    await until('the phone layout', () => session.viewport.width === 390);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    agent.send({ type: 'presence', presence: { kind: 'pointer', x: 100, y: 200 } });
    await page.waitForFunction(() => (document.getElementById('screen') as HTMLCanvasElement).width === 390);
    const rects = () =>
      page.evaluate(
        () =>
          Object.fromEntries(
            ['screen', 'presence-layer'].map((id) => {
              const b = document.getElementById(id)!.getBoundingClientRect();
              return [id === 'screen' ? 'screen' : 'layer', { x: b.x, y: b.y, w: b.width, h: b.height }];
            }),
          ) as Record<'screen' | 'layer', { x: number; y: number; w: number; h: number }>,
      );
    const before = await rects();
    // Two fingers spread apart over the view (real touch events on the customer's page).
    const cdp = await page.createCDPSession();
    const { x, y } = before.screen;
    const at = (d: number) => [
      { x: x + 195 - d, y: y + 300, id: 0 },
      { x: x + 195 + d, y: y + 300, id: 1 },
    ];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(40) });
    for (let d = 50; d <= 120; d += 10) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(d) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.waitForSelector('#screen.zoomed');
    await until('the overlay follows the zoomed picture', async () => {
      const r = await rects();
      return (
        r.screen.w > before.screen.w * 1.5 &&
        Math.abs(r.layer.x - r.screen.x) < 1 &&
        Math.abs(r.layer.y - r.screen.y) < 1 &&
        Math.abs(r.layer.w - r.screen.w) < 1 &&
        Math.abs(r.layer.h - r.screen.h) < 1
      );
    });
    await docShot(page, 'customer-phone-zoomed-pointer-phone.png');
    await agent.close();
    await close();
  });

  it('shows the join code of a customer-started session on a phone without serious axe violations', async function () {
    const { body } = await server.createSession(`${site.url}/responsive`);
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport(PHONE);
    await page.goto(`${body.customerUrl}&join=123456&until=${Date.now() + 600_000}`);
    await page.waitForSelector('#join-box:not([hidden])');
    await page.waitForFunction(() => document.body.classList.contains('touch-device'));
    expect(await page.$eval('#join-code', (el) => el.textContent)).to.equal('123 456');
    await axe(page, 'phone, join code');
    await docShot(page, 'customer-phone-join-code-phone.png');
    await ctx.close();
  });
});
