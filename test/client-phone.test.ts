/**
 * Phones and tablets, first-class, in real Chromium on both sides: a customer on a phone
 * (390×844, touch, pixel ratio 3) gets the site's own mobile layout at the phone's size (the
 * session page is emulated as the device, under begin-frame control), scrolls by touch, types
 * through the hidden field that opens the phone's keyboard, and sees the whole consent button.
 * Only the customer's device decides: staff cannot change it. Agents see the phone's frame at
 * its real aspect ratio.
 */
import { expect } from 'chai';
import type { Page } from 'puppeteer';
import { launchBrowser, type LaunchedBrowser } from '../server/browser/launch.ts';
import { GREEN, WHITE } from './support/fixture-pages.ts';
import { canvasColour, shoot, until, waitColour } from './support/client-page.ts';
import { colourAt, decodeJpeg, near, serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from './support/harness.ts';

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

const PHONE = { width: 390, height: 844, deviceScaleFactor: 3, isMobile: true, hasTouch: true, isLandscape: false };

describe('a customer on a phone', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const clients: TestClient[] = [];

  before(async function () {
    site = await serveFixtures({ '/responsive': RESPONSIVE, '/form': FORM });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    browser = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await browser?.close();
    await server?.close();
    await site?.close();
  });

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
    await until('the page laid out at the phone size', () => /^w390 h700 touch1/.test(session.snapshot().title)).catch((e) => { throw new Error(e.message + ' ' + session.snapshot().title); });
    // Staff see the same device frame, masked, at its real shape.
    await agent.frameWhere((i) => i.width === 390 && i.height === 700);

    // Turning the phone: the latest size wins, bounded.
    for (const [w, h] of [[700, 390], [650, 390], [844, 390]]) customer.send({ type: 'device', device: { width: w, height: h, dpr: 3, touch: true, mobile: true } });
    await customer.frameWhere((i) => i.width === 844 && i.height === 390 && near(colourAt(i, 400, 200), WHITE), from);
    await until('landscape layout', () => /^w844 h390/.test(session.snapshot().title));
    // Input beyond the emulated viewport is refused like any other.
    customer.input({ kind: 'pointer', action: 'move', x: 900, y: 100 });
    expect((await customer.message('error', (m) => m.code === 'OUT_OF_VIEWPORT')).ref).to.equal('input');
    await customer.close();
    await agent.close();
  });
});
