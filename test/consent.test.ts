/**
 * Consent stays in the customer's hands: nothing reaches staff before accept, while paused,
 * before the verification code is confirmed, or after the end; invites work once; supervisors
 * are visible to the customer and can only watch.
 */
import { expect } from 'chai';
import { GREEN, PAGES } from './support/fixture-pages.ts';
import { colourAt, near, serveFixtures, sleep, startTestServer, TestClient, type FixtureSite, type TestServer } from './support/harness.ts';

describe('consent, invites and roles', function () {
  let site: FixtureSite;
  let server: TestServer;
  const opened: TestClient[] = [];
  const join = async (id: string, token: string) => {
    const c = await TestClient.join(server.url, id, token);
    opened.push(c);
    return c;
  };
  const green = (img: Parameters<typeof colourAt>[0]) => near(colourAt(img, 1000, 600), GREEN);

  before(async function () {
    site = await serveFixtures(PAGES);
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_IDLE_SECONDS: '6' });
  });
  after(async function () {
    await Promise.all(opened.map((c) => c.close()));
    await server?.close();
    await site?.close();
  });

  it('uses an invite once, and lets the same customer back in with its reconnect token', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const customer = await join(body.id, body.customerToken);
    const joined = customer.messages.find((m) => m.type === 'joined');
    const reconnect = joined && joined.type === 'joined' ? joined.reconnectToken : undefined;
    expect(reconnect).to.be.a('string');
    await customer.close();

    const again = await TestClient.connect(server.url);
    opened.push(again);
    again.send({ type: 'join', session: body.id, token: body.customerToken });
    expect((await again.closed).code).to.equal(4401);

    const back = await join(body.id, reconnect!);
    const rejoined = back.messages.find((m) => m.type === 'joined');
    expect(rejoined).to.include({ role: 'customer' });
    const nextToken = rejoined && rejoined.type === 'joined' ? rejoined.reconnectToken : undefined;
    expect(nextToken).to.be.a('string').and.not.equal(reconnect);
    await back.close();
    // The used reconnect token is dead; the fresh one works.
    const stale = await TestClient.connect(server.url);
    opened.push(stale);
    stale.send({ type: 'join', session: body.id, token: reconnect });
    expect((await stale.closed).code).to.equal(4401);
    await join(body.id, nextToken!);
    await server.vitrine.registry.end(body.id, 'deleted');
  });

  it('shows staff no frame before accept, none while paused, and none after the end', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const agent = await join(body.id, body.agentToken);
    const customer = await join(body.id, body.customerToken);
    // The agent cannot consent on the customer's behalf.
    agent.send({ type: 'consent', accept: true });
    await agent.message('error', (m) => m.code === 'NOT_CUSTOMER');
    await sleep(1000);
    expect(agent.frames).to.have.length(0);

    customer.send({ type: 'consent', accept: true });
    await agent.frameWhere(green);
    const paused = agent.next('state', (m) => m.snapshot.paused);
    customer.send({ type: 'pause' });
    await paused;
    const mark = agent.frames.length;
    customer.click(10, 10); // repaint-free input, but a fresh capture would be sent if allowed
    customer.send({ type: 'history', action: 'reload' });
    await customer.frameWhere(green, customer.frames.length);
    await sleep(1000);
    expect(agent.frames.length, 'frames sent to the agent while paused').to.equal(mark);
    agent.input({ kind: 'pointer', action: 'down', x: 1, y: 1 });
    await agent.message('error', (m) => m.ref === 'input');

    customer.send({ type: 'resume' });
    await agent.frameWhere(green, mark);
    customer.send({ type: 'end' });
    await agent.message('ended');
    const after = agent.frames.length;
    await sleep(500);
    expect(agent.frames.length).to.equal(after);
  });

  it('shows the customer who watches, including a silent supervisor who can do nothing else', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const customer = await join(body.id, body.customerToken);
    const joined = customer.messages.find((m) => m.type === 'joined');
    expect(joined?.type === 'joined' && joined.snapshot.consent.agents).to.deep.equal(['Agent One']);

    const observe = (token: string) => fetch(`${server.url}/api/sessions/${body.id}/observers`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await observe(await server.agentToken())).status).to.equal(403);
    const res = await observe(await server.staffToken('sup-1', 'supervisor', 'Sue Pervisor'));
    expect(res.status).to.equal(201);
    const supervisor = await join(body.id, (await res.json()).token);
    const state = await customer.message('state', (m) => m.snapshot.participants.some((p) => p.role === 'supervisor'));
    expect(state.snapshot.consent.agents).to.include('Sue Pervisor (supervisor)');

    customer.send({ type: 'consent', accept: true });
    await supervisor.frameWhere(green);
    const attempts: [object, string][] = [
      [{ type: 'control/request' }, 'NOT_AGENT'],
      [{ type: 'navigate/propose', url: `${site.url}/red` }, 'NOT_AGENT'],
      [{ type: 'input', input: { kind: 'text', text: 'x' } }, 'FORBIDDEN'],
      [{ type: 'pause' }, 'NOT_CUSTOMER'],
      [{ type: 'end' }, 'FORBIDDEN'],
    ];
    for (const [msg, code] of attempts) {
      const before = supervisor.messages.length;
      supervisor.send(msg);
      const err = await supervisor.waitFor(() => supervisor.messages.slice(before).find((m) => m.type === 'error'));
      expect(err, JSON.stringify(msg)).to.include({ code });
    }
    customer.send({ type: 'end' });
    await supervisor.message('ended');
  });

  it('ends an idle session after warning both sides', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const customer = await join(body.id, body.customerToken);
    const agent = await join(body.id, body.agentToken);
    customer.send({ type: 'consent', accept: true });
    await agent.message('notice', (m) => m.code === 'IDLE_WARNING', 15_000);
    expect((await customer.message('ended', () => true, 15_000)).reason).to.equal('idle');
    expect((await agent.message('ended')).reason).to.equal('idle');
  });
});

describe('verification code', function () {
  let site: FixtureSite;
  let server: TestServer;
  before(async function () {
    site = await serveFixtures(PAGES);
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_VERIFICATION_CODE: 'true' });
  });
  after(async function () {
    await server?.close();
    await site?.close();
  });

  it('shows the agent nothing until it confirms the code the customer reads out', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const agent = await TestClient.join(server.url, body.id, body.agentToken);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    const joined = customer.messages.find((m) => m.type === 'joined');
    const code = joined?.type === 'joined' ? joined.verificationCode : undefined;
    expect(code).to.match(/^\d{6}$/);
    expect(agent.messages.find((m) => m.type === 'joined')).to.not.have.property('verificationCode');
    customer.send({ type: 'consent', accept: true });
    await customer.frameWhere(() => true);
    await sleep(800);
    expect(agent.frames).to.have.length(0);
    agent.send({ type: 'control/request' });
    await agent.message('error', (m) => m.code === 'VERIFICATION_REQUIRED');
    const wrong = code === '000000' ? '111111' : '000000';
    agent.send({ type: 'verify', code: wrong });
    await agent.message('error', (m) => m.code === 'BAD_CODE');
    agent.send({ type: 'verify', code });
    await agent.message('state', (m) => m.snapshot.verified);
    await agent.frameWhere(() => true);
    customer.send({ type: 'end' });
    await agent.message('ended');
    await Promise.all([agent.close(), customer.close()]);
  });
});
