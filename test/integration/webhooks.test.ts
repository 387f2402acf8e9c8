/**
 * Signed webhooks end to end, with real sessions (real Chromium) and a real receiver that
 * verifies every signature with the `standardwebhooks` package: lifecycle events in order per
 * endpoint, per-endpoint filters, no token or secret in any payload, an endpoint on a private
 * address refused (SSRF), a receiver that is down for a while, and a restart of Vitrine while
 * events are still waiting (delivered after it, none lost, none twice by webhook-id).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { Outbox, OutboxCorruptError } from '../../server/integrations/outbox.ts';
import { backoffDelay } from '../../server/integrations/retry.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const FAST_RETRY = { VITRINE_WEBHOOK_RETRY_BASE_MS: '50', VITRINE_WEBHOOK_RETRY_MAX_MS: '400', VITRINE_WEBHOOK_MAX_ATTEMPTS: '200' };

function webhooksFile(dir: string, endpoints: { id: string; url: string; secret: string; events: string[] }[]): string {
  const file = join(dir, 'webhooks.json');
  writeFileSync(file, JSON.stringify({ endpoints }));
  return file;
}

async function deliveries(server: TestServer, query: string, token?: string): Promise<{ status: number; body: any }> {
  const t = token ?? (await server.staffToken('sup-1', 'supervisor'));
  const res = await fetch(`${server.url}/api/webhooks/deliveries?${query}`, { headers: { authorization: `Bearer ${t}` } });
  return { status: res.status, body: await res.json() };
}

async function until(pred: () => Promise<boolean> | boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('signed webhooks', function () {
  let site: FixtureSite;
  let dir: string;
  const secrets = { '/all': secret(), '/life': secret(), '/ended': secret() };
  const receiver = new WebhookReceiver(secrets);
  const elsewhere = new WebhookReceiver({ '/x': secret() });
  let server: TestServer;
  const opened: TestClient[] = [];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vitrine-webhooks-'));
    site = await serveFixtures(PAGES);
    await receiver.start();
    await elsewhere.start();
    const file = webhooksFile(dir, [
      { id: 'all', url: receiver.url('/all'), secret: secrets['/all'], events: ['*'] },
      { id: 'life', url: receiver.url('/life'), secret: secrets['/life'], events: ['session.*', 'control.*', 'navigation.approved', 'recording.*'] },
      { id: 'ended', url: receiver.url('/ended'), secret: secrets['/ended'], events: ['session.ended'] },
      // Loopback, but not allow-listed: the address policy refuses it like any private address
      // (before any connection: the receiver behind it never hears of it).
      { id: 'blocked', url: `https://127.0.0.1:${elsewhere.port}/x`, secret: secret(), events: ['*'] },
    ]);
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_WEBHOOKS_FILE: file, VITRINE_INTEGRATION_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, ...FAST_RETRY });
  });
  after(async function () {
    await Promise.all(opened.map((c) => c.close()));
    await server?.close();
    await receiver.stop();
    await elsewhere.stop();
    await site?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers a session's lifecycle, signed, in order, filtered per endpoint, with no token in any payload", async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    opened.push(customer, agent);
    customer.send({ type: 'consent', accept: true });
    await agent.message('state', (m) => m.snapshot.state === 'live');
    agent.send({ type: 'control/request' });
    await customer.message('control/requested');
    customer.send({ type: 'control/grant' });
    await agent.message('state', (m) => m.snapshot.control !== null);
    customer.send({ type: 'control/revoke' });
    await agent.next('state', (m) => m.snapshot.control === null);
    agent.send({ type: 'navigate/propose', url: `${site.url}/red` });
    const p = await customer.message('navigate/proposed');
    customer.send({ type: 'navigate/approve', id: p.proposal.id });
    await agent.message('navigate/answered', (m) => m.approved);
    await server.vitrine.registry.end(body.id, 'deleted');
    await receiver.until(
      () => receiver.on('/ended').some((r) => r.event.data.session === body.id) && receiver.on('/life').some((r) => r.event.type === 'session.ended' && r.event.data.session === body.id),
      20_000,
      'session.ended',
    );

    const life = receiver.on('/life').filter((r) => r.event.data.session === body.id);
    expect(life.map((r) => r.event.type)).to.deep.equal(['session.created', 'session.consented', 'control.granted', 'control.revoked', 'navigation.approved', 'session.ended']);
    expect(life.every((r) => r.verified)).to.equal(true);
    expect(life.at(-1)!.event.data).to.include({ reason: 'deleted', session: body.id });
    expect(life[0]!.event.data.actor).to.deep.equal({ sub: 'agent-1', role: 'agent' });
    expect(life[0]!.event.data.policy).to.have.property('name');
    expect(life[4]!.event.data.host).to.equal(site.host);
    const ended = receiver.on('/ended');
    expect(ended.map((r) => r.event.type)).to.deep.equal(['session.ended']);
    // The catch-all endpoint also gets every audit record, in the trail's order.
    const all = receiver.on('/all');
    expect(all.some((r) => r.event.type === 'audit.record' && r.event.data.record.type === 'participant.joined')).to.equal(true);
    const seqs = all.map((r) => (r.event.type === 'audit.record' ? r.event.data.record.seq : r.event.data.auditSeq));
    expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
    for (const path of ['/all', '/life', '/ended']) {
      const ids = receiver.on(path).map((r) => r.id);
      expect(new Set(ids).size, `${path}: one webhook-id per event`).to.equal(ids.length);
    }
    // Ids, roles, reasons, times and policy names only: no invite, session token or secret.
    const everything = receiver.received.map((r) => r.body).join('\n');
    for (const forbidden of [body.customerToken, body.agentToken, ...Object.values(secrets), 'eyJ', 'whsec_']) expect(everything).not.to.include(forbidden);
    expect(everything).not.to.include('Agent One');
    const latency = life.map((r) => r.at - Date.parse(r.event.timestamp));
    console.log(`      webhook delivery latency (audit record written → receiver): median ${latency.sort((a, b) => a - b)[latency.length >> 1]} ms, max ${Math.max(...latency)} ms`);
  });

  it('refuses an endpoint on a private address that is not allow-listed, and shows it in the delivery log', async function () {
    await until(async () => (await deliveries(server, 'endpoint=blocked&limit=5')).body.deliveries.length > 0, 10_000, 'blocked attempts');
    const { status, body } = await deliveries(server, 'endpoint=blocked&limit=5');
    expect(status).to.equal(200);
    expect(body.deliveries[0]).to.include({ endpoint: 'blocked', outcome: 'failed' });
    expect(body.deliveries[0].error).to.match(/^address_refused/);
    expect(elsewhere.received).to.have.length(0);
    expect(body.status.webhooks.find((w: any) => w.endpoint === 'blocked').pending).to.be.greaterThan(0);
    // Supervisors and auditors read it; agents do not.
    expect((await deliveries(server, 'limit=1', await server.agentToken())).status).to.equal(403);
    expect((await deliveries(server, 'limit=1', await server.staffToken('aud-1', 'auditor'))).status).to.equal(200);
    expect((await deliveries(server, 'limit=100000')).status).to.equal(400);
    expect(JSON.stringify(body)).not.to.include('whsec_');
  });

  it('retries with backoff while the receiver is down and delivers in order when it is back', async function () {
    await receiver.stop();
    const a = await server.createSession(`${site.url}/green`);
    const b = await server.createSession(`${site.url}/green`);
    await server.vitrine.registry.end(a.body.id, 'deleted');
    await server.vitrine.registry.end(b.body.id, 'ended_by_agent');
    await until(async () => (await deliveries(server, 'endpoint=life&outcome=failed&limit=50')).body.deliveries.filter((d: any) => d.error === 'ECONNREFUSED').length >= 3, 15_000, 'failed attempts');
    const stalled = (await deliveries(server, 'endpoint=life&limit=1')).body.status.webhooks.find((w: any) => w.endpoint === 'life');
    expect(stalled.pending).to.equal(4);
    expect(stalled.lastError).to.equal('ECONNREFUSED');
    await receiver.start();
    const mine = (path: string) => receiver.on(path).filter((r) => [a.body.id, b.body.id].includes(r.event.data.session));
    await receiver.until(() => mine('/life').length === 4, 20_000, 'queued events');
    expect(mine('/life').map((r) => `${r.event.type}:${r.event.data.session === a.body.id ? 'a' : 'b'}`)).to.deep.equal([
      'session.created:a',
      'session.created:b',
      'session.ended:a',
      'session.ended:b',
    ]);
    expect(mine('/life').every((r) => r.verified)).to.equal(true);
    // Signed afresh at each attempt: the timestamp is the delivering attempt's, not the first one's.
    const firstFailure = (await deliveries(server, `endpoint=life&webhookId=${mine('/life')[0]!.id}&limit=100`)).body.deliveries;
    expect(firstFailure.at(-1)).to.include({ outcome: 'failed' });
    expect(firstFailure[0]).to.include({ outcome: 'delivered', status: 204 });
    expect(firstFailure[0].attempt).to.be.greaterThan(1);
    expect(mine('/life')[0]!.timestamp * 1000).to.be.greaterThan(Date.parse(mine('/life')[0]!.event.timestamp) - 1000);
    await receiver.until(() => mine('/ended').length === 2, 10_000, 'ended events');
  });
});

describe('signed webhooks across a restart', function () {
  let dir: string;
  const secrets = { '/life': secret() };
  const receiver = new WebhookReceiver(secrets);
  let server: TestServer | null = null;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vitrine-webhooks-restart-'));
    await receiver.start();
  });
  after(async function () {
    await server?.close();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers what was still queued when the server stopped, after it starts again on the same data dir, once', async function () {
    const site = await serveFixtures(PAGES);
    const file = webhooksFile(dir, [{ id: 'life', url: receiver.url('/life'), secret: secrets['/life'], events: ['session.*'] }]);
    const env = { VITRINE_DATA_DIR: join(dir, 'data'), VITRINE_ALLOW_HOSTS: site.host, VITRINE_WEBHOOKS_FILE: file, VITRINE_INTEGRATION_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`, ...FAST_RETRY };
    try {
      server = await startTestServer(env);
      const first = await server.createSession(`${site.url}/green`);
      await server.vitrine.registry.end(first.body.id, 'deleted');
      await receiver.until(() => receiver.on('/life').length === 2, 10_000, 'first session delivered');

      await receiver.stop();
      const second = await server.createSession(`${site.url}/green`);
      const third = await server.createSession(`${site.url}/green`);
      await server.vitrine.registry.end(second.body.id, 'deleted');
      await until(() => (server!.vitrine.integrations!.status().webhooks[0]!.attempt ?? 0) >= 2, 10_000, 'a retry under way');
      // Stopping ends `third` (server_shutdown): that event too is queued, not sent.
      await server.close();
      server = null;

      server = await startTestServer(env);
      expect(server.vitrine.integrations!.status().webhooks[0]!.pending).to.equal(4);
      await receiver.start();
      await receiver.until(() => receiver.on('/life').length === 6, 20_000, 'queued events after the restart');
      const got = receiver.on('/life').map((r) => `${r.event.type}:${[first, second, third].findIndex((s) => s.body.id === r.event.data.session)}`);
      expect(got).to.deep.equal(['session.created:0', 'session.ended:0', 'session.created:1', 'session.created:2', 'session.ended:1', 'session.ended:2']);
      expect(receiver.on('/life').at(-1)!.event.data.reason).to.equal('server_shutdown');
      expect(receiver.on('/life').every((r) => r.verified)).to.equal(true);
      const ids = receiver.on('/life').map((r) => r.id);
      expect(new Set(ids).size).to.equal(ids.length);
      // Nothing more trickles in later (no second delivery of anything): once the outbox is
      // empty, nothing is left that could be delivered again.
      const live = server;
      await until(() => live.vitrine.integrations!.status().webhooks[0]!.pending === 0, 10_000, 'the outbox to empty');
      expect(receiver.on('/life')).to.have.length(6);
      expect(server.vitrine.integrations!.status().webhooks[0]!.pending).to.equal(0);
    } finally {
      await site.close();
    }
  });
});

describe('webhook settings', function () {
  it('refuses bad endpoint files without echoing secrets', function () {
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-webhooks-config-'));
    try {
      const s = secret();
      const cases: [unknown, RegExp][] = [
        [{ endpoints: [{ id: 'a', url: 'https://example.com/h', secret: 'not-a-secret', events: ['*'] }] }, /secret: expected whsec_/],
        [{ endpoints: [{ id: 'a', url: 'https://example.com/h', secret: s, events: ['session.nope'] }] }, /events\.0/],
        [{ endpoints: [{ id: 'a', url: 'http://example.com/h', secret: s, events: ['*'] }] }, /plain http only/],
        [
          {
            endpoints: [
              { id: 'a', url: 'https://example.com/h', secret: s, events: ['*'] },
              { id: 'a', url: 'https://example.com/i', secret: s, events: ['*'] },
            ],
          },
          /unique/,
        ],
        [{ endpoints: [{ id: 'a', url: 'https://u:p@example.com/h', secret: s, events: ['*'] }] }, /no credentials/],
      ];
      for (const [content, problem] of cases) {
        const file = join(dir, 'w.json');
        writeFileSync(file, JSON.stringify(content));
        let err: unknown;
        try {
          loadConfig({ VITRINE_WEBHOOKS_FILE: file });
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(content)).to.be.instanceOf(ConfigError);
        expect((err as Error).message).to.match(problem);
        expect((err as Error).message).not.to.include(s.slice(6));
      }
      const ok = join(dir, 'ok.yaml');
      writeFileSync(ok, `endpoints:\n  - id: crm\n    url: https://crm.example.com/hooks\n    secret: ${s}\n    events: [session.*, recording.ready]\n`);
      const c = loadConfig({ VITRINE_WEBHOOKS_FILE: ok });
      expect(c.integrations.webhooks).to.have.length(1);
      expect(c.integrations.webhooks[0]).to.include({ id: 'crm', secret: s });
      expect(() => loadConfig({ VITRINE_SYSLOG_URL: 'udp://siem:514' })).to.throw(ConfigError, /tls:\/\/host:port/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('durable outbox and retry timing', function () {
  const schema = z.object({ n: z.number() });
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vitrine-outbox-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps undelivered items in order across reopenings, drops a torn last line, and compacts', function () {
    const file = join(dir, 'x.outbox');
    let box = new Outbox(file, { schema, maxEntries: 5000, startAt: 7 });
    expect(box.sourceCursor).to.equal(7);
    for (let i = 1; i <= 3; i++) box.append({ n: i }, 7 + i);
    box.ack(box.peek()!.seq);
    box.close();
    appendFileSync(file, '{"op":"add","seq":99,"src":5'); // a crash mid-write
    box = new Outbox(file, { schema, maxEntries: 5000, startAt: 0 });
    expect(box.size).to.equal(2);
    expect(box.peek()!.data).to.deep.equal({ n: 2 });
    expect(box.sourceCursor).to.equal(10);
    for (let i = 4; i <= 1500; i++) box.append({ n: i }, 7 + i);
    while (box.size > 1) box.ack(box.peek()!.seq);
    // Without compaction the journal would hold ~3000 lines (~200 kB).
    expect(box.bytes()).to.be.lessThan(80_000);
    box.close();
    box = new Outbox(file, { schema, maxEntries: 5000, startAt: 0 });
    expect(box.size).to.equal(1);
    expect(box.peek()!.data).to.deep.equal({ n: 1500 });
    expect(box.append({ n: 1501 }, 1508)).to.equal(true);
    expect(box.after(box.peek()!.seq, 10).map((e) => e.data.n)).to.deep.equal([1501]);
    box.close();
    writeFileSync(file, '{"op":"add","seq":1,"src":1,"at":"x","data":{"n":"not a number"}}\n');
    expect(() => new Outbox(file, { schema, maxEntries: 10, startAt: 0 })).to.throw(OutboxCorruptError, /line 1/);
  });

  it('refuses items past its bound instead of filling the disk', function () {
    const box = new Outbox(join(dir, 'y.outbox'), { schema, maxEntries: 2, startAt: 0 });
    expect([1, 2, 3].map((n) => box.append({ n }, n))).to.deep.equal([true, true, false]);
    expect(box.dropped).to.equal(1);
    expect(box.sourceCursor).to.equal(3);
    box.close();
  });

  it('backs off exponentially with jitter between half and all of each step, up to the cap', function () {
    const retry = { baseMs: 1000, maxMs: 3_600_000 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, retry, () => 0))).to.deep.equal([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, retry, () => 1))).to.deep.equal([1000, 2000, 4000, 8000]);
    expect(backoffDelay(30, retry, () => 1)).to.equal(3_600_000);
    // The default schedule (20 attempts) spans about 4 to 8 hours before an event is abandoned.
    const total = (r: number) => Array.from({ length: 19 }, (_, i) => backoffDelay(i + 1, retry, () => r)).reduce((a, b) => a + b, 0);
    expect(total(0) / 3_600_000).to.be.within(4, 4.2);
    expect(total(1) / 3_600_000).to.be.within(8, 8.3);
  });
});
