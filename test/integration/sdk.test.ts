/**
 * The SDK as integrators get it: the built bundle (sdk/dist/index.js, rebuilt here) drives a
 * real Vitrine server (real Chromium behind session creation), refusals come back as typed
 * errors with the server's codes, webhook deliveries signed with the standardwebhooks package
 * verify and tampered ones are refused, and the events the server's sender builds parse.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type * as Sdk from '../../sdk/src/index.ts';
import { buildSdk } from '../../sdk/build.ts';
import { serveFixtures, startTestServer, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const SECRET = `whsec_${Buffer.from('a webhook endpoint secret of 32 bytes').toString('base64')}`;

describe('SDK (@vitrine/sdk)', function () {
  this.timeout(120_000);
  let sdk: typeof Sdk;
  let server: TestServer;
  let site: FixtureSite;

  before(async function () {
    const { inputs } = await buildSdk();
    // Only the SDK and the Node-free contract are in the bundle (the build refuses anything else).
    expect(inputs.some((f) => f.startsWith('server/contract/'))).to.equal(true);
    expect(inputs.filter((f) => f.startsWith('server/') && !/^server\/(contract\/|protocol\.ts|errors\.ts)/.test(f))).to.deep.equal([]);
    // The artifact, not the source: a cache-busting query gets the fresh build.
    sdk = (await import(`../../sdk/dist/index.js?t=${Date.now()}` as string)) as typeof Sdk;
    site = await serveFixtures({ '/': '<!doctype html><title>Account</title><h1>Your account</h1>' });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  it('is its own package, and its bundle imports nothing of Node', function () {
    const pkg = JSON.parse(readFileSync(new URL('../../sdk/package.json', import.meta.url), 'utf8'));
    expect(pkg.name).to.equal('@vitrine/sdk');
    const bundle = readFileSync(new URL('../../sdk/dist/index.js', import.meta.url), 'utf8');
    const imports = [...bundle.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect([...new Set(imports)].sort()).to.deep.equal(['standardwebhooks', 'zod']);
  });

  it('creates, lists, gets and ends a session against a real server', async function () {
    const agent = new sdk.VitrineClient({ baseUrl: server.url, token: () => server.agentToken('agent-sdk', 'Sam') });
    expect((await agent.me()).roles).to.deep.equal(['agent']);
    const created = await agent.createSession({ url: `${site.url}/` });
    expect(created.id).to.be.a('string');
    expect('customerUrl' in created && created.customerUrl).to.match(/\/s\//);
    const { sessions } = await agent.listSessions();
    expect(sessions.map((s) => s.id)).to.include(created.id);
    const one = await agent.getSession(created.id);
    expect(one).to.include({ id: created.id, state: 'waiting', agent: 'Sam' });
    expect((await agent.rejoinSession(created.id)).agentToken).to.be.a('string');
    const supervisor = new sdk.VitrineClient({ baseUrl: server.url, token: await server.staffToken('sup-sdk', 'supervisor', 'Sue') });
    expect((await supervisor.observeSession(created.id)).token).to.be.a('string');
    await agent.endSession(created.id);
    expect((await agent.listSessions()).sessions.map((s) => s.id)).to.not.include(created.id);
  });

  it('surfaces refusals as typed errors with the server codes', async function () {
    const refusal = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e;
      }
      throw new Error('expected a refusal');
    };
    const agent = new sdk.VitrineClient({ baseUrl: server.url, token: await server.agentToken('agent-sdk', 'Sam') });
    const missing = await refusal(agent.endSession('no-such-session'));
    expect(missing).to.be.instanceOf(sdk.VitrineApiError);
    expect(missing).to.include({ code: 'NO_SUCH_SESSION', status: 404 });
    expect(await refusal(agent.getSession('no-such-session'))).to.include({ code: 'NO_SUCH_SESSION' });
    expect(await refusal(agent.createSession({ url: 'http://169.254.169.254/latest/meta-data/' }))).to.be.instanceOf(sdk.VitrineApiError);
    expect(await refusal(agent.createSession({ url: '' }))).to.include({ code: 'BAD_REQUEST' });
    const stranger = new sdk.VitrineClient({ baseUrl: server.url, token: 'not.a.jwt' });
    const unauth = await refusal(stranger.listSessions());
    expect(unauth).to.include({ code: 'UNAUTHENTICATED', status: 401 });
    expect(String((unauth as Error).message)).to.not.contain('not.a.jwt');
    const nobody = new sdk.VitrineClient({ baseUrl: 'http://127.0.0.1:9', token: 'x', timeoutMs: 2000 });
    expect(await refusal(nobody.listSessions())).to.be.instanceOf(sdk.VitrineNetworkError);
  });

  it('verifies Standard Webhooks signatures and refuses tampered deliveries', function () {
    const receiver = new sdk.WebhookReceiver(SECRET);
    const body = JSON.stringify({ type: 'session.ended', timestamp: new Date().toISOString(), data: { auditSeq: 7, session: 's-1', reason: 'ended_by_customer' } });
    const id = 'msg_0123456789abcdef0123456789abcdef';
    const now = new Date();
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(SECRET).sign(id, now, body) };
    const event = receiver.verify(body, headers);
    expect(event).to.deep.include({ id, type: 'session.ended' });
    if (event.type !== 'session.ended') throw new Error('narrowed by type');
    expect(event.data.reason).to.equal('ended_by_customer');
    expect(receiver.verify(new TextEncoder().encode(body), new Headers(headers)).id).to.equal(id);

    const refused = (b: string, h: Record<string, string>) => expect(() => receiver.verify(b, h)).to.throw(sdk.WebhookVerificationError);
    refused(body.replace('ended_by_customer', 'ended_by_agent'), headers);
    refused(body, { ...headers, 'webhook-id': 'msg_ffffffffffffffffffffffffffffffff' });
    refused(body, { ...headers, 'webhook-signature': new Webhook(`whsec_${Buffer.from('another secret, another endpoint').toString('base64')}`).sign(id, now, body) });
    const old = new Date(Date.now() - 10 * 60_000);
    refused(body, { ...headers, 'webhook-timestamp': String(Math.floor(old.getTime() / 1000)), 'webhook-signature': new Webhook(SECRET).sign(id, old, body) });
    const { 'webhook-signature': _, ...unsigned } = headers;
    refused(body, unsigned);
    // Signed but not a Vitrine event: refused too.
    const alien = JSON.stringify({ type: 'invoice.paid', timestamp: now.toISOString(), data: {} });
    refused(alien, { ...headers, 'webhook-signature': new Webhook(SECRET).sign(id, now, alien) });
  });

  it('parses the events the server sender builds (same event types)', async function () {
    const events = await import('../../server/integrations/events.ts');
    const { webhookBody } = await import('../../server/integrations/webhooks.ts');
    expect([...sdk.WEBHOOK_EVENT_TYPES]).to.deep.equal([...events.WEBHOOK_EVENT_TYPES]);
    const rec = {
      seq: 3,
      prev: 'p',
      mac: 'm'.repeat(64),
      at: new Date().toISOString(),
      type: 'session.ended' as const,
      session: 's-9',
      actor: { sub: 'agent-1', role: 'agent' },
      policy: { name: 'default', version: '1' },
      details: { reason: 'deleted' },
    };
    const receiver = new sdk.WebhookReceiver(SECRET);
    const out = events.webhookEventsFor(rec);
    expect(out.map((e) => e.type)).to.deep.equal(['session.ended', 'audit.record']);
    for (const e of out) {
      const body = webhookBody(e);
      const now = new Date();
      const parsed = receiver.verify(body, { 'webhook-id': e.id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(SECRET).sign(e.id, now, body) });
      expect(parsed.type).to.equal(e.type);
    }
  });

  it('builds the agent console frame with the token in the fragment only', function () {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
    const url = new URL(sdk.agentConsoleUrl({ baseUrl: 'https://cobrowse.bank.example', staffToken: token }));
    expect(url.pathname).to.equal('/agent');
    expect(url.search).to.equal('');
    expect(new URLSearchParams(url.hash.slice(1)).get('token')).to.equal(token);
    expect(() => sdk.agentConsoleUrl({ baseUrl: 'http://cobrowse.bank.example', staffToken: token })).to.throw(TypeError);
    expect(sdk.frameAncestorsAllow("default-src 'none'; frame-ancestors https://bank.zendesk.com", 'https://bank.zendesk.com')).to.equal(true);
    expect(sdk.frameAncestorsAllow("frame-ancestors 'none'", 'https://bank.zendesk.com')).to.equal(false);
  });

  it('the CSP of a real server lets the configured CRM origin frame the console', async function () {
    const crm = await startTestServer({ VITRINE_FRAME_ANCESTORS: 'https://bank.my.salesforce.com' });
    try {
      const csp = (await fetch(`${crm.url}/agent`)).headers.get('content-security-policy');
      expect(sdk.frameAncestorsAllow(csp, 'https://bank.my.salesforce.com')).to.equal(true);
      expect(sdk.frameAncestorsAllow(csp, 'https://evil.example')).to.equal(false);
    } finally {
      await crm.close();
    }
  });
});
