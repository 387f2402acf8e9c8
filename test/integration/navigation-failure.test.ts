/**
 * A navigation that fails (a plain-http site asked for over https://, an address with no site)
 * tells both sides in plain words, once, and leaves the customer on the page they were on rather
 * than on Chromium's own error page.
 */
import { expect } from 'chai';
import { navigationFailure } from '../../server/browser/session-page.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

describe('navigation failures', function () {
  let site: FixtureSite;
  let server: TestServer;
  const clients: TestClient[] = [];

  before(async function () {
    site = await serveFixtures({ ...PAGES, '/alert-at-load': '<!doctype html><title>Alert</title><body><script>alert("loaded")</script></body>' });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    await site?.close();
  });

  it('says in plain words why a page could not be loaded', function () {
    expect(navigationFailure('net::ERR_SSL_PROTOCOL_ERROR at https://x/')).to.match(/securely over HTTPS/);
    expect(navigationFailure('net::ERR_CERT_AUTHORITY_INVALID at https://x/')).to.match(/HTTPS/);
    expect(navigationFailure('net::ERR_NAME_NOT_RESOLVED at https://x/')).to.match(/no site at that address/);
    expect(navigationFailure('net::ERR_CONNECTION_REFUSED at http://x/')).to.match(/refused/);
    expect(navigationFailure('Navigation timeout of 30000 ms exceeded')).to.match(/in time/);
    expect(navigationFailure('net::ERR_SOMETHING_NEW at http://x/')).to.equal('the site could not be reached (ERR_SOMETHING_NEW).');
    for (const m of ['net::ERR_SSL_PROTOCOL_ERROR', 'net::ERR_NAME_NOT_RESOLVED', 'whatever']) expect(navigationFailure(m)).to.not.match(/net::/);
  });

  it('a plain-http site asked for over https:// leaves the customer where they were, and both sides are told why', async function () {
    const created = await server.createSession(`${site.url}/green`);
    const { id, customerToken, agentToken } = created.body;
    const agent = await TestClient.join(server.url, id, agentToken);
    const customer = await TestClient.join(server.url, id, customerToken);
    clients.push(agent, customer);
    customer.send({ type: 'consent', accept: true });
    await customer.waitFor(() => customer.frames.length > 0, 20_000, 'a first frame');
    const before = server.vitrine.registry.get(id)!.snapshot().url;
    // The fixture site speaks plain HTTP: over https:// its port answers no TLS.
    customer.send({ type: 'navigate', url: `${site.url.replace('http://', 'https://')}/red` });
    for (const c of [customer, agent]) {
      const n = await c.message('notice', (m) => m.code === 'NAVIGATION_FAILED');
      expect(n.message).to.match(/HTTPS/);
      expect(n.message).to.not.match(/net::/);
    }
    // Back on the page it was on, not on chrome-error://.
    await customer.waitFor(
      () => {
        const url = server.vitrine.registry.get(id)?.snapshot().url ?? '';
        return url === before;
      },
      15_000,
      'back on the page',
    );
    customer.send({ type: 'end' });
  });

  it('tells someone who joins a moment later what the page did meanwhile (a dialog dismissed at load)', async function () {
    const { body } = await server.createSession(`${site.url}/alert-at-load`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    clients.push(customer);
    await customer.message('notice', (m) => m.code === 'DIALOG_DISMISSED');
    // The agent comes in after the page's dialog: it is told too, once.
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    clients.push(agent);
    await agent.message('notice', (m) => m.code === 'DIALOG_DISMISSED');
    expect(agent.messages.filter((m) => m.type === 'notice' && m.code === 'DIALOG_DISMISSED')).to.have.length(1);
    customer.send({ type: 'end' });
  });
});
