/**
 * Customer links over the signed webhooks (`delivery: "webhook"`), with real sessions and a real
 * receiver that verifies every signature: only the endpoint that opted in (customerLinks: true)
 * gets the link, a `*` endpoint never does, the agent's answer holds neither link nor token, the
 * link is in no log, delivery log or outbox journal in clear, a session without an opted-in
 * endpoint is refused before it exists, and a restart while the receiver is down still delivers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { LinkSealer, customerLinkEvent } from '../../server/integrations/link-delivery.ts';
import { WebhookEndpointSchema } from '../../server/integrations/integration-config.ts';
import { createLogger } from '../../server/log.ts';
import { WebhookReceiver as SdkReceiver } from '../../sdk/src/webhooks.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const FAST_RETRY = { VITRINE_WEBHOOK_RETRY_BASE_MS: '50', VITRINE_WEBHOOK_RETRY_MAX_MS: '400', VITRINE_WEBHOOK_MAX_ATTEMPTS: '200' };

function webhooksFile(dir: string, endpoints: Record<string, unknown>[]): string {
  const file = join(dir, 'webhooks.json');
  writeFileSync(file, JSON.stringify({ endpoints }));
  return file;
}

/** Every file under a directory, concatenated (outbox journals, delivery log). */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

async function until(pred: () => Promise<boolean> | boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('customer links over signed webhooks', function () {
  let site: FixtureSite;
  let dir: string;
  const secrets = { '/links': secret(), '/all': secret() };
  const receiver = new WebhookReceiver(secrets);
  let server: TestServer | null = null;
  let logged = '';
  const log = () =>
    createLogger(
      'debug',
      new Writable({
        write(chunk, _enc, cb) {
          logged += String(chunk);
          cb();
        },
      }),
    );

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vitrine-links-'));
    site = await serveFixtures(PAGES);
    await receiver.start();
  });
  after(async function () {
    await server?.close();
    await receiver.stop();
    await site?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    VITRINE_DATA_DIR: join(dir, 'data'),
    VITRINE_ALLOW_HOSTS: site.host,
    VITRINE_WEBHOOKS_FILE: webhooksFile(dir, [
      { id: 'messaging', url: receiver.url('/links'), secret: secrets['/links'], customerLinks: true },
      { id: 'all', url: receiver.url('/all'), secret: secrets['/all'], events: ['*'] },
    ]),
    VITRINE_INTEGRATION_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`,
    ...FAST_RETRY,
  });

  const create = async (s: TestServer, customerRef: string) => {
    const res = await fetch(`${s.url}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await s.agentToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${site.url}/green`, delivery: 'webhook', customerRef }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('sends the link, signed, to the opted-in endpoint only; the agent gets no link and no token of the customer', async function () {
    server = await startTestServer(env(), { log: log() });
    const { status, body } = await create(server, 'crm:4711');
    expect(status, JSON.stringify(body)).to.equal(201);
    expect(Object.keys(body).sort()).to.deep.equal(['agentToken', 'delivery', 'expiresAt', 'id']);
    await receiver.until(() => receiver.on('/links').some((r) => r.event.data.session === body.id), 10_000, 'the customer link');
    const got = receiver.on('/links').find((r) => r.event.data.session === body.id)!;
    expect(got.verified).to.equal(true);
    expect(got.event.type).to.equal('session.customer_link');
    expect(got.event.data.customerRef).to.equal('crm:4711');
    expect(got.event.data.agent).to.deep.equal({ sub: 'agent-1' });
    const link = String(got.event.data.customerUrl);
    expect(link).to.match(new RegExp(`/s/${body.id}#`));
    // The SDK's receiver verifies and parses it too.
    const verified = new SdkReceiver(secrets['/links']).verify(got.body, { 'webhook-id': got.id, 'webhook-timestamp': String(got.timestamp), 'webhook-signature': got.signature });
    expect(verified.type).to.equal('session.customer_link');

    // The link works: the customer joins with it and sees the consent screen.
    const token = new URL(link).hash.slice(1);
    const customer = await TestClient.join(server.url, body.id, token);
    // Its snapshot says the session waits for the customer's consent (in `joined`, or a `state` after it).
    await customer.waitFor(() => customer.messages.some((m) => (m.type === 'joined' || m.type === 'state') && m.snapshot.state === 'waiting'), 15_000, 'the waiting session');
    await customer.close();

    // The catch-all endpoint hears of the session (ids only) but never of the link.
    await receiver.until(() => receiver.on('/all').some((r) => r.event.type === 'audit.record' && r.event.data.record.type === 'customer_link.delivered'), 10_000, 'customer_link.delivered');
    expect(receiver.on('/all').some((r) => r.event.type === 'session.customer_link')).to.equal(false);
    const secretBits = [link, token];
    for (const bit of secretBits) {
      expect(
        receiver
          .on('/all')
          .map((r) => r.body)
          .join('\n'),
        'catch-all payloads',
      ).not.to.include(bit);
      expect(logged, 'logs').not.to.include(bit);
      expect(allText(join(dir, 'data', 'integrations')), 'outbox journals and delivery log').not.to.include(bit);
    }
    expect(allText(join(dir, 'data', 'integrations'))).not.to.include('crm:4711');
    const d = server.vitrine.integrations!.deliveries({ endpoint: 'messaging', limit: 10 });
    expect(d.some((e) => e.event === 'session.customer_link' && e.outcome === 'delivered' && e.webhookId === got.id)).to.equal(true);
    await server.close();
    server = null;
  });

  it('delivers a link queued while the receiver was down after a restart, once', async function () {
    server = await startTestServer(env(), { log: log() });
    receiver.status = 503;
    const { status, body } = await create(server, 'crm:restart');
    expect(status).to.equal(201);
    await until(() => (server!.vitrine.integrations!.status().webhooks.find((w) => w.endpoint === 'messaging')!.attempt ?? 0) >= 2, 10_000, 'a retry under way');
    await server.close();
    server = null;
    const journal = allText(join(dir, 'data', 'integrations'));
    expect(journal).to.include('session.customer_link');
    expect(journal).not.to.include(`/s/${body.id}#`);
    expect(journal).not.to.include('crm:restart');

    receiver.status = 204;
    server = await startTestServer(env(), { log: log() });
    await receiver.until(() => receiver.on('/links').some((r) => r.event.data.session === body.id), 20_000, 'the queued link after the restart');
    // Nothing is left to deliver: a second delivery could only come from the outbox.
    await until(() => server!.vitrine.integrations!.status().webhooks.find((w) => w.endpoint === 'messaging')!.pending === 0, 10_000, 'the outbox to empty');
    const mine = receiver.on('/links').filter((r) => r.event.data.session === body.id);
    expect(mine).to.have.length(1);
    expect(mine[0]!.verified).to.equal(true);
    expect(mine[0]!.event.data.customerRef).to.equal('crm:restart');
    expect(logged).not.to.include(String(mine[0]!.event.data.customerUrl));
    await server.close();
    server = null;
  });

  it('refuses delivery "webhook" before any session exists when no endpoint opted in', async function () {
    const e = env();
    // Written after env() (which writes the same file): only a catch-all endpoint is left.
    const only = webhooksFile(dir, [{ id: 'all', url: receiver.url('/all'), secret: secrets['/all'], events: ['*'] }]);
    server = await startTestServer({ ...e, VITRINE_DATA_DIR: join(dir, 'data2'), VITRINE_WEBHOOKS_FILE: only });
    const before = server.vitrine.registry.size;
    const { status, body } = await create(server, 'crm:1');
    expect(status).to.equal(503);
    expect(body.error.code).to.equal('DELIVERY_UNAVAILABLE');
    expect(server.vitrine.registry.size).to.equal(before);
    await server.close();
    server = null;
  });

  it('never lets a filter name the link event, and seals links under the endpoint secret', function () {
    const base = { id: 'x', url: 'https://crm.example/h', secret: secret() };
    expect(WebhookEndpointSchema.safeParse({ ...base, events: ['session.customer_link'] }).success).to.equal(false);
    expect(WebhookEndpointSchema.safeParse({ ...base }).success, 'neither events nor customerLinks').to.equal(false);
    expect(WebhookEndpointSchema.safeParse({ ...base, customerLinks: true }).success).to.equal(true);
    const event = customerLinkEvent({
      session: 's1',
      customerRef: 'c',
      customerUrl: 'https://v.example/s/s1#t=Invite-Token-7Qz9-Sealed',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      agent: { sub: 'a', name: 'Alice' },
    });
    const sealer = new LinkSealer('x', base.secret);
    const sealed = sealer.seal(event);
    // The token is long and distinctive: a short one turns up in random ciphertext by chance.
    expect(JSON.stringify(sealed)).not.to.include('Invite-Token-7Qz9-Sealed');
    expect(JSON.stringify(sealed)).not.to.include('Alice');
    expect(sealer.open(sealed)!.data).to.deep.equal(event.data);
    expect(new LinkSealer('x', secret()).open(sealed), 'another secret').to.equal(null);
    expect(new LinkSealer('y', base.secret).open(sealed), 'another endpoint').to.equal(null);
  });
});
