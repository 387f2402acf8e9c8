/**
 * A policy's allow/deny lists confine everything a page starts, not only the page: dedicated and
 * shared workers, service workers (install and fetch handler), WebSockets, speculation-rules
 * prefetch and prerender, and popups. Two canaries on loopback, both reachable as far as the
 * address checks go: ALLOWED is on the policy's allow list, DENIED is not. Each vector is run
 * once against ALLOWED (the control: the vector fires and reaches it) and once against DENIED,
 * which must receive nothing. Service workers and speculation rules are off in every session, so
 * their control runs the same page in a plain Chromium of the same build: it proves the page
 * really fires the vector there.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import puppeteer from 'puppeteer-core';
import { resolveBrowser } from '../../server/browser/launch.ts';
import { createLogger } from '../../server/log.ts';
import { parsePolicy, PolicyStore } from '../../server/policy/store.ts';
import { storePolicies } from '../../server/server.ts';
import { startTestServer, TestClient, type TestServer } from '../../harness/harness.ts';
import { until } from '../support/waits.ts';

interface Canary {
  server: Server;
  port: number;
  origin: string;
  hits: string[];
}

async function canary(): Promise<Canary> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*', 'cache-control': 'no-store' }).end('canary');
  });
  server.on('upgrade', (req, socket) => {
    hits.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, port, origin: `http://127.0.0.1:${port}`, hits };
}

const js = (body: string) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(body);
const html = (title: string, body: string) => `<!doctype html><title>${title}</title><body style="margin:0">${body}</body>`;

/** The vector pages; `T` is the canary origin (query `t`), `done(v)` tells the site the attempt is over. */
function vectorPages(done: string[]): Record<string, (req: IncomingMessage, res: ServerResponse) => void> {
  const page =
    (title: string, script: (t: string) => string, extra = '') =>
    (req: IncomingMessage, res: ServerResponse) => {
      const t = new URL(req.url ?? '/', 'http://x').searchParams.get('t') ?? '';
      res
        .writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' })
        .end(html(title, `${extra.replaceAll('$T', t)}<script>const T=${JSON.stringify(t)};const done=(v)=>fetch('/done/'+v+'?t='+encodeURIComponent(T)).catch(()=>{});${script(t)}</script>`));
    };
  return {
    '/done/worker': (req, res) => (done.push('worker'), res.end()),
    '/done/shared': (req, res) => (done.push('shared'), res.end()),
    '/done/sw': (req, res) => (done.push('sw'), res.end()),
    // Which canary's attempt ended: a control page torn down late must not stand for the next one.
    '/done/ws': (req, res) => (done.push(`ws ${new URL(req.url ?? '/', 'http://x').searchParams.get('t') ?? ''}`), res.end()),
    '/done/spec': (req, res) => (done.push('spec'), res.end()),
    '/worker': page('Worker', () => `new Worker('/w.js?t='+encodeURIComponent(T)).onmessage=()=>done('worker');`),
    '/w.js': js(`const T=new URL(location).searchParams.get('t');
      const x=new XMLHttpRequest();x.open('GET',T+'/dw-xhr');x.onloadend=()=>fetch(T+'/dw-fetch').catch(()=>{}).finally(()=>postMessage(1));x.send();`),
    '/shared': page('Shared', () => `const w=new SharedWorker('/shw.js?t='+encodeURIComponent(T));w.port.onmessage=()=>done('shared');w.port.start();`),
    '/shw.js': js(`const T=new URL(location).searchParams.get('t');
      onconnect=(e)=>{const p=e.ports[0];fetch(T+'/shw-fetch').catch(()=>{}).finally(()=>p.postMessage(1));};`),
    '/sw': page(
      'ServiceWorker',
      () => `
      const settle=()=>fetch('/sw-scope/page').then(r=>r.text()).catch(()=>'').finally(()=>done('sw'));
      navigator.serviceWorker.register('/sw-scope/sw.js?t='+encodeURIComponent(T),{scope:'/'}).then(()=>{
        if(navigator.serviceWorker.controller)settle();else navigator.serviceWorker.addEventListener('controllerchange',settle);
      },()=>done('sw'));setTimeout(()=>done('sw'),4000);`,
    ),
    '/sw-scope/sw.js': (req, res) => (
      res.setHeader('service-worker-allowed', '/'),
      js(`const T=new URL(location).searchParams.get('t');
      self.addEventListener('install',(e)=>{e.waitUntil(fetch(T+'/sw-install').catch(()=>{}).then(()=>self.skipWaiting()))});
      self.addEventListener('activate',(e)=>e.waitUntil(clients.claim()));
      self.addEventListener('fetch',(e)=>{if(new URL(e.request.url).pathname.startsWith('/sw-scope/page'))e.respondWith(fetch(T+'/sw-fetch'))});`)(req, res)
    ),
    '/sw-scope/page': (req, res) => res.end('from the site'),
    '/ws': page('WebSocket', () => `const s=new WebSocket(T.replace('http','ws')+'/socket');s.onerror=s.onclose=()=>done('ws');`),
    '/spec': page(
      'Speculation',
      () => `setTimeout(()=>done('spec'),3000);`,
      `<script type="speculationrules">{"prefetch":[{"source":"list","urls":["$T/prefetch"]}],"prerender":[{"source":"list","urls":["$T/prerender"]}]}</script>`,
    ),
    '/popup': page('Popup', () => `document.body.onclick=()=>window.open(T+'/popup-target');`, '<div style="width:100%;height:300px;background:#fff">open</div>'),
  };
}

