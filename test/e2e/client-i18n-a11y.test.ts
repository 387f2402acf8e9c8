/**
 * Words and accessibility in real browsers: the customer view speaks the browser's language
 * (Accept-Language / navigator.languages: German, French, Spanish, English otherwise) and
 * switches on request; axe-core, injected into every page and state (customer: consent, live,
 * control request, end confirmation, expired link; agent: signed out, signed in, live session),
 * finds no serious or critical violation of WCAG 2.2 AA.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { loadConfig } from '../../server/config.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { shoot, text, until, startClientSuite, stopClientSuite } from '../support/client-page.ts';
import { consoleSession } from '../support/console-session.ts';
import { startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe-core in the page (evaluated over DevTools, so the page's strict CSP stays as it is). */
async function axe(page: Page, state: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = (await page.evaluate(() =>
    (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } }).axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }, resultTypes: ['violations'] })
      .then((r) => r.violations),
  )) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `axe in state ${state}`,
  ).to.deep.equal([]);
}

async function speak(page: Page, languages: string): Promise<void> {
  const cdp = await page.createCDPSession();
  await cdp.send('Network.setUserAgentOverride', { userAgent: await page.browser().userAgent(), acceptLanguage: languages });
}

describe('languages and accessibility of the web client', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;

  before(async function () {
    ({ site, server, browser } = await startClientSuite(PAGES));
  });
  after(() => stopClientSuite({ site, server, browser }));

  async function consentIn(languages: string): Promise<{ page: Page; close(): Promise<void> }> {
    const { body } = await server.createSession(`${site.url}/green`);
    const ctx = await browser.browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    await speak(page, languages);
    await page.goto(body.customerUrl);
    await page.waitForSelector('#consent:not([hidden])');
    return { page, close: () => ctx.close() };
  }

  it("follows the browser's language: German, French, Spanish, English otherwise, and switches on request", async function () {
    const cases: [string, string, string, string][] = [
      ['de-DE,de;q=0.9,en;q=0.5', 'de', 'Annehmen und teilen', 'Diese Seite mit unserem Support-Team teilen?'],
      ['fr-CH,fr;q=0.9', 'fr', 'Accepter et partager', 'Partager cette page avec notre équipe d’assistance ?'],
      ['es-MX', 'es', 'Aceptar y compartir', '¿Compartir esta página con nuestro equipo de soporte?'],
      ['ja-JP,pt;q=0.8', 'en', 'Accept and share', 'Share this page with our support team?'],
    ];
    for (const [accept, lang, button, title] of cases) {
      const { page, close } = await consentIn(accept);
      expect(await page.evaluate(() => navigator.languages[0]), accept).to.equal(accept.split(',')[0]);
      expect(await page.$eval('html', (h) => h.lang)).to.equal(lang);
      expect(await text(page, '#accept')).to.equal(button);
      expect(await text(page, '#consent-title')).to.equal(title);
      expect(await page.$eval('#lang', (s) => (s as HTMLSelectElement).value)).to.equal(lang);
      if (lang === 'de') {
        expect(await text(page, '#consent-company-title')).to.equal('unserem Support-Team');
        await shoot(page, 'customer-consent-de');
      }
      await close();
    }
    // The switch: German browser, Spanish chosen; kept for the next page of this browser.
    const { page, close } = await consentIn('de-DE');
    await page.select('#lang', 'es');
    expect(await text(page, '#accept')).to.equal('Aceptar y compartir');
    expect(await page.$eval('html', (h) => h.lang)).to.equal('es');
    await page.reload();
    await page.waitForSelector('#consent:not([hidden])');
    expect(await text(page, '#accept')).to.equal('Aceptar y compartir');
    await close();
  });

  it('brands the customer page from settings (logo, accent colour), and refuses an accent too light for white text', async function () {
    expect(() => loadConfig({ VITRINE_JWT_SECRET: 'x'.repeat(40), VITRINE_BRAND_ACCENT: '#ffd000' })).to.throw(/contrast/);
    const logo = `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><rect width="64" height="32" fill="#0b6e4f"/></svg>').toString('base64')}`;
    const branded = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_COMPANY_NAME: 'Acme Bank', VITRINE_BRAND_ACCENT: '#0b6e4f', VITRINE_BRAND_LOGO_URL: logo });
    try {
      const { body } = await branded.createSession(`${site.url}/green`);
      const ctx = await browser.browser.createBrowserContext();
      const page = await ctx.newPage();
      await page.setViewport({ width: 1280, height: 720 });
      await page.goto(body.customerUrl);
      await page.waitForSelector('#consent:not([hidden])');
      await page.waitForSelector('#brand-logo:not([hidden])');
      await until('the accent colour', async () => (await page.$eval('#accept', (b) => getComputedStyle(b).backgroundColor)) === 'rgb(11, 110, 79)');
      expect(await page.$eval('#brand-logo', (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)).to.equal(true);
      expect(await text(page, '#company')).to.equal('Acme Bank');
      await axe(page, 'branded consent');
      await shoot(page, 'customer-consent-branded');
      await ctx.close();
    } finally {
      await branded.close();
    }
  });

  it('has no serious or critical axe-core violations on any page and state, and every control has a visible focus', async function () {
    // Agent console: signed out, signed in.
    const ctx = await browser.browser.createBrowserContext();
    const signin = await ctx.newPage();
    await signin.setViewport({ width: 1280, height: 720 });
    await signin.goto(`${server.url}/agent`);
    await signin.waitForSelector('#signin-panel:not([hidden])');
    await axe(signin, 'agent signed out');
    await ctx.close();

    const s = await consoleSession(browser.browser, server, `${site.url}/green`);
    try {
      await axe(s.agent, 'agent live');
      await axe(s.customer, 'customer live');
      // Keyboard: Tab reaches the tools, each with a visible focus ring.
      await s.customer.focus('#tool-laser');
      await s.customer.keyboard.press('Tab');
      const ring = await s.customer.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const cs = getComputedStyle(el);
        return { id: el.id, outline: cs.outlineStyle, width: cs.outlineWidth };
      });
      expect(ring.id).to.equal('tool-draw');
      expect(ring.outline).to.not.equal('none');

      // A control request (announced in the live region).
      const raw = await TestClient.join(server.url, s.id, (await server.vitrine.registry.rejoin(s.id, { sub: 'agent-1', name: 'Agent One' } as never)).token);
      raw.send({ type: 'control/request' });
      await s.customer.waitForSelector('#control-prompt:not([hidden])');
      await until('the request announced', async () => (await text(s.customer, '#announce')).includes('asks to control the page'));
      await axe(s.customer, 'customer control request');
      await s.customer.click('#control-refuse');
      await raw.close();

      // End confirmation (both sides).
      await s.customer.click('#end');
      await s.customer.waitForSelector('#confirm[open]');
      await axe(s.customer, 'customer end confirmation');
      await s.customer.click('#confirm-cancel');
      await s.agent.click('#end');
      await s.agent.waitForSelector('#confirm[open]');
      await axe(s.agent, 'agent end confirmation');
      await s.agent.click('#confirm-ok');
      await s.customer.waitForSelector('body[data-state="ended"]');
      await axe(s.customer, 'customer ended');
      await axe(s.agent, 'agent ended');
    } finally {
      await s.close();
    }

    // Consent (German, too), and a link that expired.
    const { page, close } = await consentIn('de-DE');
    await axe(page, 'customer consent (German)');
    await close();
    const { body } = await server.createSession(`${site.url}/green`);
    await server.vitrine.registry.get(body.id)!.end('expired');
    const ctx2 = await browser.browser.createBrowserContext();
    const expired = await ctx2.newPage();
    await expired.goto(body.customerUrl);
    await until('the ended message', async () => (await text(expired, '#overlay-text')).includes('This session has ended.'));
    await axe(expired, 'customer link of an ended session');
    await ctx2.close();
  });

  it('tells a German customer the notices, the consent and the end in German, from the catalogue', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const ctx = await browser.browser.createBrowserContext();
    try {
      const page = await ctx.newPage();
      await page.setViewport({ width: 1280, height: 720 });
      await speak(page, 'de-DE');
      await page.goto(body.customerUrl);
      await page.waitForSelector('#consent:not([hidden])');
      // One sentence, in German word order, around the names.
      expect(await text(page, '#consent-title')).to.equal('Diese Seite mit unserem Support-Team teilen?');
      expect(await text(page, '#consent-ask')).to.equal('Agent One von unserem Support-Team bittet darum, diese Seite mit Ihnen anzusehen:');
      const agent = await TestClient.join(server.url, body.id, body.agentToken);
      await until('the join noticed in German', async () => (await text(page, '#log')).includes('Ihr Berater Agent One ist dazugekommen.'));
      await page.click('#accept');
      await page.waitForSelector('body[data-state="live"]');
      await page.click('#pause');
      await until('the pause noticed in German', async () => (await text(page, '#log')).includes('Sie haben das Teilen pausiert: Ihr Berater sieht nichts von der Seite, bis Sie fortsetzen.'));
      await page.click('#resume');
      await until('the resume noticed in German', async () => (await text(page, '#log')).includes('Sie teilen wieder: Ihr Berater sieht die Seite wieder.'));
      expect(await text(page, '#log'), 'no English notice reaches a German customer').to.not.match(/Your agent|You paused|You resumed/);
      // The agent still reads the server's English words.
      expect((await agent.message('notice', (m) => m.code === 'PAUSED')).message).to.equal('The customer paused sharing.');
      agent.send({ type: 'end' });
      await page.waitForSelector('body[data-state="ended"]');
      expect(await text(page, '#status')).to.equal('Sitzung beendet: Ihr Berater hat sie beendet.');
      expect(await text(page, '#overlay-text')).to.equal('Sitzung beendet: Ihr Berater hat sie beendet.');
      expect(await text(page, '#banner')).to.equal('Sitzung beendet');
      await shoot(page, 'customer-ended-de');
      await axe(page, 'customer ended (German)');
      await agent.close();
    } finally {
      await ctx.close();
    }
  });

  it("says a customer window replaced by the same customer's newer one is done (4410), with no Reconnect; the agent is told", async function () {
    const s = await consoleSession(browser.browser, server, `${site.url}/green`);
    try {
      // The same browser opens the session again (another tab): its way back replaces the first tab.
      const second = await s.customer.browserContext().newPage();
      await second.setViewport({ width: 1280, height: 720 });
      // The link without its invite: only this browser's kept way back can join.
      await second.goto(`${new URL(s.link).origin}/s/${encodeURIComponent(s.id)}`);
      await second.waitForSelector('body[data-state="live"]');
      const words = 'This session was opened in another window or tab. Carry on there; you can close this one.';
      await until('the first tab says it was replaced', async () => (await text(s.customer, '#overlay-text')) === words);
      expect(await s.customer.$eval('body', (b) => b.dataset.connection)).to.equal('replaced');
      expect(await s.customer.$eval('#reconnect', (el) => (el as HTMLElement).hidden), 'no Reconnect button').to.equal(true);
      expect(await text(s.customer, '#banner')).to.equal('Opened in another tab');
      expect(await text(s.customer, '#status')).to.equal(words);
      // The client's only automatic rejoin (session-view.ts, after a RECONNECT close) comes 0.2 to
      // 1 s after the close; past that bound and a margin, none is coming.
      await new Promise((r) => setTimeout(r, 1000 + 200));
      expect(await text(s.customer, '#overlay-text'), 'it stays final (no retry)').to.equal(words);
      await axe(s.customer, 'customer replaced');
      await shoot(s.customer, 'customer-replaced');
      // The newer tab keeps the session, and the agent's notification history says what happened.
      expect(await second.$eval('body', (b) => b.dataset.state)).to.equal('live');
      await until('the agent told of the replaced connection', async () => (await text(s.agent, '#log')).includes('The customer reconnected; their previous connection was closed.'));
      await second.close();
    } finally {
      await s.close();
    }
  });
});
