/**
 * What the customer reads, in a real browser: a spent link says it was used (whether or not its
 * customer is still connected) and offers no Reconnect; an expired link says it expired; the
 * consent screen names the site by its host name and the company from settings, neutral when
 * none is set; notices are plain words (no role names in parentheses, no policy versions); and
 * notifications keep their history, newest first.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { KEPT_NOTES } from '../../client/src/dom.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { shoot, text, until, visible } from '../support/client-page.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const SITE_NAME = 'www.bank.example.test';

describe('customer-facing words in the web client', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  let siteUrl: string;
  const clients: TestClient[] = [];
  const join = async (id: string, token: string) => {
    const c = await TestClient.join(server.url, id, token);
    clients.push(c);
    return c;
  };

  before(async function () {
    site = await serveFixtures(PAGES);
    const port = new URL(site.url).port;
    siteUrl = `http://${SITE_NAME}:${port}`;
    // The site under a real-looking name (resolved to loopback), as customers meet it.
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: `${SITE_NAME}:${port}` }, { resolver: async (h) => (h === SITE_NAME ? ['127.0.0.1'] : Promise.reject(new Error('ENOTFOUND'))) });
    browser = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await browser?.close();
    await server?.close();
    await site?.close();
  });

  async function open(b: Browser, url: string): Promise<{ page: Page; close(): Promise<void> }> {
    const ctx = await b.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    await page.goto(url);
    return { page, close: () => ctx.close() };
  }

  /** What the page says about a link that cannot be used, once it has given up. */
  async function refusedLink(url: string, state: string | null): Promise<{ overlay: string; banner: string; reconnect: boolean; close(): Promise<void> }> {
    const { page, close } = await open(browser.browser, url);
    await page.waitForSelector('body[data-connection="refused"]');
    const result = { overlay: await text(page, '#overlay-text'), banner: await text(page, '#banner'), reconnect: await visible(page, '#reconnect'), close };
    expect(await text(page, '#log'), 'notifications on a refused link').to.not.match(/Refused|BAD_TOKEN|invite/);
    if (state) await shoot(page, state);
    return result;
  }

  it('says a used link was already used, with no Reconnect, whether or not its customer is still here', async function () {
    const { body } = await server.createSession(`${siteUrl}/green`);
    const customer = await join(body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.message('state', (m) => m.snapshot.state === 'live');
    const USED = 'This link was already used. Ask your agent for a new one.';
    const present = await refusedLink(body.customerUrl, 'customer-link-used');
    expect(present).to.include({ overlay: USED, banner: 'Link already used', reconnect: false });
    await present.close();
    await customer.close();
    const absent = await refusedLink(body.customerUrl, null);
    expect(absent).to.include({ overlay: USED, banner: 'Link already used', reconnect: false });
    await absent.close();
    await server.vitrine.registry.end(body.id, 'deleted');
  });

  it('says an expired link has expired, whether its session still waits or is gone', async function () {
    const { body } = await server.createSession(`${siteUrl}/green`);
    // The link as the customer holds it once its time is up (the session expires with its invite).
    const expired = await server.vitrine.tokens.mint({ sid: body.id, role: 'customer', kind: 'invite', sub: `customer:${body.id}`, name: 'Customer' }, Date.now() - 120_000);
    const url = `${server.url}/s/${body.id}#${expired.token}`;
    const EXPIRED = 'This link has expired. Ask your agent for a new one.';
    const waiting = await refusedLink(url, 'customer-link-expired');
    expect(waiting).to.include({ overlay: EXPIRED, banner: 'Link expired', reconnect: false });
    await waiting.close();
    await server.vitrine.registry.end(body.id, 'expired');
    const gone = await refusedLink(url, null);
    expect(gone).to.include({ overlay: EXPIRED, banner: 'Link expired', reconnect: false });
    await gone.close();
  });

  it('names the site by host and a neutral team on consent, speaks plainly, and keeps notifications newest first', async function () {
    const { body } = await server.createSession(`${siteUrl}/green`);
    const { page, close } = await open(browser.browser, body.customerUrl);
    await page.waitForSelector('#consent:not([hidden])');
    const port = new URL(site.url).port;
    expect(await text(page, '#consent-site'), 'the site as its main name').to.equal(`bank.example.test:${port}`);
    expect(await text(page, '#consent-title')).to.equal('Share this page with our support team?');
    expect(await text(page, '#consent-ask')).to.equal('Agent One from our support team asks to see this page with you:');
    expect(await page.$eval('#consent-dialog', (el) => el.textContent)).to.not.match(/Vitrine/);
    expect(await page.evaluate(() => document.activeElement?.id), 'nothing pre-focused to accept').to.equal('consent-dialog');
    await shoot(page, 'customer-consent');
    await page.click('#accept');
    await page.waitForSelector('body[data-state="live"]');

    await join(body.id, body.agentToken);
    const res = await fetch(`${server.url}/api/sessions/${body.id}/observers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.staffToken('sup-1', 'supervisor', 'Sue Pervisor')}` },
    });
    await join(body.id, (await res.json()).token);
    await until('both joins noted', async () => (await text(page, '#log')).includes('Supervisor Sue Pervisor joined'));
    const first = await page.$$eval('#log li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(first[0]).to.match(/Supervisor Sue Pervisor joined and is watching\.$/);
    expect(first[1]).to.match(/Your agent Agent One joined\.$/);
    await until('the banner names the watchers', async () => (await text(page, '#banner')).includes('Agent One and supervisor Sue Pervisor'));
    await shoot(page, 'customer-live-notifications');
    const words = await page.evaluate(() => document.body.innerText);
    expect(words, 'role names in parentheses').to.not.match(/\((customer|agent|supervisor)\)/i);
    expect(words, 'policy jargon').to.not.match(/policy:|\bv[0-9a-f]{8,}/);

    // History is kept, newest first, bounded.
    for (let i = 0; i < KEPT_NOTES + 2; i++) {
      await page.click(i % 2 ? '#resume' : '#pause');
      await page.waitForSelector(i % 2 ? '#pause:not([hidden])' : '#resume:not([hidden])');
    }
    await until('the last notice listed', async () => (await page.$eval('#log li', (li) => li.textContent ?? '')).includes('You resumed sharing'));
    const list = await page.$$eval('#log li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(list).to.have.length(KEPT_NOTES);
    expect(list[0]).to.match(/You resumed sharing/);
    expect(list[1]).to.match(/You paused sharing/);
    expect(await visible(page, '#log li:first-child'), 'the newest notification is on screen').to.equal(true);
    await close();
    await server.vitrine.registry.end(body.id, 'deleted');
  });
});