describe('policy lists confine every target of a session', function () {
  let allowed: Canary;
  let denied: Canary;
  let site: Canary & { close(): Promise<void> };
  let server: TestServer;
  const done: string[] = [];

  before(async function () {
    [allowed, denied] = await Promise.all([canary(), canary()]);
    const pages = vectorPages(done);
    const siteServer = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const handler = pages[path];
      if (handler) return handler(req, res);
      // The site also serves its own same-origin prefetch and prerender targets.
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => siteServer.listen(0, '127.0.0.1', r));
    const port = (siteServer.address() as AddressInfo).port;
    site = {
      server: siteServer,
      port,
      origin: `http://127.0.0.1:${port}`,
      hits: [],
      close: async () => (siteServer.closeAllConnections(), await new Promise<void>((r) => siteServer.close(() => r()))),
    };
    const lists = parsePolicy('confined', `allow: ["*://127.0.0.1:${port}/*", "*://127.0.0.1:${allowed.port}/*"]\n`).policy!;
    const store = new PolicyStore([lists, { ...lists, name: 'default', file: {} }]);
    const log = createLogger('silent');
    // Both canaries pass the address checks: only the policy's lists tell them apart.
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: [site, allowed, denied].map((c) => `127.0.0.1:${c.port}`).join(',') }, { policies: storePolicies(store, log), log });
  });
  after(async function () {
    await server?.close();
    await site?.close();
    for (const c of [allowed, denied]) {
      c?.server.closeAllConnections();
      await new Promise((r) => c?.server.close(r));
    }
  });
  afterEach(function () {
    expect(denied.hits, 'requests that reached the denied canary').to.deep.equal([]);
  });

  async function session(path: string, target: Canary, title: string): Promise<{ customer: TestClient; agent: TestClient }> {
    const { body } = await server.createSession(`${site.origin}${path}?t=${encodeURIComponent(target.origin)}`, { policy: 'confined' });
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    customer.send({ type: 'consent', accept: true });
    await customer.waitFor(() => customer.messages.some((m) => m.type === 'state' && m.snapshot.title === title), 15_000, title);
    return { customer, agent };
  }
  async function end(c: { customer: TestClient; agent: TestClient }): Promise<void> {
    c.customer.send({ type: 'end' });
    await c.agent.message('ended');
    await Promise.all([c.customer.close(), c.agent.close()]);
  }
  const waitFor = (what: () => boolean, label: string, ms = 15_000) => until(label, what, ms);
  const count = (c: Canary, needle: string) => c.hits.filter((h) => h.includes(needle)).length;
  /** Both sides are told, once: the refusal notices of a burst are coalesced. */
  async function bothTold(c: { customer: TestClient; agent: TestClient }): Promise<void> {
    for (const p of [c.customer, c.agent]) await p.waitFor(() => p.messages.some((m) => m.type === 'notice' && m.code === 'NAVIGATION_FAILED'), 10_000, 'refusal notice');
    const told = c.agent.messages.filter((m) => m.type === 'notice' && m.code === 'NAVIGATION_FAILED').length;
    expect(told, 'notices for one burst of refusals').to.be.at.most(2);
  }

  it('dedicated worker: fetch and XHR', async function () {
    const control = await session('/worker', allowed, 'Worker');
    await waitFor(() => count(allowed, '/dw-fetch') > 0 && count(allowed, '/dw-xhr') > 0, 'control worker requests');
    await end(control);
    done.length = 0;
    const atProxy = server.vitrine.egress.listRefusedCount;
    const s = await session('/worker', denied, 'Worker');
    await waitFor(() => done.includes('worker'), 'worker attempt over');
    // Stopped inside the browser by the worker's own Fetch domain, as it would be inside TLS.
    expect(server.vitrine.egress.listRefusedCount, 'refusals left to the proxy').to.equal(atProxy);
    await bothTold(s);
    await end(s);
  });

  it('shared worker: fetch', async function () {
    const control = await session('/shared', allowed, 'Shared');
    await waitFor(() => count(allowed, '/shw-fetch') > 0, 'control shared worker request');
    await end(control);
    done.length = 0;
    const atProxy = server.vitrine.egress.listRefusedCount;
    const s = await session('/shared', denied, 'Shared');
    await waitFor(() => done.includes('shared'), 'shared worker attempt over');
    expect(server.vitrine.egress.listRefusedCount, 'refusals left to the proxy').to.equal(atProxy);
    await bothTold(s);
    await end(s);
  });

  it('WebSocket to a denied host', async function () {
    const control = await session('/ws', allowed, 'WebSocket');
    await waitFor(() => count(allowed, 'UPGRADE /socket') > 0, 'control WebSocket');
    await end(control);
    done.length = 0;
    const atProxy = server.vitrine.egress.listRefusedCount;
    const s = await session('/ws', denied, 'WebSocket');
    await waitFor(() => done.includes(`ws ${denied.origin}`), 'WebSocket attempt over');
    // No Fetch domain sees a WebSocket handshake: the session's own egress route refused it.
    expect(server.vitrine.egress.listRefusedCount, 'refusals at the proxy').to.be.greaterThan(atProxy);
    await bothTold(s);
    await end(s);
  });

  it('popup (window.open): closed before its first request, its address refused', async function () {
    // One click: the page opens its popup.
    const clickFor = async (c: TestClient, code: string) => {
      c.click(100, 100);
      await c.waitFor(() => c.messages.some((m) => m.type === 'notice' && m.code === code), 10_000, code);
    };
    const control = await session('/popup', allowed, 'Popup');
    await clickFor(control.customer, 'POPUP_REDIRECTED');
    await control.customer.message('notice', (m) => m.code === 'POPUP_REDIRECTED');
    // The session page has loaded the address (its response came back), so a request the held
    // popup sent before that would have reached the canary too: loaded once, by the session page.
    await control.customer.message('state', (m) => m.snapshot.url.includes('/popup-target'));
    await waitFor(() => count(allowed, '/popup-target') > 0, 'control popup address loaded');
    expect(count(allowed, '/popup-target')).to.equal(1);
    await end(control);
    const s = await session('/popup', denied, 'Popup');
    await clickFor(s.customer, 'POPUP_REFUSED');
    // The notice comes once the popup's first request was failed before it left (target-guard.ts
    // holdPopup): nothing of it can reach the denied canary after (checked in afterEach).
    for (const p of [s.customer, s.agent]) await p.message('notice', (m) => m.code === 'POPUP_REFUSED');
    await end(s);
  });

  describe('service workers and speculation rules (off in sessions)', function () {
    let plain: import('puppeteer-core').Browser;
    before(async function () {
      // The control browser: the same Chromium build without Vitrine's flags or guards. It loads
      // only these loopback fixtures; as root it cannot have Chromium's sandbox.
      plain = await puppeteer.launch({ executablePath: resolveBrowser(undefined).path, headless: 'shell', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    });
    after(async function () {
      await plain?.close();
    });
    async function inPlain(path: string, until: () => boolean, label: string): Promise<void> {
      const ctx = await plain.createBrowserContext();
      const page = await ctx.newPage();
      await page.goto(`${site.origin}${path}?t=${encodeURIComponent(allowed.origin)}`);
      await waitFor(until, label);
      await ctx.close();
    }

    it('service worker: its install fetch and its fetch handler', async function () {
      await inPlain('/sw', () => count(allowed, '/sw-install') > 0 && count(allowed, '/sw-fetch') > 0, 'control service worker requests');
      done.length = 0;
      const before = allowed.hits.length;
      const s = await session('/sw', allowed, 'ServiceWorker');
      // The page says its attempt is over only after the install fetch and the fetch through the
      // worker came back (or the registration failed): their requests would have arrived before.
      await waitFor(() => done.includes('sw'), 'service worker attempt over');
      // Off even towards an allowed address: its content would be served under the site's URL.
      expect(allowed.hits.slice(before), 'service worker requests from a session').to.deep.equal([]);
      await end(s);
      done.length = 0;
      const d = await session('/sw', denied, 'ServiceWorker');
      await waitFor(() => done.includes('sw'), 'service worker attempt over');
      await end(d);
    });

    it('speculation rules: prefetch and prerender', async function () {
      await inPlain('/spec', () => count(allowed, '/prefetch') > 0 && count(allowed, '/prerender') > 0, 'control prefetch and prerender');
      done.length = 0;
      const before = allowed.hits.length;
      const s = await session('/spec', allowed, 'Speculation');
      // The page gives the browser 3 s to speculate before it says the attempt is over (its own
      // timer above); the control shows that the page does make both requests.
      await waitFor(() => done.includes('spec'), 'speculation attempt over');
      expect(allowed.hits.slice(before), 'speculative requests from a session').to.deep.equal([]);
      await end(s);
      done.length = 0;
      const d = await session('/spec', denied, 'Speculation');
      await waitFor(() => done.includes('spec'), 'speculation attempt over');
      await end(d);
    });
  });
});
