/**
 * Consent stays in the customer's hands: nothing reaches staff before accept, while paused
 * (no frames, and nothing of where the customer goes), before the verification code is
 * confirmed, or after the end; invites work once and a refused link says why; supervisors are
 * visible to the customer and can only watch.
 */
import { expect } from 'chai';
import type { ServerMessage } from '../../server/protocol.ts';
import { PAGE_NOTICES } from '../../server/session/views.ts';
import { GREEN, PAGES } from '../support/fixture-pages.ts';
import { colourAt, near, serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';
import { loopRanFor } from '../support/waits.ts';

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
    site = await serveFixtures({ ...PAGES, '/private-account': PRIVATE_PAGE });
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
    // Asked for fresh frames for everyone who may see, the loop ran two whole ticks, and whatever
    // they sent the agent has arrived: nobody may see before consent, so nothing came.
    await loopRanFor(server, body.id, agent);
    expect(agent.frames).to.have.length(0);

    customer.send({ type: 'consent', accept: true });
    await agent.frameWhere(green);
    const paused = agent.next('state', (m) => m.snapshot.paused);
    customer.send({ type: 'pause' });
    await paused;
    const mark = agent.frames.length;
    customer.click(10, 10); // repaint-free input, but a fresh capture would be sent if allowed
    const reloaded = customer.next('state');
    customer.send({ type: 'history', action: 'reload' });
    // The reloaded document is on the customer's screen, then the loop ran on (see loopRanFor).
    await reloaded;
    await customer.frameWhere(green, customer.frames.length);
    await loopRanFor(server, body.id, agent);
    expect(agent.frames.length, 'frames sent to the agent while paused').to.equal(mark);
    agent.input({ kind: 'pointer', action: 'down', x: 1, y: 1 });
    await agent.message('error', (m) => m.ref === 'input');

    customer.send({ type: 'resume' });
    await agent.frameWhere(green, mark);
    customer.send({ type: 'end' });
    await agent.message('ended');
    const after = agent.frames.length;
    // The server closes every socket right after 'ended': once closed, nothing more can arrive.
    await agent.closed;
    expect(agent.frames.length).to.equal(after);
  });

  it('says why a link is refused: used (even while its customer is connected) or expired', async function () {
    const refusal = async (id: string, token: string) => {
      const c = await TestClient.connect(server.url);
      opened.push(c);
      c.send({ type: 'join', session: id, token });
      const { code } = await c.closed;
      const err = c.messages.find((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error' && m.ref === 'join');
      return { code, err };
    };
    const { body } = await server.createSession(`${site.url}/green`);
    const customer = await join(body.id, body.customerToken);
    // The customer is still here: a second opening of the link is a spent link, not "try again".
    const present = await refusal(body.id, body.customerToken);
    expect(present.code).to.equal(4401);
    expect(present.err).to.include({ code: 'BAD_TOKEN', reason: 'invite_used' });
    await customer.close();
    const absent = await refusal(body.id, body.customerToken);
    expect(absent.code).to.equal(4401);
    expect(absent.err).to.include({ code: 'BAD_TOKEN', reason: 'invite_used' });

    // A link whose time ran out, for a live session and for one that is gone.
    const past = Date.now() - 120_000;
    const stale = await server.vitrine.tokens.mint({ sid: body.id, role: 'customer', kind: 'invite', sub: `customer:${body.id}`, name: 'Customer' }, past);
    const expiredHere = await refusal(body.id, stale.token);
    expect(expiredHere.code).to.equal(4401);
    expect(expiredHere.err).to.include({ code: 'BAD_TOKEN', reason: 'expired' });
    await server.vitrine.registry.end(body.id, 'expired');
    const expiredGone = await refusal(body.id, stale.token);
    expect(expiredGone.code).to.equal(4404);
    expect(expiredGone.err).to.include({ code: 'NO_SUCH_SESSION', reason: 'expired' });
    // Someone else's expired token says nothing of the kind: the session is just not there.
    const foreign = await server.vitrine.tokens.mint({ sid: 'another-session', role: 'customer', kind: 'invite', sub: 'x', name: 'x' }, past);
    const unknown = await refusal(body.id, foreign.token);
    expect(unknown.code).to.equal(4404);
    expect(unknown.err).to.not.have.property('reason');
  });

  it('tells paused staff nothing of where the customer goes (title, address, proposal, page notices) until resume', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const agent = await join(body.id, body.agentToken);
    const customer = await join(body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await agent.frameWhere(green);
    await agent.message('state', (m) => m.snapshot.title === 'Green');
    const mark = agent.messages.length;
    const frames = agent.frames.length;
    customer.send({ type: 'pause' });
    const paused = await agent.waitFor(() => agent.messages.slice(mark).find((m) => m.type === 'state' && m.snapshot.paused));
    expect(paused.type === 'state' && paused.snapshot).to.include({ url: '', title: '', pendingNavigation: null });

    // The agent may still propose; the customer sees it, paused staff do not.
    agent.send({ type: 'navigate/propose', url: `${site.url}/red` });
    const proposed = await customer.message('navigate/proposed');
    customer.send({ type: 'navigate', url: `${site.url}/private-account` });
    await customer.message('state', (m) => m.snapshot.title === PRIVATE_TITLE);
    await customer.message('notice', (m) => m.code === 'DIALOG_DISMISSED');
    customer.send({ type: 'navigate/decline', id: proposed.proposal.id });
    await customer.message('navigate/answered');
    // The loop ran on after all that; whatever the server sent the agent by then (state, notices,
    // frames) has arrived (see loopRanFor).
    await loopRanFor(server, body.id, agent);
    const seen = agent.messages.slice(mark);
    const text = JSON.stringify(seen);
    for (const secret of ['private-account', PRIVATE_TITLE, 'Your accounts']) expect(text, `paused staff learnt "${secret}"`).to.not.include(secret);
    for (const m of seen) {
      if (m.type === 'state') expect(m.snapshot, 'a state sent while paused').to.include({ url: '', title: '', pendingNavigation: null, shielded: null });
      if (m.type === 'notice') expect(PAGE_NOTICES.has(m.code), `page notice ${m.code} sent while paused`).to.equal(false);
    }
    expect(agent.frames.length, 'frames while paused').to.equal(frames);

    // Resuming shares the page again, where the customer is now.
    customer.send({ type: 'resume' });
    const resumed = await agent.next('state', (m) => !m.snapshot.paused);
    expect(resumed.snapshot.title).to.equal(PRIVATE_TITLE);
    expect(resumed.snapshot.url).to.include('/private-account');
    customer.send({ type: 'end' });
    await agent.message('ended');
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
    expect(state.snapshot.consent.agents).to.include('supervisor Sue Pervisor');

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
    await loopRanFor(server, body.id, agent);
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

const PRIVATE_TITLE = 'Your accounts · Private Bank';
/** A page whose title and address say where the customer is, and which raises a dialog. */
const PRIVATE_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>${PRIVATE_TITLE}</title></head><body style="background:rgb(0,160,0)"><h1>Accounts</h1><script>alert('balance')</script></body></html>`;
