/**
 * The web client in a real browser: the agent console starts a session, the customer consents,
 * both canvases show the page, a click through the customer's canvas reaches the page, and
 * ending wipes both canvases. Screenshots land in .tmp/screens for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { BLUE, PAGES, WHITE } from '../support/fixture-pages.ts';
import { near, serveFixtures, startTestServer, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { waitColour } from '../support/client-page.ts';

const SHOTS = join(import.meta.dirname, '..', '..', '.tmp', 'screens');

describe('web client in a real browser', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;

  before(async function () {
    mkdirSync(SHOTS, { recursive: true });
    site = await serveFixtures(PAGES);
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    browser = await launchBrowser({ viewport: { width: 1400, height: 900 } });
  });
  after(async function () {
    await browser?.close();
    await server?.close();
    await site?.close();
  });

  it('lets an agent start a session and a customer consent, see and click the page, then end it', async function () {
    const agentCtx = await browser.browser.createBrowserContext();
    const customerCtx = await browser.browser.createBrowserContext();
    const agent = await agentCtx.newPage();
    await agent.setViewport({ width: 1400, height: 900 });
    await agent.goto(`${server.url}/agent#token=${await server.agentToken()}`);
    expect(agent.url()).to.not.include('token='); // stripped from the address bar
    await agent.waitForSelector('body[data-state="signed-in"]');
    await agent.$eval('#url', (el, v) => ((el as HTMLInputElement).value = v), `${site.url}/toggle`);
    await agent.click('#start');
    await agent.waitForFunction(() => (document.getElementById('customer-link') as HTMLInputElement).value.includes('/s/'));
    const link = await agent.$eval('#customer-link', (el) => (el as HTMLInputElement).value);
    await agent.screenshot({ path: join(SHOTS, 'agent-waiting.png') });

    const customer = await customerCtx.newPage();
    await customer.setViewport({ width: 1100, height: 760 });
    await customer.goto(link);
    await customer.waitForSelector('#consent:not([hidden])');
    expect(customer.url()).to.not.include('#'); // the invite left the address bar
    expect(await customer.$eval('#consent-url', (el) => el.textContent)).to.equal(`${site.url}/toggle`);
    expect(await customer.$eval('#consent-agents', (el) => el.textContent)).to.equal('Agent One');
    await customer.screenshot({ path: join(SHOTS, 'customer-consent.png') });
    await customer.click('#accept');
    await customer.waitForSelector('body[data-state="live"]');
    await waitColour(customer, 1000, 600, WHITE);
    await waitColour(agent, 1000, 600, WHITE);

    // Click through the scaled canvas: its page coordinates must map back exactly.
    const box = (await (await customer.$('#screen'))!.boundingBox())!;
    expect(box.width).to.be.lessThan(1280); // scaled down to fit the window
    await customer.mouse.click(box.x + box.width * (600 / 1280), box.y + box.height * (400 / 720));
    await waitColour(customer, 1000, 600, BLUE);
    await waitColour(agent, 1000, 600, BLUE);
    expect(await customer.$eval('#banner', (el) => el.textContent)).to.include('Agent One');
    await customer.screenshot({ path: join(SHOTS, 'customer-live.png') });
    await agent.screenshot({ path: join(SHOTS, 'agent-live.png') });

    await customer.click('#end');
    // Ending asks first (an accessible dialog, not window.confirm).
    await customer.waitForSelector('#confirm[open]');
    await customer.click('#confirm-ok');
    await customer.waitForSelector('body[data-state="ended"]');
    await agent.waitForSelector('body[data-state="ended"]');
    for (const p of [customer, agent]) {
      expect(await p.$eval('#screen', (c) => (c as HTMLCanvasElement).width)).to.equal(0);
      expect(await p.$eval('#status', (el) => el.textContent)).to.match(/Session ended/);
    }
    await customer.screenshot({ path: join(SHOTS, 'customer-ended.png') });
    await agentCtx.close();
    await customerCtx.close();
  });

  it('serves the client pages with a strict Content-Security-Policy and no inline script', async function () {
    const cleared = await fetch(`${server.url}/session-ended`, { method: 'POST' });
    expect(cleared.status).to.equal(204);
    expect(cleared.headers.get('clear-site-data')).to.equal('"cache", "storage"');
    for (const path of ['/', '/agent', '/s/abc', '/replay']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).to.equal(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("script-src 'self'");
      expect(csp).to.not.include('unsafe-inline');
      const html = await res.text();
      expect(html).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).to.not.match(/\sstyle=|<style/);
    }
  });
});

describe('auditor replay page in a real browser', function () {
  it('lists a recording and plays its frames', async function () {
    const { randomBytes } = await import('node:crypto');
    const { createOpenGate } = await import('../../server/browser/frame-gate.ts');
    const site = await serveFixtures(PAGES);
    const policies = {
      check: () => undefined,
      urlFilter: () => null,
      summary: () => ({ masked: [], record: true, retentionDays: 1 }),
      createGate: async () => createOpenGate({ name: 'recorded', version: 'r1' }),
    };
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_RECORDING_KEY: randomBytes(32).toString('base64') }, { policies });
    const browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    try {
      const { TestClient } = await import('../../harness/harness.ts');
      const { body } = await server.createSession(`${site.url}/red`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      const agent = await TestClient.join(server.url, body.id, body.agentToken);
      customer.send({ type: 'consent', accept: true });
      await agent.frameWhere((img) => near([img.data[(600 * img.width + 1000) * 4]!, img.data[(600 * img.width + 1000) * 4 + 1]!, img.data[(600 * img.width + 1000) * 4 + 2]!], [220, 0, 0]));
      customer.send({ type: 'end' });
      await agent.message('ended');
      const page = await (await browser.browser.createBrowserContext()).newPage();
      await page.goto(`${server.url}/replay`);
      await page.type('#token', await server.staffToken('aud', 'auditor'));
      await page.click('#signin');
      await page.waitForSelector('#recordings button');
      await page.click('#recordings button');
      await page.waitForSelector('#player:not([hidden])');
      await page.click('#play');
      await waitColour(page, 1000, 600, [220, 0, 0]);
      await page.screenshot({ path: join(SHOTS, 'replay.png') });
      const types = server.vitrine.audit.forSession(body.id).map((r) => r.type);
      expect(types).to.include('recording.stopped');
    } finally {
      await browser.close();
      await server.close();
      await site.close();
    }
  });
});
