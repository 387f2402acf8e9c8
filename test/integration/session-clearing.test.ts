/**
 * Whatever ends a session, it ends the same way: the browser context and everything the page
 * stored are gone, participants get nothing after `ended`, and a browser crash ends its sessions
 * with a reason, leaves no data behind, and the pool recovers.
 */
import { expect } from 'chai';
import { GREEN, RED } from '../support/fixture-pages.ts';
import { colourAt, near, serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const STORE = `<!doctype html><title>Store</title><body><script>
document.cookie = 'vitrine_probe=1; max-age=3600; path=/';
localStorage.setItem('vitrine_probe', '1');
sessionStorage.setItem('vitrine_probe', '1');
const open = indexedDB.open('vitrine_probe', 1);
open.onupgradeneeded = () => open.result.createObjectStore('s');
open.onsuccess = () => { const tx = open.result.transaction('s', 'readwrite'); tx.objectStore('s').put('1', 'k'); tx.oncomplete = () => {
  // Service workers are off in sessions (never let run): the registration is tried, and may stay
  // pending; whatever it left must be gone in the next session too.
  const sw = navigator.serviceWorker.register('/sw.js').then(() => navigator.serviceWorker.ready).catch(() => undefined);
  Promise.race([sw, new Promise((r) => setTimeout(r, 1500))]).then(() => { document.title = 'Stored'; document.body.style.background = 'rgb(0,160,0)'; });
}; };
</script></body>`;

const CHECK = `<!doctype html><title>Check</title><body><script>
(async () => {
  const found = [];
  if (document.cookie.includes('vitrine_probe')) found.push('cookie');
  if (localStorage.getItem('vitrine_probe')) found.push('localStorage');
  if ((await indexedDB.databases()).some((d) => d.name === 'vitrine_probe')) found.push('indexedDB');
  if ((await navigator.serviceWorker.getRegistrations()).length) found.push('serviceWorker');
  document.title = found.length ? 'Found ' + found.join(',') : 'Clean';
  document.body.style.background = found.length ? 'rgb(220,0,0)' : 'rgb(0,160,0)';
})();
</script></body>`;

describe('end-of-session clearing', function () {
  let site: FixtureSite;
  let server: TestServer;

  before(async function () {
    site = await serveFixtures({
      '/store': STORE,
      '/check': CHECK,
      '/sw.js': (_req, res) => res.writeHead(200, { 'content-type': 'text/javascript' }).end('self.addEventListener("fetch", () => {});'),
    });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_BROWSERS: '1', VITRINE_WARM_PAGES: '0' });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  async function visit(path: string, title: RegExp): Promise<{ customer: TestClient; title: string; id: string }> {
    const { body } = await server.createSession(`${site.url}${path}`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    const state = await customer.waitFor(() => customer.messages.find((m) => m.type === 'state' && title.test(m.snapshot.title)), 15_000, `title ${title}`);
    return { customer, title: state.type === 'state' ? state.snapshot.title : '', id: body.id };
  }

  it('leaves no cookie, storage, IndexedDB or service worker for the next session on the same browser', async function () {
    const pid = server.vitrine.pool.browserPids()[0];
    const first = await visit('/store', /^Stored$/);
    await first.customer.frameWhere((img) => near(colourAt(img, 1000, 600), GREEN));
    first.customer.send({ type: 'end' });
    await first.customer.message('ended');
    const count = first.customer.messages.length;
    // The server closes the socket right after 'ended': once closed, nothing more can arrive.
    await first.customer.closed;
    expect(first.customer.messages.length, 'messages after ended').to.equal(count);

    const second = await visit('/check', /^(Clean|Found)/);
    expect(server.vitrine.pool.browserPids()[0]).to.equal(pid); // the same browser process
    expect(second.title).to.equal('Clean');
    await second.customer.frameWhere((img) => near(colourAt(img, 1000, 600), GREEN));
    second.customer.send({ type: 'end' });
    await second.customer.message('ended');
  });

  it('ends the sessions of a crashed browser with a reason, replaces the browser, and keeps data gone', async function () {
    const first = await visit('/store', /^Stored$/);
    const pid = server.vitrine.pool.browserPids()[0]!;
    const restarts = server.vitrine.pool.restarts;
    process.kill(pid, 'SIGKILL');
    const ended = await first.customer.message('ended', () => true, 10_000);
    expect(ended.reason).to.equal('browser_crashed');
    await first.customer.waitFor(() => server.vitrine.pool.restarts === restarts + 1 && server.vitrine.pool.browserPids().length === 1 && server.vitrine.pool.ready(), 20_000, 'a replacement browser');
    expect(server.vitrine.pool.browserPids()[0]).to.not.equal(pid);
    const after = await visit('/check', /^(Clean|Found)/);
    expect(after.title).to.equal('Clean');
    await after.customer.frameWhere((img) => !near(colourAt(img, 1000, 600), RED));
    after.customer.send({ type: 'end' });
    await after.customer.message('ended');
  });
});
