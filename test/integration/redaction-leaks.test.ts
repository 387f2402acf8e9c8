/**
 * Leak tests on pages that are not in the shared corpus, through real sessions under the
 * default policy: no agent frame may hold a secret pixel; the control colour must be seen.
 */
import { expect } from 'chai';
import { serveFixtures, sleep, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { check, CONTROL_AT, ocrCheck, runLeakCase } from '../support/leak-check.ts';
import { LEAK_CASES, LEAK_PAGES } from '../support/leak-pages.ts';
import { stillFor } from '../support/waits.ts';

describe('redaction leak tests (own fixtures)', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  let server: TestServer;

  before(async function () {
    site = await serveFixtures({ ...LEAK_PAGES, '/redirect-secret': (_req, res) => res.writeHead(302, { location: '/secret-target' }).end() });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: `${site.host},localhost:${site.host.split(':')[1]}`, VITRINE_SESSIONS_PER_BROWSER: '4' });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  for (const c of LEAK_CASES) {
    it(c.what, async function () {
      let r;
      if (c.clickAt) {
        const { body } = await server.createSession(`${site.url}${c.path}`);
        const agent = await TestClient.join(server.url, body.id, body.agentToken);
        const customer = await TestClient.join(server.url, body.id, body.customerToken);
        customer.send({ type: 'consent', accept: true });
        await agent.frameWhere(() => true);
        customer.click(c.clickAt.x, c.clickAt.y);
        await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Statement'), 10_000, 'the target page');
        await sleep(c.watchMs);
        r = check(agent.frames);
        customer.send({ type: 'end' });
        await Promise.all([agent.close(), customer.close()]);
      } else {
        r = await runLeakCase(server, { url: `${site.url}${c.path}`, watchMs: c.watchMs, type: c.type });
      }
      expect(r.frames).to.be.greaterThan(0);
      expect(r.leaks, 'frames with secret pixels').to.deep.equal([]);
      expect(r.maxControl).to.be.at.least(CONTROL_AT);
    });
  }

  // The second oracle (the recording leak scan's OCR) on a few frames: it reads the card number
  // in the customer's own view, and reads none in the agent's.
  it('OCR oracle: no card number readable in staff frames of a split card number', async function () {
    const { body } = await server.createSession(`${site.url}/split`);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    try {
      customer.send({ type: 'consent', accept: true });
      await agent.frameWhere(() => true);
      await customer.frameWhere(() => true);
      // The page has drawn all it will (waits.ts stillFor): the frames read below are its last.
      await stillFor(server, body.id);
      const staff = await ocrCheck(agent.frames, { max: 2 });
      expect(staff.scanned).to.be.greaterThan(0);
      expect(staff.leaks, 'card numbers OCR read in staff frames').to.deep.equal([]);
      const own = await ocrCheck(customer.frames.slice(-1), { max: 1 });
      expect(own.leaks.map((l) => l.pattern)).to.include('card-number');
    } finally {
      customer.send({ type: 'end' });
      await Promise.all([agent.close(), customer.close()]);
    }
  });
});
