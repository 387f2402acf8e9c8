/**
 * The customer's clipboard when the device's browser refuses a write that no gesture of theirs
 * started (Safari and Firefox do; so does Chromium without the permission): text copied in the
 * shared page is offered with a button instead, and one click of the customer's puts it on the
 * device. The refusal is made here by the customer page's own `navigator.clipboard.writeText`
 * rejecting, as such a browser's does; the click's copy then goes the older way (a selected
 * field and `execCommand('copy')`, allowed inside a click), which the test reads back.
 */
import { expect } from 'chai';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { clickPage, shoot, text, until, startClientSuite, stopClientSuite } from '../support/client-page.ts';
import { TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const REFERENCE = 'REF-2291-4480-17';
const PAGE = `<!doctype html><title>ready</title><body style="margin:0;font:20px sans-serif">
<input id="ref" value="${REFERENCE}" style="position:absolute;left:40px;top:40px;width:400px;height:50px;font:20px sans-serif">`;

describe('clipboard in the customer view, when the browser refuses to write without a gesture', function () {
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  const clients: TestClient[] = [];

  before(async function () {
    ({ site, server, browser } = await startClientSuite({ '/page': PAGE }));
  });
  after(() => stopClientSuite({ site, server, browser }, clients));

  /** A customer view whose browser refuses `writeText` (and, when `strict`, `execCommand('copy')` outside a click). */
  async function customerView(link: string, strict: boolean) {
    const ctx = await browser.browser.createBrowserContext();
    // Reading back is allowed (the test's check); writing through the API is refused.
    await ctx.overridePermissions(new URL(link).origin, ['clipboard-read']);
    const page = await ctx.newPage();
    // A string, not a function: the test runner's transpiler would add helpers the page lacks.
    await page.evaluateOnNewDocument(`(() => {
      let refusals = 0;
      Object.defineProperty(window, 'clipboardRefusals', { get: () => refusals });
      navigator.clipboard.writeText = () => {
        refusals++;
        return Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
      };
      if (!${strict}) return;
      // As Safari: the older way works only inside the click itself.
      let inClick = false;
      addEventListener('click', () => { inClick = true; setTimeout(() => { inClick = false; }); }, true);
      const exec = document.execCommand.bind(document);
      document.execCommand = (command, ...rest) => (command === 'copy' && !inClick ? false : exec(command, ...rest));
    })();`);
    await page.setViewport({ width: 1280, height: 720 });
    await page.goto(link);
    await page.click('#accept');
    await page.waitForSelector('body[data-state="live"]');
    await page.waitForSelector('#overlay', { hidden: true, timeout: 20_000 });
    return { ctx, page };
  }

  async function live(strict: boolean) {
    const { body } = await server.createSession(`${site.url}/page`);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    const view = await customerView(body.customerUrl, strict);
    await agent.waitFor(() => agent.messages.some((m) => m.type === 'state' && m.snapshot.title === 'ready'), 20_000, 'the page');
    return { id: body.id, agent, ...view };
  }

  /** Selects the reference in the shared page and presses Ctrl+C, as a person would. */
  async function copyReference(page: Awaited<ReturnType<typeof customerView>>['page']) {
    await clickPage(page, 200, 65);
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.press('KeyC');
    await page.keyboard.up('Control');
  }

  const refusals = (page: Awaited<ReturnType<typeof customerView>>['page']) => page.evaluate(() => (window as unknown as { clipboardRefusals: number }).clipboardRefusals);

  it("puts the copy on the device the older way while the customer's key press still counts", async function () {
    const { id, agent, ctx, page } = await live(false);
    await until(
      'the text is on the device',
      async () => {
        await copyReference(page);
        await new Promise((r) => setTimeout(r, 300));
        return (await page.evaluate(() => navigator.clipboard.readText())) === REFERENCE;
      },
      30_000,
    );
    expect(await refusals(page), 'the API refused first').to.be.greaterThan(0);
    await until('the customer is told', async () => (await text(page, '#log')).includes("The text you copied is on your device's clipboard."));
    expect(await page.$('#file-handoff:not([hidden])'), 'no button needed').to.equal(null);
    expect(JSON.stringify(agent.messages)).to.not.include(REFERENCE);
    await ctx.close();
    await server.vitrine.registry.end(id, 'deleted');
  });

  it("offers the copied text with a button where both ways are refused, and one click puts it on the customer's device", async function () {
    const { id, agent, ctx, page } = await live(true);
    await until(
      'the copy is offered',
      async () => {
        await copyReference(page);
        return (await page.waitForSelector('#file-handoff:not([hidden]) #clipboard-copy', { timeout: 2000 }).catch(() => null)) !== null;
      },
      30_000,
    );
    expect(await text(page, '#file-handoff')).to.include("You copied text in the page. Put it on your device's clipboard?");
    expect(await text(page, '#file-handoff'), 'the text itself is not shown').to.not.include(REFERENCE);
    await shoot(page, 'customer-clipboard-offer');

    await page.click('#clipboard-copy');
    await until('the text is on the device', async () => (await page.evaluate(() => navigator.clipboard.readText())) === REFERENCE);
    await until('the customer is told', async () => (await text(page, '#log')).includes("The text you copied is on your device's clipboard."));
    await page.waitForSelector('#file-handoff', { hidden: true });
    expect(JSON.stringify(agent.messages)).to.not.include(REFERENCE);
    await ctx.close();
    await server.vitrine.registry.end(id, 'deleted');
  });
});
