/**
 * Faults: a renderer killed mid-session, a participant's socket cut mid-stream, floods of input,
 * joins and session creations, hostile HTTP, and a server restarted mid-session. Each time the
 * participants are told, the rest keeps working, and the audit trail still verifies.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { verifyLines } from '../../../server/audit/chain.ts';
import { loadConfig } from '../../../server/config.ts';
import { GREEN, PAGES } from '../../support/fixture-pages.ts';
import { rendererPids } from '../../support/renderers.ts';
import { framesAdvance } from '../../support/waits.ts';
import { NOTICE_WINDOW_MS } from '../../../server/browser/notice-throttle.ts';
import { colourAt, near, serveFixtures, sleep, startTestServer, TestClient, TEST_SECRET, type FixtureSite } from '../../../harness/harness.ts';

describe('chaos and floods', function () {
  this.timeout(120_000);
  let site: FixtureSite;
  before(async function () {
    site = await serveFixtures(PAGES);
  });
  after(async function () {
    await site?.close();
  });

  it("coalesces a page's dialog flood into a few notices and lets a navigation past beforeunload go ahead", async function () {
    const pages = await serveFixtures({
      '/alerts':
        '<!doctype html><title>Alerts</title><h1>alerts</h1><script>setTimeout(() => { const t = setInterval(() => alert("4111 1111 1111 1111"), 1); setTimeout(() => { clearInterval(t); document.title = "Alerts over"; }, 3000); }, 500)</script>',
      '/leave': '<!doctype html><title>Leave</title><h1>stay?</h1><script>addEventListener("beforeunload", (e) => { e.preventDefault(); e.returnValue = ""; })</script>',
    });
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: `${site.host},${pages.host}` });
    try {
      const { body } = await server.createSession(`${pages.url}/alerts`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await customer.message('notice', (m) => m.code === 'DIALOG_DISMISSED', 15_000);
      await customer.message('notice', (m) => m.code === 'DIALOG_DISMISSED' && /more times/.test(m.message), 15_000);
      // The flood is over (the page says so in its title); a total for its last dialogs is told at
      // most one window after them (notice-throttle.ts), and after that nothing more can come.
      await customer.message('state', (m) => m.snapshot.title === 'Alerts over', 15_000);
      await sleep(NOTICE_WINDOW_MS + 250);
      const dialogs = customer.messages.filter((m) => m.type === 'notice' && m.code === 'DIALOG_DISMISSED');
      // Hundreds of dialogs in 3 s; a notice at once and a total every 2 s at most.
      expect(dialogs.length, 'dialog notices').to.be.within(1, 4);
      expect(
        dialogs.some((m) => m.type === 'notice' && /more times/.test(m.message)),
        'a total was told',
      ).to.equal(true);
      expect(JSON.stringify(dialogs)).to.not.include('4111');
      customer.send({ type: 'end' });
      await customer.close();

      // beforeunload: the navigation the customer asked for proceeds.
      const s2 = await server.createSession(`${pages.url}/leave`);
      const c2 = await TestClient.join(server.url, s2.body.id, s2.body.customerToken);
      c2.send({ type: 'consent', accept: true });
      await c2.waitFor(() => c2.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Leave'), 15_000, 'the page');
      // A user gesture arms beforeunload in Chromium. Navigation is not queued behind input:
      // wait for the frame an applied click asks for (the page is still: nothing else draws).
      const clicked = framesAdvance(c2, 1);
      c2.click(100, 100);
      await clicked;
      c2.send({ type: 'navigate', url: `${site.url}/green` });
      await c2.waitFor(() => c2.messages.some((m) => m.type === 'state' && m.snapshot.title === 'Green'), 15_000, 'the page asked for');
      // The page did ask (the control: without it this proves nothing), and was told truthfully.
      expect(
        c2.messages.some((m) => m.type === 'notice' && /confirm leaving/.test(m.message)),
        'the beforeunload notice',
      ).to.equal(true);
      c2.send({ type: 'end' });
      await c2.close();
    } finally {
      await server.close();
      await pages.close();
    }
  });

  it('ends a session whose page loops forever with page_unresponsive, while a bystander on the same browser keeps its frames', async function () {
    const loops = await serveFixtures({ '/loop': '<!doctype html><title>Loop</title><h1>busy</h1><script>setTimeout(() => { for (;;) {} }, 800)</script>' });
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: `${site.host},${loops.host}` });
    try {
      // The bystander: a page that changes ten times a second, watched by its customer.
      const by = await server.createSession(`${site.url}/animated`);
      const bystander = await TestClient.join(server.url, by.body.id, by.body.customerToken);
      bystander.send({ type: 'consent', accept: true });
      await bystander.frameWhere(() => true);
      const { body } = await server.createSession(`${loops.url}/loop`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      const started = Date.now();
      const ended = await customer.message('ended', () => true, 30_000);
      expect(ended.reason).to.equal('page_unresponsive');
      expect(Date.now() - started, 'time to notice the stuck page').to.be.below(20_000);
      // The bystander's frames never stopped for long while the other page was stuck.
      const times = bystander.frames.filter((f) => f.at >= started).map((f) => f.at);
      let gap = 0;
      for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
      expect(times.length, 'bystander frames meanwhile').to.be.greaterThan(20);
      expect(gap, 'longest bystander frame gap (ms)').to.be.below(2500);
      await customer.waitFor(() => server.vitrine.pool.capacity().used === 1 || undefined, 15_000, 'the stuck page released');
      bystander.send({ type: 'end' });
      await Promise.all([customer.close(), bystander.close()]);
    } finally {
      await server.close();
      await loops.close();
    }
  });

  it('ends a session whose renderer is killed, tells its participants, and keeps serving new sessions', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_WARM_PAGES: '0' });
    try {
      const { body } = await server.createSession(`${site.url}/green`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      const agent = await TestClient.join(server.url, body.id, body.agentToken);
      customer.send({ type: 'consent', accept: true });
      await agent.frameWhere((img) => near(colourAt(img, 1000, 600), GREEN));
      const pids = rendererPids(server.vitrine.pool.browserPids()[0]!);
      expect(pids.length).to.be.greaterThan(0);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      expect((await agent.message('ended', () => true, 15_000)).reason).to.equal('page_crashed');
      expect((await customer.message('ended')).reason).to.equal('page_crashed');
      await customer.waitFor(() => server.vitrine.pool.capacity().used === 0 || undefined, 10_000, 'context released');
      const next = await server.createSession(`${site.url}/green`);
      expect(next.status).to.equal(201);
      const c2 = await TestClient.join(server.url, next.body.id, next.body.customerToken);
      c2.send({ type: 'consent', accept: true });
      await c2.frameWhere((img) => near(colourAt(img, 1000, 600), GREEN));
      await c2.close();
      await Promise.all([agent.close(), customer.close()]);
    } finally {
      await server.close();
    }
  });

  it('survives a socket cut mid-stream and floods of input, joins and session creations', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_SESSIONS_PER_AGENT_PER_MINUTE: '5', VITRINE_SESSIONS_PER_BROWSER: '20' });
    try {
      const { body } = await server.createSession(`${site.url}/noise`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      const victim = await TestClient.join(server.url, body.id, body.agentToken);
      customer.send({ type: 'consent', accept: true });
      await victim.frameWhere(() => true);
      (victim.ws as unknown as { _socket: import('node:net').Socket })._socket.destroy();
      const mark = customer.frames.length;
      // Within 1 s, as before, but done once they have come (the count only grows).
      await customer.waitFor(() => customer.frames.length - mark > 5, 1000, 'frames').catch(() => undefined);
      expect(customer.frames.length - mark, 'frames after a peer vanished').to.be.greaterThan(5);
      await customer.waitFor(() => server.vitrine.registry.get(body.id)!.participants.length === 1 || undefined, 5000, 'the cut socket removed');

      // Message flood (pings are always allowed): past the burst it is refused with RATE_LIMITED,
      // then the socket is closed; the session survives.
      const flooder = await TestClient.join(server.url, body.id, body.agentToken);
      for (let i = 0; i < 1500; i++) flooder.send({ type: 'ping', t: i });
      expect((await flooder.closed).code).to.equal(4429);
      expect(
        flooder.messages.filter((m) => m.type === 'error').map((m) => m.type === 'error' && m.code),
        'flood refusals',
      ).to.include('RATE_LIMITED');
      const heap = process.memoryUsage().heapUsed;

      // Session-creation flood: bounded per agent.
      const statuses: number[] = [];
      const token = await server.agentToken('flooder');
      for (let i = 0; i < 8; i++) statuses.push((await server.createSession(`${site.url}/green`, { token })).status);
      expect(statuses.filter((s) => s === 201)).to.have.length(5);
      expect(statuses.slice(5)).to.deep.equal([429, 429, 429]);

      // Join flood with bad tokens from one address: refused, then rate-limited (the same limit
      // then guards the REST API for that address, so it comes last).
      const codes: number[] = [];
      for (let i = 0; i < 30; i++) {
        const c = await TestClient.connect(server.url);
        c.send({ type: 'join', session: body.id, token: `bad-${i}` });
        codes.push((await c.closed).code);
      }
      expect(codes.slice(0, 5), 'first bad joins').to.deep.equal([4401, 4401, 4401, 4401, 4401]);
      expect(codes.at(-1)).to.equal(4429);

      customer.send({ type: 'ping', t: 5 });
      await customer.message('pong', (m) => m.t === 5);
      expect(process.memoryUsage().heapUsed - heap, 'heap growth during the floods').to.be.lessThan(64 * 1024 * 1024);
      await customer.close();
    } finally {
      await server.close();
    }
  });

  it('answers hostile HTTP with coded errors and stays up', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    try {
      const token = await server.agentToken();
      const tries: [string, RequestInit][] = [
        ['/api/sessions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: 'url=http://x' }],
        ['/api/sessions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"url":' + '"a'.repeat(1000) }],
        ['/api/sessions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: 'x'.repeat(200_000) }],
        ['/api/sessions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"__proto__":{"admin":true},"url":"http://x/"}' }],
        ['/api/sessions/..%2f..%2fetc%2fpasswd', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }],
        ['/assets/..%2f..%2fserver%2fconfig.ts', {}],
        ['/assets/%2e%2e/%2e%2e/package.json', {}],
        ['//api/sessions', { method: 'PUT' }],
        ['/api/recordings/%00', { headers: { authorization: `Bearer ${token}` } }],
      ];
      for (const [path, init] of tries) {
        const res = await fetch(`${server.url}${path}`, init);
        expect(res.status, path).to.be.within(400, 499);
        const text = await res.text();
        expect(text, path).to.not.match(/"dependencies"|VITRINE_PORT|at .*\.ts:\d+/);
        if (res.headers.get('content-type')?.includes('json')) expect(JSON.parse(text).error.code, path).to.be.a('string');
      }
      expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
    } finally {
      await server.close();
    }
  });

  it('keeps the audit chain whole across a server restart mid-session', async function () {
    const dataDir = mkdtempSync(join(tmpdir(), 'vitrine-restart-'));
    try {
      const env = { VITRINE_ALLOW_HOSTS: site.host, VITRINE_DATA_DIR: dataDir };
      const first = await startTestServer(env);
      const { body } = await first.createSession(`${site.url}/green`);
      const customer = await TestClient.join(first.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await customer.frameWhere(() => true);
      await first.close();
      expect((await customer.message('ended')).reason).to.equal('server_shutdown');
      const second = await startTestServer(env);
      const again = await second.createSession(`${site.url}/green`);
      expect(again.status).to.equal(201);
      await second.close();
      const lines = readFileSync(join(dataDir, 'audit', 'audit.log'), 'utf8').split('\n');
      const key = loadConfig({ VITRINE_JWT_SECRET: TEST_SECRET }).auditKey;
      const r = verifyLines(key, lines);
      expect(r.ok, JSON.stringify(r)).to.equal(true);
      const out = execFileSync('node', ['--import', 'tsx', 'server/cli.ts', 'audit', 'verify', join(dataDir, 'audit', 'audit.log')], {
        env: { ...process.env, VITRINE_JWT_SECRET: TEST_SECRET },
        encoding: 'utf8',
      });
      expect(out).to.match(/OK/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
