/**
 * The egress guard against SSRF, end to end: a page on an allowed host tries every way to
 * reach a server on a loopback port that is not allowed; that server must see nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { until } from '../support/waits.ts';

describe('egress guard', function () {
  let canary: Server;
  let canaryPort = 0;
  const hits: string[] = [];
  /** The attack page reports here once every attempt it can watch has failed (see /attack). */
  let attackDone = false;
  let site: FixtureSite;
  let server: TestServer;

  before(async function () {
    canary = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.end('secret internal data');
    });
    canary.on('upgrade', (req, socket) => {
      hits.push(`UPGRADE ${req.url}`);
      socket.destroy();
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    canaryPort = (canary.address() as AddressInfo).port;
    const targets = [`http://127.0.0.1:${canaryPort}`, `http://internal.test:${canaryPort}`, `http://[::ffff:127.0.0.1]:${canaryPort}`, `http://2130706433:${canaryPort}`];
    const attempts = targets
      .map(
        (t, i) => `<img src="${t}/img${i}"><iframe src="${t}/frame${i}"></iframe><link rel="stylesheet" href="${t}/css${i}">
        <script>tries.push(fetch('${t}/fetch${i}').catch(()=>{}));try{const w=new WebSocket('${t.replace('http', 'ws')}/ws${i}');tries.push(new Promise((r)=>{w.onerror=w.onclose=r}))}catch(e){};navigator.sendBeacon('${t}/beacon${i}');</script>`,
      )
      .join('\n');
    // Once the images, frames and styles are over (the load event) and every fetch and socket has
    // failed, the page says so to its own site: each of those requests was decided by then.
    const report = `<script>addEventListener('load',()=>Promise.all(tries).then(()=>fetch('/attack-done')))</script>`;
    site = await serveFixtures({
      '/attack': `<!doctype html><title>Attack</title><script>const tries=[]</script><body>${attempts}<p>attack page</p>${report}</body>`,
      '/attack-done': (_req, res) => ((attackDone = true), res.end()),
      '/redirect': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${canaryPort}/redirected` }).end(),
      '/ok': '<!doctype html><title>OK</title><body>ok</body>',
    });
    server = await startTestServer(
      { VITRINE_ALLOW_HOSTS: site.host },
      { resolver: async (h) => (h === 'internal.test' ? ['127.0.0.1'] : h === 'rebind.test' ? ['93.184.216.34', '127.0.0.1'] : Promise.reject(new Error('ENOTFOUND'))) },
    );
  });
  after(async function () {
    await server?.close();
    await site?.close();
    if (!canary) return; // `before` failed before it listened: a close never called back would hold the hook
    canary.closeAllConnections();
    await new Promise((r) => canary.close(r));
  });

  it('lets nothing from a page reach a forbidden address: images, frames, styles, fetch, WebSocket, beacons, redirects', async function () {
    const { body } = await server.createSession(`${site.url}/attack`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Attack'), 15_000, 'attack page');
    await until('the attack page to report its attempts over', () => attackDone, 15_000);
    customer.send({ type: 'navigate', url: `${site.url}/redirect` });
    // Told once the redirect's request was refused: it never left.
    await customer.message('notice', (m) => m.code === 'NAVIGATION_FAILED');
    expect(hits, 'requests that reached the forbidden server').to.deep.equal([]);
    expect(server.vitrine.egress.refusedCount).to.be.greaterThan(10);
    await customer.close();
  });

  it('refuses proposals and navigation to forbidden addresses with a code', async function () {
    const { body } = await server.createSession(`${site.url}/ok`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    customer.send({ type: 'consent', accept: true });
    await agent.message('state', (m) => m.snapshot.state === 'live');
    for (const url of [`http://127.0.0.1:${canaryPort}/`, `http://internal.test:${canaryPort}/`, `http://rebind.test:${canaryPort}/`, 'http://169.254.169.254/latest/meta-data/']) {
      const before = agent.messages.length;
      agent.send({ type: 'navigate/propose', url });
      const err = await agent.waitFor(() => agent.messages.slice(before).find((m) => m.type === 'error'), 5000, `refusal for ${url}`);
      expect(err, url).to.include({ code: 'URL_REFUSED' });
    }
    for (const url of ['file:///etc/passwd', 'chrome://settings', 'javascript:alert(1)', 'data:text/html,hi', 'view-source:http://example.com/']) {
      const before = customer.messages.length;
      customer.send({ type: 'navigate', url });
      const err = await customer.waitFor(() => customer.messages.slice(before).find((m) => m.type === 'error'), 5000, `refusal for ${url}`);
      expect(err, url).to.include({ code: 'BAD_URL' });
    }
    expect(hits).to.deep.equal([]);
    customer.send({ type: 'end' });
    await agent.message('ended');
  });

  it('decides on the address it resolved, so a name with any private answer is refused', async function () {
    const d = await server.vitrine.egress.decide('rebind.test', canaryPort);
    expect(d.allowed).to.equal(false);
    const ok = await server.vitrine.egress.decide(site.host.split(':')[0]!, Number(site.host.split(':')[1]));
    expect(ok).to.include({ allowed: true, address: '127.0.0.1' });
  });
});
