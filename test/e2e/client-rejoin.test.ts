/**
 * Sessions survive a reload, in real browsers: the agent console rejoins its session after a
 * reload (a new session token minted for the agent's own sign-in) and lists it under "My
 * sessions"; a customer who reloads, or closes the tab and opens the link again, in the same
 * browser within the grace window is back in; the same link in another browser is refused as
 * used (the invite stays single-use); after the grace window the customer reads that the link
 * has expired.
 */
import { expect } from 'chai';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { shoot, text, until, startClientSuite, stopClientSuite } from '../support/client-page.ts';
import { consoleSession } from '../support/console-session.ts';
import { type FixtureSite, type TestServer } from '../../harness/harness.ts';

describe('rejoining after a reload in the web client', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;

  before(async function () {
    ({ site, server, browser } = await startClientSuite(PAGES));
  });
  after(() => stopClientSuite({ site, server, browser }));

  const customers = (id: string) => server.vitrine.registry.get(id)?.participants.filter((p) => p.role === 'customer').length ?? 0;
  const agents = (id: string) => server.vitrine.registry.get(id)?.participants.filter((p) => p.role === 'agent').length ?? 0;

  it("rejoins the agent console's session after a reload, and lists it under My sessions", async function () {
    const s = await consoleSession(browser.browser, server, `${site.url}/green`);
    try {
      // The customer link steps out of the way once used.
      expect(await s.agent.$eval('#start-panel', (el) => el.checkVisibility())).to.equal(false);
      await s.agent.reload();
      await s.agent.waitForSelector('body[data-state="live"]');
      expect(await text(s.agent, '#log')).to.include('Rejoined the session.');
      await until('one agent in the session', () => agents(s.id) === 1);
      expect(server.vitrine.registry.get(s.id)!.state).to.equal('live');
      await until('the session under My sessions', async () => (await text(s.agent, '#my-sessions')).includes('live'));
      expect(await s.agent.$eval('#my-sessions', (el, id) => el.querySelector(`[data-session="${CSS.escape(id)}"]`) !== null, s.id)).to.equal(true);
      await shoot(s.agent, 'agent-rejoined');

      // The rejoin path is the agent's own: another agent, or no token, gets nothing.
      const other = await fetch(`${server.url}/api/sessions/${s.id}/rejoin`, { method: 'POST', headers: { authorization: `Bearer ${await server.agentToken('agent-2', 'Agent Two')}` } });
      expect(other.status).to.equal(403);
      expect((await fetch(`${server.url}/api/sessions/${s.id}/rejoin`, { method: 'POST' })).status).to.equal(401);
      const list = await (await fetch(`${server.url}/api/sessions`, { headers: { authorization: `Bearer ${await server.agentToken('agent-2', 'Agent Two')}` } })).json();
      expect(list.sessions, "another agent's sessions listed").to.deep.equal([]);
    } finally {
      await s.close();
    }
  });

  it('brings the customer back after a reload or a closed tab within the grace window, never through a forwarded link, and says the link expired after it', async function () {
    const s = await consoleSession(browser.browser, server, `${site.url}/green`);
    try {
      await s.customer.reload();
      await s.customer.waitForSelector('body[data-state="live"]');
      await until('the customer back in', () => customers(s.id) === 1);
      expect(await text(s.customer, '#overlay-text')).to.not.match(/used|expired/);

      // Closed tab, link opened again in the same browser: back in.
      const ctx = s.customer.browserContext();
      await s.customer.close();
      await until('the customer gone', () => customers(s.id) === 0);
      const again = await ctx.newPage();
      await again.setViewport({ width: 1280, height: 720 });
      await again.goto(s.link);
      await again.waitForSelector('body[data-state="live"]');
      await until('the customer back in', () => customers(s.id) === 1);

      // The same link in another browser: used.
      const elsewhere = await browser.browser.createBrowserContext();
      const forwarded = await elsewhere.newPage();
      await forwarded.goto(s.link);
      await until('the forwarded link refused', async () => (await text(forwarded, '#overlay-text')).includes('This link was already used.'));
      await elsewhere.close();

      // The tab closes; the grace window passes (the session ends as it would then).
      await again.close();
      await until('the customer gone', () => customers(s.id) === 0);
      await server.vitrine.registry.get(s.id)!.end('customer_left');
      const late = await ctx.newPage();
      await late.setViewport({ width: 1280, height: 720 });
      await late.goto(s.link);
      await until('the expired message', async () => (await text(late, '#overlay-text')) === 'This link has expired. Ask your agent for a new one.');
      expect(await text(late, '#banner')).to.equal('Link expired');
      expect(await late.$eval('#reconnect', (b) => (b as HTMLElement).hidden)).to.equal(true);
      await shoot(late, 'customer-return-expired');
    } finally {
      await s.close();
    }
  });
});
