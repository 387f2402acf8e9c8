/**
 * Consent comes only from a deliberate act, in a real browser: a customer typing into the shared
 * page while the agent asks for control (or proposes a page) keeps typing into the page, and
 * Space and Enter, pressed again and again, grant nothing; a click grants, and so does a key on
 * a button the customer moved to themselves. Ending asks first, on both sides, in an accessible
 * dialog (never window.confirm).
 */
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { GREEN, PAGES, RED, WHITE } from '../support/fixture-pages.ts';
import { clickPage, focused, shoot, text, until, visible, waitColour, startClientSuite, stopClientSuite } from '../support/client-page.ts';
import { sleep, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { ARM_MS, SETTLE_MS } from '../../client/src/deliberate.ts';
import { roundTrip } from '../support/waits.ts';

/** A note field; the page turns green once it holds exactly "ab", six spaces, six line breaks, "cd". */
const NOTES = `<!doctype html><html><head><meta charset="utf-8"><title>Notes</title></head>
<body style="margin:0;height:100vh;background:#fff"><textarea id="t" style="position:absolute;left:40px;top:40px;width:600px;height:200px;font-size:20px"></textarea>
<script>const t=document.getElementById('t');t.addEventListener('input',()=>{const v=t.value;const n=(c)=>v.split(c).length-1;
document.body.style.background=v.startsWith('ab')&&v.endsWith('cd')&&n(' ')===6&&n('\\n')===6?'rgb(0,160,0)':'#fff'});</script></body></html>`;

describe('deliberate consent in the web client', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const clients: TestClient[] = [];

  before(async function () {
    ({ site, server, browser } = await startClientSuite({ '/notes': NOTES, '/red': PAGES['/red'] }));
  });
  after(() => stopClientSuite({ site, server, browser }, clients));

  /** A live session on the notes page: the customer in the browser, the agent over a socket. */
  async function live(): Promise<{ page: Page; id: string; agent: TestClient; agentId: string; close(): Promise<void> }> {
    const { body } = await server.createSession(`${site.url}/notes`);
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    await page.goto(body.customerUrl);
    await page.waitForSelector('#consent:not([hidden])');
    await page.click('#accept');
    await page.waitForSelector('body[data-state="live"]');
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    const joined = agent.messages.find((m) => m.type === 'joined');
    await waitColour(page, 1000, 600, WHITE);
    return { page, id: body.id, agent, agentId: joined?.type === 'joined' ? joined.you : '', close: () => ctx.close() };
  }

  /** Space and Enter, six times each, spread over a second: inside and well past the arming time. */
  async function strayKeys(page: Page): Promise<void> {
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Space');
      await page.keyboard.press('Enter');
      await sleep(150);
    }
  }

  it('never grants control on a key press while the customer types; a click on Grant control does', async function () {
    const { page, id, agent, agentId, close } = await live();
    const session = server.vitrine.registry.get(id)!;
    await clickPage(page, 200, 100); // into the note field of the shared page
    expect(await focused(page)).to.equal('screen');
    await page.keyboard.type('ab', { delay: 30 });

    agent.send({ type: 'control/request' });
    await page.waitForSelector('#control-prompt:not([hidden])');
    await strayKeys(page);
    await page.keyboard.type('cd', { delay: 30 });
    // Every one of those keys reached the page: the note holds ab, 6 spaces, 6 line breaks, cd.
    // The client sends a grant on the socket its keys go by, so the server had read any grant a
    // stray key made before the last key; a state it sent the agent then is in after a round trip.
    await waitColour(page, 1000, 600, GREEN);
    await roundTrip(agent);
    expect(session.snapshot().control, 'control after Space and Enter').to.equal(null);
    expect(agent.messages.some((m) => m.type === 'state' && m.snapshot.control !== null)).to.equal(false);
    expect(await focused(page), 'focus with the request shown').to.equal('screen');
    await until('the request announced to assistive technology', async () => /Agent One asks to control the page/.test(await text(page, '#announce')));
    expect(await page.$eval('#announce', (el) => el.getAttribute('aria-live'))).to.equal('assertive');
    expect(await visible(page, '#control-prompt'), 'the request is still waiting for an answer').to.equal(true);
    expect(await focused(page)).to.equal('screen');
    await shoot(page, 'customer-control-request');

    await page.click('#control-accept');
    await until('control granted by the click', () => session.snapshot().control === agentId);
    await agent.message('state', (m) => m.snapshot.control === agentId);
    await close();
  });

  it('grants by keyboard once the customer has moved to Grant control themselves', async function () {
    const { page, id, agent, agentId, close } = await live();
    const session = server.vitrine.registry.get(id)!;
    agent.send({ type: 'control/request' });
    await page.waitForSelector('#control-prompt:not([hidden])');
    // From the address bar, Tab walks to the request's buttons: a move the customer chose.
    await page.click('#address');
    for (let i = 0; i < 8 && (await focused(page)) !== 'control-accept'; i++) await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('control-accept');
    // deliberate.ts: a key counts ARM_MS after the request appeared and SETTLE_MS after the focus
    // came to the button; the focus came after the request, so both have passed after this.
    await sleep(Math.max(ARM_MS, SETTLE_MS) + 100);
    await page.keyboard.press('Enter');
    await until('control granted by Enter on a chosen button', () => session.snapshot().control === agentId);
    await close();
  });

  it('never opens a proposed page on a key press; a click on Approve does', async function () {
    const { page, id, agent, close } = await live();
    const session = server.vitrine.registry.get(id)!;
    await clickPage(page, 200, 100);
    await page.keyboard.type('ab', { delay: 30 });
    agent.send({ type: 'navigate/propose', url: `${site.url}/red` });
    await page.waitForSelector('#nav-prompt:not([hidden])');
    await strayKeys(page);
    await page.keyboard.type('cd', { delay: 30 });
    // Every key reached the page (the note is complete): an answer a stray key sent before the
    // last one, on the same socket, had been read by then.
    await waitColour(page, 1000, 600, GREEN);
    expect(session.snapshot().pendingNavigation, 'the proposal after Space and Enter').to.not.equal(null);
    expect(session.snapshot().url).to.include('/notes');
    expect(await focused(page)).to.equal('screen');
    await until('the proposal announced', async () => /proposes to open/.test(await text(page, '#announce')));
    await shoot(page, 'customer-nav-proposal');

    await page.click('#nav-approve');
    await waitColour(page, 1000, 600, RED);
    expect(session.snapshot().url).to.include('/red');
    await close();
  });

  it('asks before ending, in the customer view and in the agent console, with an accessible dialog', async function () {
    const { page, id, close } = await live();
    const native: string[] = [];
    page.on('dialog', (d) => {
      native.push(d.type());
      void d.dismiss();
    });
    const session = server.vitrine.registry.get(id)!;
    await page.click('#end');
    await page.waitForSelector('#confirm[open]');
    expect(await focused(page), 'the safe answer has focus').to.equal('confirm-cancel');
    expect(await text(page, '#confirm-title')).to.equal('End the session?');
    expect(await page.$eval('#confirm', (d) => document.getElementById(d.getAttribute('aria-labelledby') ?? '')?.textContent)).to.equal('End the session?');
    await shoot(page, 'customer-end-confirm');
    // A stray Enter keeps the session; so do Escape and the cancel button.
    await page.keyboard.press('Enter');
    await until('the dialog closed', async () => !(await page.$('#confirm[open]')));
    expect(session.state).to.equal('live');
    expect(await focused(page), 'focus back on End session').to.equal('end');
    await page.click('#end');
    await page.waitForSelector('#confirm[open]');
    await page.keyboard.press('Escape');
    await until('the dialog closed', async () => !(await page.$('#confirm[open]')));
    expect(session.state).to.equal('live');
    await page.click('#end');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('body[data-state="ended"]');
    expect(await text(page, '#status')).to.equal('Session ended: you ended it.');
    expect(native, 'native dialogs').to.deep.equal([]);
    await close();

    // The agent console, with a session it started.
    const ctx = await browser.browser.createBrowserContext();
    const agent = await ctx.newPage();
    agent.on('dialog', (d) => {
      native.push(d.type());
      void d.dismiss();
    });
    await agent.setViewport({ width: 1280, height: 720 });
    await agent.goto(`${server.url}/agent#token=${await server.agentToken()}`);
    await agent.waitForSelector('body[data-state="signed-in"]');
    await agent.$eval('#url', (el, v) => ((el as HTMLInputElement).value = v), `${site.url}/notes`);
    await agent.click('#start');
    await agent.waitForFunction(() => (document.getElementById('customer-link') as HTMLInputElement).value.includes('/s/'));
    const link = await agent.$eval('#customer-link', (el) => (el as HTMLInputElement).value);
    const started = server.vitrine.registry.get(decodeURIComponent(new URL(link).pathname.split('/')[2]!))!;
    await agent.click('#end');
    await agent.waitForSelector('#confirm[open]');
    expect(await focused(agent)).to.equal('confirm-cancel');
    await shoot(agent, 'agent-end-confirm');
    await agent.click('#confirm-cancel');
    await until('the dialog closed', async () => !(await agent.$('#confirm[open]')));
    expect(started.state, 'after Continue session').to.equal('waiting');
    await agent.click('#end');
    await agent.waitForSelector('#confirm[open]');
    await agent.click('#confirm-ok');
    await agent.waitForSelector('body[data-state="ended"]');
    expect(started.state).to.equal('ended');
    expect(native, 'native dialogs').to.deep.equal([]);
    await ctx.close();
  });
});
