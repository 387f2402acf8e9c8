/**
 * Document handoff in the customer's own browser: when the shared page asks for a file, the
 * customer view offers a picker on the device; the chosen file goes to the page after clamd
 * scanned it, a refused one says so in the panel, and a download the page started arrives as a
 * one-time link in the customer's panel alone. The agent's console never gets a file or a link.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LaunchedBrowser } from '../../server/browser/launch.ts';
import { UPLOAD_PAGE } from '../support/fixture-pages.ts';
import { startClamd, type TestClamd } from '../support/clamd.ts';
import { filesPolicyDir } from '../support/files-policy.ts';
import { clickPage, openCustomer, shoot, startClientSuite, stopClientSuite, text, until } from '../support/client-page.ts';
import { TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const INFECTED = Buffer.from('vitrine client files test sample: the test signature matches these bytes 51d0\n');
const CLEAN = Buffer.from('statement for the customer view test, balance 88.20, 3e7a\n');
const DOWNLOAD = Buffer.from('%PDF-1.4 a document the page hands to the customer, client test 6b1f\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe("document handoff in the customer's browser", function () {
  let clamd: TestClamd;
  let policies: ReturnType<typeof filesPolicyDir>;
  let site: FixtureSite;
  let server: TestServer;
  let browser: LaunchedBrowser;
  let files: string;
  const clients: TestClient[] = [];

  before(async function () {
    clamd = await startClamd([INFECTED]);
    policies = filesPolicyDir();
    // The customer's files: readable by the test's browser, which runs as its own user.
    files = mkdtempSync(join(tmpdir(), 'vitrine-customer-device-'));
    chmodSync(files, 0o755);
    writeFileSync(join(files, 'statement.txt'), CLEAN, { mode: 0o644 });
    writeFileSync(join(files, 'sample.txt'), INFECTED, { mode: 0o644 });
    ({ site, server, browser } = await startClientSuite(
      {
        '/upload': UPLOAD_PAGE,
        '/doc.pdf': (_req, res) => res.writeHead(200, { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="statement.pdf"' }).end(DOWNLOAD),
        '/bad.txt': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('unused'),
      },
      { VITRINE_POLICY_DIR: policies.dir, VITRINE_CLAMD: clamd.address },
    ));
  });
  after(async function () {
    await stopClientSuite({ site, server, browser }, clients);
    await clamd?.close();
    policies?.remove();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  const pageTitle = (c: TestClient) => (c.messages.filter((m) => m.type === 'state' || m.type === 'joined').at(-1) as { snapshot: { title: string } } | undefined)?.snapshot.title ?? '';

  it('picks a file on the device for the page, refuses an infected one in the panel, and hands a download to the customer alone', async function () {
    const { body } = await server.createSession(`${site.url}/upload`, { policy: 'files' });
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    const { page, ctx } = await openCustomer(browser.browser, body.customerUrl);
    await agent.waitFor(() => pageTitle(agent) === 'Upload', 20_000, 'the upload page');
    // A person clicks once the page is on screen (until then "Waiting for the page…" covers it).
    await page.waitForSelector('#overlay', { hidden: true, timeout: 20_000 });

    // The customer clicks the page's file field, as a person does: the picker opens in the view.
    await clickPage(page, 100, 50);
    await page.waitForSelector('#file-handoff:not([hidden]) #file-handoff-input', { timeout: 15_000 });
    expect(await text(page, '#file-handoff')).to.include('The page asks for a file. Choose one on your device');
    await shoot(page, 'customer-file-requested');

    // An infected file: refused by clamd, said in the panel, the page gets nothing.
    await (await page.$('input#file-handoff-input'))!.uploadFile(join(files, 'sample.txt'));
    await until('the refusal is shown', async () => (await text(page, '#file-handoff [role="status"]')) === 'The file was refused and not given to the page.');
    expect(pageTitle(agent)).to.equal('Upload');
    await shoot(page, 'customer-file-refused');

    // A clean one, picked again in the same panel: it reaches the page's field byte for byte.
    await (await page.$('input#file-handoff-input'))!.uploadFile(join(files, 'statement.txt'));
    await agent.waitFor(() => pageTitle(agent) === `got statement.txt ${sha(CLEAN)}`, 20_000, 'the file in the page');
    await page.waitForSelector('#file-handoff', { hidden: true });
    await until('the customer is told', async () => (await text(page, 'body')).includes('Your file was checked and given to the page.'));

    // The page starts a download: a one-time link in the customer's panel.
    await clickPage(page, 100, 250);
    const link = await page.waitForSelector('#file-handoff:not([hidden]) a[download]', { timeout: 15_000 });
    expect(await link!.evaluate((a) => a.textContent)).to.equal('Download statement.pdf');
    await shoot(page, 'customer-download-offered');
    const href = await link!.evaluate((a) => (a as HTMLAnchorElement).href);
    const got = async () =>
      page.evaluate(async (u) => {
        const r = await fetch(u);
        return { status: r.status, body: r.ok ? await r.text() : '' };
      }, href);
    expect(await got()).to.deep.equal({ status: 200, body: DOWNLOAD.toString() });
    expect((await got()).status, 'the link works once').to.be.oneOf([404, 410]);

    // Staff got neither a chooser, nor a link, nor the bytes.
    const staffSaw = JSON.stringify(agent.messages);
    expect(agent.messages.some((m) => m.type === 'file/chooser' || m.type === 'file/download')).to.equal(false);
    for (const s of [CLEAN.toString(), DOWNLOAD.toString(), href]) expect(staffSaw.includes(s), 'staff saw a file').to.equal(false);
    await ctx.close();
    await server.vitrine.registry.end(body.id, 'deleted');
  });
});
