/**
 * A policy's allow/deny lists apply to every navigation (proposed, direct, link, redirect) and
 * to subresources; a refused navigation keeps the current page and says why.
 */
import { expect } from 'chai';
import { createLogger } from '../../server/log.ts';
import { parsePolicy, PolicyStore } from '../../server/policy/store.ts';
import { storePolicies } from '../../server/server.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { until } from '../support/waits.ts';

describe('policy allow and deny lists', function () {
  let site: FixtureSite;
  let server: TestServer;
  const hits: string[] = [];

  before(async function () {
    const record =
      (path: string, body: string, type = 'text/html') =>
      (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
        hits.push(path);
        res.writeHead(200, { 'content-type': type }).end(body);
      };
    site = await serveFixtures({
      '/home': record(
        '/home',
        '<!doctype html><title>Home</title><img src="/private/pixel.gif"><img src="/public/pixel.gif"><a id="l" href="/private/page" style="display:block;font-size:60px">private</a>',
      ),
      '/to-private': (_req, res) => res.writeHead(302, { location: '/private/page' }).end(),
      '/private/page': record('/private/page', '<!doctype html><title>Private</title>'),
      '/private/pixel.gif': record('/private/pixel.gif', 'GIF89a', 'image/gif'),
      '/public/pixel.gif': record('/public/pixel.gif', 'GIF89a', 'image/gif'),
    });
    const port = site.host.split(':')[1];
    const restricted = parsePolicy('restricted', `allow: ["http://127.0.0.1:${port}/*"]\ndeny: ["*/private/*"]\n`).policy!;
    const store = new PolicyStore([restricted, { ...restricted, name: 'default', file: {} }]);
    const log = createLogger('silent');
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: `${site.host},localhost:${port}` }, { policies: storePolicies(store, log), log });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  it('refuses a session on a URL outside the allow list', async function () {
    const port = site.host.split(':')[1];
    const r = await server.createSession(`http://localhost:${port}/home`, { policy: 'restricted' });
    expect(r.status).to.equal(403);
    expect(r.body.error.code).to.equal('URL_REFUSED');
  });

  it('blocks denied subresources, links, redirects, proposals and direct navigation', async function () {
    const { body } = await server.createSession(`${site.url}/home`, { policy: 'restricted' });
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Home'), 10_000, 'home');
    // The page asks for the private image first (document order): once the public one has
    // arrived, the private one was decided.
    await until('the public image', () => hits.includes('/public/pixel.gif'), 10_000);
    expect(hits).to.include('/public/pixel.gif');
    expect(hits).to.not.include('/private/pixel.gif');

    customer.click(100, 60); // the link
    await customer.message('notice', (m) => m.code === 'NAVIGATION_FAILED');
    customer.send({ type: 'navigate', url: `${site.url}/to-private` });
    await customer.waitFor(() => customer.messages.filter((m) => m.type === 'notice' && m.code === 'NAVIGATION_FAILED').length >= 2, 10_000, 'second refusal');
    customer.send({ type: 'navigate', url: `${site.url}/private/page` });
    await customer.message('error', (m) => m.code === 'URL_REFUSED');
    agent.send({ type: 'navigate/propose', url: `${site.url}/private/page` });
    // Both refused before any request is made (the refusal is the answer to the message).
    await agent.message('error', (m) => m.code === 'URL_REFUSED');
    expect(hits).to.not.include('/private/page');
    const last = [...customer.messages].reverse().find((m) => m.type === 'state');
    expect(last?.type === 'state' && last.snapshot.title).to.equal('Home');
    customer.send({ type: 'end' });
    await Promise.all([agent.close(), customer.close()]);
  });
});
