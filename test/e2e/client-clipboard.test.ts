/**
 * The clipboard in the customer's own browser (issue 18, item 5): Ctrl+C in the shared page puts
 * the text on the customer's device clipboard and says so; Ctrl+V pastes from the device into
 * the page. The agent's console never receives the copied text.
 */
import { expect } from 'chai';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { clickPage, shoot, text, until, startClientSuite, stopClientSuite } from '../support/client-page.ts';
import { TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const ACCOUNT = 'ACCT-5501-7788';
const PAGE = `<!doctype html><title>ready</title><body style="margin:0;font:20px sans-serif">
<input id="acct" value="${ACCOUNT}" style="position:absolute;left:40px;top:40px;width:400px;height:50px;font:20px sans-serif">
<textarea id="notes" style="position:absolute;left:40px;top:200px;width:400px;height:100px"></textarea>
<script>document.getElementById('notes').addEventListener('input', (e) => { document.title = 'notes=' + e.target.value; });</script>`;

describe('clipboard in the customer view', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const clients: TestClient[] = [];

  before(async function () {
    ({ site, server, browser } = await startClientSuite({ '/page': PAGE }));
  });
  after(() => stopClientSuite({ site, server, browser }, clients));

  it("copies from the page onto the customer's device and pastes from it, the agent seeing neither text", async function () {
    const { body } = await server.createSession(`${site.url}/page`);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    const ctx = await browser.browser.createBrowserContext();
    // The customer's browser lets the page use the clipboard, as a person's browser does for the
    // tab they are using; the test reads the device clipboard back through the same API.
    await ctx.overridePermissions(new URL(body.customerUrl).origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    await page.goto(body.customerUrl);
    await page.click('#accept');
    await page.waitForSelector('body[data-state="live"]');
    await agent.waitFor(() => agent.messages.some((m) => m.type === 'state' && m.snapshot.title === 'ready'), 20_000, 'the page');

    // Select the account number in the shared page and copy it, as a person would.
    await until(
      'the copy reached the device',
      async () => {
        await clickPage(page, 200, 65);
        await page.keyboard.down('Control');
        await page.keyboard.press('KeyA');
        await page.keyboard.press('KeyC');
        await page.keyboard.up('Control');
        await new Promise((r) => setTimeout(r, 300));
        return (await page.evaluate(() => navigator.clipboard.readText())) === ACCOUNT;
      },
      30_000,
    );
    await until('the customer is told', async () => (await text(page, '#log')).includes("The text you copied is on your device's clipboard."));
    await shoot(page, 'customer-clipboard-copied');

    // Paste from the device into the page's notes.
    await page.evaluate(() => navigator.clipboard.writeText('from my device'));
    await until(
      'the paste reached the page',
      async () => {
        await clickPage(page, 200, 250);
        await page.keyboard.down('Control');
        await page.keyboard.press('KeyV');
        await page.keyboard.up('Control');
        return agent.messages.some((m) => m.type === 'state' && m.snapshot.title.includes('from my device'));
      },
      30_000,
    );
    expect(agent.messages.some((m) => m.type === 'clipboard')).to.equal(false);
    expect(JSON.stringify(agent.messages)).to.not.include(ACCOUNT);
    await ctx.close();
    await server.vitrine.registry.end(body.id, 'deleted');
  });
});
