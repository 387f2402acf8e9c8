/**
 * The whole co-browsing flow over the public contract, against real Chromium and real sockets.
 */
import { expect } from 'chai';
import { BLUE, GREEN, PAGES, RED, WHITE } from '../../support/fixture-pages.ts';
import { colourAt, decodeJpeg as decode, near, serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../../harness/harness.ts';
import { loopRanFor, stillFor } from '../../support/waits.ts';

describe('a co-browsing session end to end', function () {
  let site: FixtureSite;
  let server: TestServer;
  const clients: TestClient[] = [];

  before(async function () {
    site = await serveFixtures({
      ...PAGES,
      '/file.bin': (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="file.bin"' }).end('0123456789'),
    });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_LOG_LEVEL: process.env.TEST_LOG ?? 'silent' });
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    await site?.close();
  });

  const join = async (id: string, token: string) => {
    const c = await TestClient.join(server.url, id, token);
    clients.push(c);
    return c;
  };
  /** Waits until the session reports the page with this title (its DOM is there, not just a blank frame). */
  const loaded = (c: TestClient, title: string) =>
    c.waitFor(
      () => {
        const states = c.messages.filter((m) => m.type === 'state' || m.type === 'joined');
        const last = states.at(-1) as { snapshot: { title: string } } | undefined;
        return last?.snapshot.title === title;
      },
      15_000,
      `page "${title}"`,
    );
  const bg = (img: Parameters<typeof colourAt>[0]) => colourAt(img, 1000, 600);

  it('creates, consents, shares frames, replays authorized input, navigates and ends', async function () {
    const created = await server.createSession(`${site.url}/toggle`);
    expect(created.status).to.equal(201);
    const { id, customerUrl, customerToken, agentToken, expiresAt } = created.body;
    expect(id).to.be.a('string').with.length.greaterThanOrEqual(22); // 16 random bytes, base64url
    expect(customerUrl).to.equal(`${server.vitrine.url.replace('127.0.0.1', 'localhost')}/s/${id}#${customerToken}`);
    expect(Date.parse(expiresAt)).to.be.greaterThan(Date.now());

    const agent = await join(id, agentToken);
    const customer = await join(id, customerToken);
    const joinedA = agent.messages.find((m) => m.type === 'joined');
    const joinedC = customer.messages.find((m) => m.type === 'joined');
    expect(joinedA).to.include({ role: 'agent' });
    expect(joinedC).to.include({ role: 'customer' });
    expect(joinedC && joinedC.type === 'joined' && joinedC.viewport).to.deep.equal({ width: 1280, height: 720 });

    // Nothing reaches anyone before consent, and input is refused.
    customer.input({ kind: 'pointer', action: 'down', x: 10, y: 10, button: 'left' });
    await customer.message('error', (m) => m.code === 'NOT_LIVE');
    // Fresh frames asked for everyone who may see, two whole ticks, and both sockets round-tripped:
    // nobody may see before consent, so nothing came (waits.ts loopRanFor).
    await loopRanFor(server, id, [agent, customer]);
    expect(agent.frames).to.have.length(0);
    expect(customer.frames).to.have.length(0);

    customer.send({ type: 'consent', accept: true });
    await agent.message('state', (m) => m.snapshot.state === 'live');
    await loaded(agent, 'Toggle');
    await agent.frameWhere((img) => near(bg(img), WHITE));
    await customer.frameWhere((img) => near(bg(img), WHITE));
    expect(agent.frames[0]!.header.viewport).to.deep.equal({ width: 1280, height: 720 });
    expect(agent.frames[0]!.jpeg.subarray(0, 3)).to.deep.equal(new Uint8Array([0xff, 0xd8, 0xff]));

    // The customer's click always applies.
    let mark = agent.frames.length;
    customer.click(600, 400);
    await agent.frameWhere((img) => near(bg(img), BLUE), mark);

    // The agent's click is refused until the customer grants control.
    agent.click(600, 400);
    await agent.message('error', (m) => m.code === 'CONTROL_NOT_GRANTED');
    agent.send({ type: 'control/request' });
    await customer.message('control/requested');
    customer.send({ type: 'control/grant' });
    await agent.message('state', (m) => m.snapshot.control === (joinedA as { you: string }).you);
    mark = agent.frames.length;
    agent.click(600, 400);
    await agent.frameWhere((img) => near(bg(img), WHITE), mark);

    // Revoked: refused again, and the page does not change.
    const revoked = agent.next('state', (m) => m.snapshot.control === null);
    customer.send({ type: 'control/revoke' });
    await revoked;
    const errorsBefore = agent.messages.filter((m) => m.type === 'error').length;
    agent.click(600, 400);
    await agent.waitFor(() => agent.messages.filter((m) => m.type === 'error' && m.code === 'CONTROL_NOT_GRANTED').length >= errorsBefore + 1);

    // Navigation: declined proposals load nothing; approved ones do.
    agent.send({ type: 'navigate/propose', url: `${site.url}/red` });
    const p1 = await customer.message('navigate/proposed');
    expect(p1.proposal.url).to.equal(`${site.url}/red`);
    customer.send({ type: 'navigate/decline', id: p1.proposal.id });
    await agent.message('navigate/answered', (m) => m.id === p1.proposal.id && !m.approved);
    agent.send({ type: 'navigate/propose', url: `${site.url}/green` });
    const p2 = await customer.message('navigate/proposed', (m) => m.proposal.id !== p1.proposal.id);
    mark = agent.frames.length;
    customer.send({ type: 'navigate/approve', id: p2.proposal.id });
    await agent.frameWhere((img) => near(bg(img), GREEN), mark);
    expect(agent.frames.slice(mark).some((f) => near(bg(decode(f.jpeg)), RED))).to.equal(false);

    // The customer navigates directly and uses history.
    mark = agent.frames.length;
    customer.send({ type: 'navigate', url: `${site.url}/red` });
    await agent.frameWhere((img) => near(bg(img), RED), mark);
    mark = agent.frames.length;
    customer.send({ type: 'history', action: 'back' });
    await agent.frameWhere((img) => near(bg(img), GREEN), mark);
    mark = agent.frames.length;
    customer.send({ type: 'history', action: 'forward' });
    await agent.frameWhere((img) => near(bg(img), RED), mark);

    // An agent cannot navigate directly.
    agent.send({ type: 'navigate', url: `${site.url}/green` });
    await agent.message('error', (m) => m.code === 'NOT_CUSTOMER' && m.ref === 'navigate');

    // End: both told, both closed, the browser context destroyed.
    const contextsBefore = server.vitrine.pool.capacity().used;
    expect(contextsBefore).to.equal(1);
    agent.send({ type: 'end' });
    const [endedA, endedC] = await Promise.all([agent.message('ended'), customer.message('ended')]);
    expect(endedA.reason).to.equal('ended_by_agent');
    expect(endedC.reason).to.equal('ended_by_agent');
    expect((await agent.closed).code).to.equal(1000);
    expect((await customer.closed).code).to.equal(1000);
    await customer.waitFor(() => server.vitrine.pool.capacity().used === 0 || undefined, 5000, 'context released');
    expect(server.vitrine.registry.get(id)).to.equal(undefined);
  });

  it('declining consent ends the session for everyone', async function () {
    const { body } = await server.createSession(`${site.url}/green`);
    const agent = await join(body.id, body.agentToken);
    const customer = await join(body.id, body.customerToken);
    customer.send({ type: 'consent', accept: false });
    const ended = await agent.message('ended');
    expect(ended.reason).to.equal('declined');
    expect(agent.frames).to.have.length(0);
    await customer.closed;
  });

  it('gives a late joiner and a static page a current frame at once', async function () {
    const { body } = await server.createSession(`${site.url}/red`);
    const customer = await join(body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.frameWhere((img) => near(bg(img), RED));
    // The page is static now: the loop captures nothing more by itself (waits.ts stillFor).
    await stillFor(server, body.id);
    const late = await join(body.id, body.agentToken);
    const img = await late.frameWhere(() => true, 0, 5000);
    expect(near(bg(img), RED)).to.equal(true);
    customer.send({ type: 'end' });
    await late.message('ended', (m) => m.reason === 'ended_by_customer');
  });

  it('keeps a participant that never reads from slowing the others, with bounded buffers', async function () {
    const { body } = await server.createSession(`${site.url}/noise`);
    const customer = await join(body.id, body.customerToken);
    const stalled = await join(body.id, body.agentToken);
    customer.send({ type: 'consent', accept: true });
    await customer.frameWhere(() => true);
    // Stop reading from the agent's socket: its kernel buffers fill, then the server's queue would.
    const raw = (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket;
    raw.pause();
    const start = customer.frames.length;
    const session = server.vitrine.registry.get(body.id)!;
    const stalledParticipant = session.participants.find((p) => p.role === 'agent')!;
    const fast = session.participants.find((p) => p.role === 'customer')!;
    // Up to 4 s, the bound the assertions below allow: done as soon as both have happened (both
    // counts only grow). Once the stalled socket skips, its buffers are at their steady bound.
    await customer.waitFor(() => customer.frames.length - start > 10 && stalledParticipant.stats.framesSkipped > 0, 4000, 'frames and skips').catch(() => undefined);
    const delivered = customer.frames.length - start;
    expect(delivered, 'frames the fast participant got in 4 s').to.be.greaterThan(10);
    expect(stalledParticipant.stats.framesSkipped, 'frames the stalled participant skipped').to.be.greaterThan(0);
    expect(fast.stats.framesSkipped).to.equal(0);
    // One frame in flight and one pending: the server holds at most a few frames for it.
    expect(stalledParticipant.socket.bufferedAmount).to.be.lessThan(3 * 1024 * 1024);
    raw.resume();
    customer.send({ type: 'end' });
    await customer.message('ended');
  });

  it('replays keys as typed characters', async function () {
    const { body } = await server.createSession(`${site.url}/type`);
    const customer = await join(body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await loaded(customer, 'Type');
    const press = (key: string, code: string) => {
      customer.input({ kind: 'key', action: 'down', key, code });
      customer.input({ kind: 'key', action: 'up', key, code });
    };
    // One click and two keys, sent at once: input waits for the new document (page-input.ts).
    const mark = customer.frames.length;
    customer.click(300, 70);
    press('h', 'KeyH');
    press('i', 'KeyI');
    const green = await customer.frameWhere((img) => near(bg(img), GREEN), mark, 10_000).catch(() => undefined);
    expect(green, 'the typed keys reached the page').to.not.equal(undefined);
    customer.send({ type: 'end' });
    await customer.message('ended');
  });

  it('dismisses dialogs and tells participants, and loads popups into the session page', async function () {
    const { body } = await server.createSession(`${site.url}/dialog`);
    const customer = await join(body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await loaded(customer, 'Dialog');
    // One click opens the page's dialog, which is dismissed and reported.
    customer.click(100, 50);
    const notice = await customer.message('notice', (m) => m.code === 'DIALOG_DISMISSED');
    expect(notice.message).to.not.include('4111'); // the dialog's text is never relayed
    await customer.frameWhere((img) => near(bg(img), GREEN));

    customer.send({ type: 'navigate', url: `${site.url}/popup` });
    await loaded(customer, 'Popup');
    const mark = customer.frames.length;
    customer.click(100, 50);
    await customer.message('notice', (m) => m.code === 'POPUP_REDIRECTED');
    await customer.frameWhere((img) => near(bg(img), GREEN), mark);
    customer.send({ type: 'end' });
    await customer.message('ended');
  });

  it('refuses file choosers and downloads and tells participants', async function () {
    const { body } = await server.createSession(`${site.url}/upload`);
    const customer = await join(body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    // One click on the page's file field or download link: the page reacts, and is refused.
    const clickFor = async (code: string) => {
      customer.click(200, 100);
      await customer.waitFor(() => customer.messages.some((m) => m.type === 'notice' && m.code === code), 10_000, code);
    };
    await loaded(customer, 'Upload');
    await clickFor('FILE_CHOOSER_REFUSED');
    await customer.message('notice', (m) => m.code === 'FILE_CHOOSER_REFUSED');
    customer.send({ type: 'navigate', url: `${site.url}/download` });
    await loaded(customer, 'Download');
    await clickFor('DOWNLOAD_REFUSED');
    await customer.message('notice', (m) => m.code === 'DOWNLOAD_REFUSED');
    customer.send({ type: 'end' });
    await customer.message('ended');
  });
});
