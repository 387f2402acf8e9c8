/**
 * Signing in to the agent console checks the token at once: GET /api/me answers who the token
 * belongs to (verified like every API call) or a coded 401/403; the console shows who is signed
 * in, with role and expiry, and a garbage token leaves it signed out with a clear error. The same
 * run shows the company from settings on the customer's consent screen and, while the customer
 * pauses, an agent console that knows nothing of the page.
 */
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { AuditEvent } from '../../server/audit/audit.ts';
import { launchBrowser, type LaunchedBrowser } from '../../server/browser/launch.ts';
import { StaffMeSchema } from '../../server/protocol.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { shoot, text, until, visible } from '../support/client-page.ts';
import { serveFixtures, startTestServer, TEST_SECRET, type FixtureSite, type TestServer } from '../../harness/harness.ts';

describe('agent sign-in', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const audited: AuditEvent[] = [];
  const me = (token?: string) => fetch(`${server.url}/api/me`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const sign = (claims: Record<string, unknown>, exp: number | string = '1h') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(exp).sign(new TextEncoder().encode(TEST_SECRET));

  before(async function () {
    site = await serveFixtures(PAGES);
    const audit = { record: (e: AuditEvent) => void audited.push(e), forSession: () => [], close: async () => undefined };
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_COMPANY_NAME: 'Acme Bank' }, { audit });
    browser = await launchBrowser({ viewport: { width: 1280, height: 720 } });
  });
  after(async function () {
    await browser?.close();
    await server?.close();
    await site?.close();
  });

  describe('GET /api/me', function () {
    it('answers the verified identity: sub, display name, roles and expiry, in the documented shape', async function () {
      const res = await me(await server.agentToken());
      expect(res.status).to.equal(200);
      const body = await res.json();
      expect(StaffMeSchema.safeParse(body).success, JSON.stringify(body)).to.equal(true);
      expect(body).to.include({ sub: 'agent-1', name: 'Agent One', role: 'agent' });
      expect(body.roles).to.deep.equal(['agent']);
      const left = Date.parse(body.expiresAt) - Date.now();
      expect(left).to.be.within(7.9 * 3600_000, 8 * 3600_000 + 1000); // minted for 8 hours

      const both = await (await me(await sign({ role: 'supervisor agent', name: 'Alice' }))).json();
      expect(both).to.include({ sub: 'alice', name: 'Alice', role: 'agent' });
      expect(both.roles).to.deep.equal(['agent', 'supervisor']);
      const sup = await (await me(await server.staffToken('sup-1', 'supervisor', 'Sue'))).json();
      expect(sup).to.include({ role: 'supervisor' });
    });

    it('refuses garbage, missing, expired and session tokens with 401, and a token without a staff role with 403', async function () {
      const { body } = await server.createSession(`${site.url}/green`);
      const cases: [string, string | undefined, number, string][] = [
        ['garbage', 'not-a-token', 401, 'UNAUTHENTICATED'],
        ['missing', undefined, 401, 'UNAUTHENTICATED'],
        ['expired', await sign({ role: 'agent' }, Math.floor(Date.now() / 1000) - 3600), 401, 'UNAUTHENTICATED'],
        ['session token', body.agentToken, 401, 'UNAUTHENTICATED'],
        ['no staff role', await sign({ role: 'customer' }), 403, 'FORBIDDEN'],
      ];
      for (const [what, token, status, code] of cases) {
        const res = await me(token);
        expect(res.status, what).to.equal(status);
        expect((await res.json()).error, what).to.include({ code });
        if (status === 401) expect(res.headers.get('www-authenticate'), what).to.equal('Bearer');
      }
      const refused = audited.filter((r) => r.type === 'token.refused' && r.details?.action === 'identity.read');
      expect(refused.length).to.be.at.least(cases.length);
      await server.vitrine.registry.end(body.id, 'deleted');
    });
  });

  describe('in the agent console (real browser)', function () {
    it('refuses a garbage token at once, signs in a real one and shows who, as what, until when', async function () {
      const ctx = await browser.browser.createBrowserContext();
      const page = await ctx.newPage();
      await page.setViewport({ width: 1280, height: 720 });
      await page.goto(`${server.url}/agent`);
      await page.waitForSelector('#token');
      const signIn = async (token: string) => {
        await page.$eval('#token', (el, v) => ((el as HTMLTextAreaElement).value = v), token);
        await page.click('#signin');
      };
      await signIn('garbage.garbage.garbage');
      await page.waitForSelector('#signin-error:not([hidden])');
      expect(await text(page, '#signin-error')).to.match(/^Not signed in: the token was refused \(token is malformed\)/);
      expect(await page.$eval('body', (b) => b.dataset.state)).to.equal('signed-out');
      expect(await visible(page, '#start-panel'), 'start panel after a garbage token').to.equal(false);
      expect(await visible(page, '#whoami')).to.equal(false);
      expect(await text(page, '#banner')).to.equal('Signed out');
      expect(await page.evaluate(() => sessionStorage.length), 'tokens kept').to.equal(0);
      await shoot(page, 'agent-signin-error');

      await signIn(await server.staffToken('sup-1', 'supervisor', 'Sue'));
      await until('the role error', async () => /needs the agent role/.test(await text(page, '#signin-error')));
      expect(await page.$eval('body', (b) => b.dataset.state)).to.equal('signed-out');

      await signIn(await server.agentToken());
      await page.waitForSelector('body[data-state="signed-in"]');
      expect(await visible(page, '#signin-error')).to.equal(false);
      expect(await text(page, '#whoami-name')).to.equal('Agent One');
      expect(await text(page, '#whoami-role')).to.equal('agent');
      expect(await text(page, '#whoami-expiry')).to.match(/^signed in until (tomorrow )?\d{1,2}:\d{2}/);
      expect(await text(page, '#banner')).to.equal('Signed in as Agent One');
      await shoot(page, 'agent-signed-in');

      // A token handed over in the link is checked the same way.
      const linked = await ctx.newPage();
      await linked.goto(`${server.url}/agent#token=${await sign({ role: 'agent' }, Math.floor(Date.now() / 1000) - 3600)}`);
      await linked.waitForSelector('#signin-error:not([hidden])');
      expect(await text(linked, '#signin-error')).to.match(/token has expired/);
      expect(await linked.$eval('body', (b) => b.dataset.state)).to.equal('signed-out');
      await ctx.close();
    });

    it("names the configured company to the customer, and shows a paused customer's agent no title or address", async function () {
      const agentCtx = await browser.browser.createBrowserContext();
      const agent = await agentCtx.newPage();
      await agent.setViewport({ width: 1280, height: 720 });
      await agent.goto(`${server.url}/agent#token=${await server.agentToken()}`);
      await agent.waitForSelector('body[data-state="signed-in"]');
      await agent.$eval('#url', (el, v) => ((el as HTMLInputElement).value = v), `${site.url}/green`);
      await agent.click('#start');
      await agent.waitForFunction(() => (document.getElementById('customer-link') as HTMLInputElement).value.includes('/s/'));
      const link = await agent.$eval('#customer-link', (el) => (el as HTMLInputElement).value);

      const customerCtx = await browser.browser.createBrowserContext();
      const customer = await customerCtx.newPage();
      await customer.setViewport({ width: 1280, height: 720 });
      await customer.goto(link);
      await customer.waitForSelector('#consent:not([hidden])');
      expect(await text(customer, '#consent-title')).to.equal('Share this page with Acme Bank?');
      expect(await text(customer, '#company')).to.equal('Acme Bank');
      await customer.click('#accept');
      await until('the agent sees the page title', async () => (await text(agent, '#status')).includes('Green'));
      await customer.click('#pause');
      await until('the agent sees the pause', async () => (await text(agent, '#overlay-text')) === 'The customer paused sharing.');
      await customer.click('#reload');
      await new Promise((r) => setTimeout(r, 800));
      expect(await text(agent, '#status'), 'page status while paused').to.equal('');
      expect(await agent.evaluate(() => document.body.innerText), 'the agent console while paused').to.not.match(/Green|\/green/);
      const notes = await text(agent, '#log');
      expect(notes).to.include('The customer joined.');
      expect(notes, 'the agent told of its own arrival').to.not.include('Agent One joined');
      await shoot(agent, 'agent-paused');
      await customerCtx.close();
      await agentCtx.close();
    });
  });
});
