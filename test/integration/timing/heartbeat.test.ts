/**
 * Dead connections: a half-open socket (a proxy that stops forwarding and reading) is found by
 * the WebSocket heartbeat within its bound and leaves; a customer who comes back with its
 * reconnect token takes its place, also while the old connection still looks open.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { WebSocket, WebSocketServer } from 'ws';
import { Relay } from '../../../server/cluster/relay.ts';
import type { SessionClaims } from '../../../server/auth/session-tokens.ts';
import { Heartbeat } from '../../../server/http/heartbeat.ts';
import type { ServerMessage } from '../../../server/protocol.ts';
import { CustomerAccess } from '../../../server/session/customer-access.ts';
import { PAGES } from '../../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../../harness/harness.ts';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.ts';

const HEARTBEAT_MS = 300;
const MISSES = 2;
/** The detection bound, (misses + 1) × interval, plus room for a loaded shared machine. */
const BOUND_MS = (MISSES + 1) * HEARTBEAT_MS;
const SLACK_MS = 2000;

type Joined = Extract<ServerMessage, { type: 'joined' }>;
const joinedOf = (c: TestClient) => c.messages.find((m): m is Joined => m.type === 'joined')!;

describe('customer replacement rules (unit)', function () {
  const claims = (kind: 'invite' | 'reconnect', jti: string): SessionClaims => ({ sid: 's', role: 'customer', kind, sub: 'customer:s', name: 'Customer', jti, exp: 0 });
  it('lets only the current reconnect token replace a present customer, without the grace period', function () {
    const access = new CustomerAccess({ inviteJti: 'inv', graceMs: 1000, verificationCode: false });
    access.admit(claims('invite', 'inv'), 0);
    access.issued('r1');
    expect(access.mayReplace(claims('invite', 'inv')), 'the invite').to.equal(false);
    expect(() => access.admit(claims('invite', 'inv'), 10, true)).to.throw(/already been used/);
    expect(access.mayReplace(claims('reconnect', 'other')), 'another reconnect token').to.equal(false);
    expect(() => access.admit(claims('reconnect', 'other'), 10, true)).to.throw(/already connected/);
    // Long after the grace period would have run out: still present, so the grace does not apply.
    expect(access.mayReplace(claims('reconnect', 'r1'))).to.equal(true);
    access.admit(claims('reconnect', 'r1'), 1_000_000, true);
    expect(access.mayReplace(claims('reconnect', 'r1')), 'spent').to.equal(false);
    expect(() => access.admit(claims('reconnect', 'r1'), 1_000_001, true)).to.throw(/already connected/);
    // Not present: the grace period counts from the departure, as before.
    access.issued('r2');
    access.left(2_000_000);
    expect(() => access.admit(claims('reconnect', 'r2'), 2_000_000 + 1001)).to.throw(/used or expired/);
  });
});

describe('WebSocket heartbeat', function () {
  describe('the heartbeat itself (no session)', function () {
    let wss: WebSocketServer;
    let proxy: StallProxy;
    const opened: WebSocket[] = [];
    before(async function () {
      wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await once(wss, 'listening');
      proxy = await startStallProxy(`http://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    });
    after(async function () {
      for (const ws of opened) ws.terminate();
      await proxy.close();
      await new Promise((r) => wss.close(r));
    });

    it('terminates a half-open socket within (misses + 1) × interval and keeps a live one', async function () {
      const heartbeat = new Heartbeat({ intervalMs: HEARTBEAT_MS, misses: MISSES });
      const server = new Map<string, import('ws').WebSocket>();
      wss.on('connection', (ws, req) => server.set(new URL(req.url!, 'http://x').searchParams.get('who')!, ws));
      // The live one connects directly, the other through the proxy that is about to stall.
      const live = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/?who=live`);
      const stalled = new WebSocket(`${proxy.url.replace('http', 'ws')}/?who=stalled`);
      opened.push(live, stalled);
      await Promise.all([once(live, 'open'), once(stalled, 'open')]);
      while (server.size < 2) await new Promise((r) => setTimeout(r, 10));
      let dead: string | null = null;
      heartbeat.watch(server.get('live')!, () => (dead = 'live'));
      heartbeat.watch(server.get('stalled')!, () => (dead = 'stalled'));
      const t0 = Date.now();
      proxy.stall();
      await once(server.get('stalled')!, 'close');
      const took = Date.now() - t0;
      expect(dead).to.equal('stalled');
      expect(took, 'detection time').to.be.within(MISSES * HEARTBEAT_MS - 50, BOUND_MS + SLACK_MS);
      // The live one answered every ping meanwhile, and still does for a few more rounds.
      await new Promise((r) => setTimeout(r, BOUND_MS * 2));
      expect(server.get('live')!.readyState).to.equal(WebSocket.OPEN);
      expect(heartbeat.watching).to.equal(1);
      heartbeat.stop();
      console.log(`      half-open socket terminated after ${took} ms (bound ${BOUND_MS} ms)`);
    });

    it('treats a relay whose owning node went silent as lost', async function () {
      const heartbeat = new Heartbeat({ intervalMs: HEARTBEAT_MS, misses: MISSES });
      // The participant's side of the relay: a plain socket pair on the same test server.
      const participant = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/?who=participant`);
      opened.push(participant);
      await once(participant, 'open');
      const relayProxy = await startStallProxy(`http://127.0.0.1:${(wss.address() as AddressInfo).port}`);
      try {
        let lost = 0;
        const relay = new Relay({ session: 's', client: participant, onLost: () => void lost++, onClosed: () => undefined });
        const upstream = new WebSocket(`${relayProxy.url.replace('http', 'ws')}/?who=owner`);
        relay.attach(upstream, JSON.stringify({ type: 'join', session: 's', token: 't' }));
        await once(upstream, 'open');
        relay.keepAlive(heartbeat);
        const t0 = Date.now();
        relayProxy.stall();
        await once(upstream, 'close');
        expect(lost, 'onLost').to.equal(1);
        expect(Date.now() - t0, 'relay detection time').to.be.at.most(BOUND_MS + SLACK_MS);
      } finally {
        heartbeat.stop();
        await relayProxy.close();
      }
    });
  });

  describe('a customer behind a connection that goes half-open', function () {
    let site: FixtureSite;
    let server: TestServer;
    let proxy: StallProxy;
    const clients: TestClient[] = [];
    before(async function () {
      site = await serveFixtures(PAGES);
      server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_WS_HEARTBEAT_MS: String(HEARTBEAT_MS), VITRINE_WS_HEARTBEAT_MISSES: String(MISSES) });
      proxy = await startStallProxy(server.url);
    });
    after(async function () {
      await Promise.all(clients.map((c) => c.close()));
      await proxy?.close();
      await server?.close();
      await site?.close();
    });
    const join = async (url: string, id: string, token: string) => {
      const c = await TestClient.join(url, id, token);
      clients.push(c);
      return c;
    };

    it('is detected within the heartbeat bound, and its rejoin brings it back into the running session', async function () {
      const { body } = await server.createSession(`${site.url}/green`);
      const agent = await join(server.url, body.id, body.agentToken);
      const customer = await join(proxy.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      await agent.message('state', (m) => m.snapshot.state === 'live');
      await agent.waitFor(() => agent.frames.length > 0 || undefined, 15_000, 'a first frame');
      const reconnect = joinedOf(customer).reconnectToken!;
      expect(reconnect).to.be.a('string');

      const t0 = Date.now();
      proxy.stall();
      await agent.next('notice', (m) => m.code === 'PARTICIPANT_LEFT', BOUND_MS + SLACK_MS + 5000);
      const took = Date.now() - t0;
      expect(took, 'half-open customer detected').to.be.at.most(BOUND_MS + SLACK_MS);
      const session = server.vitrine.registry.get(body.id)!;
      expect(session.state).to.equal('live');
      expect(session.participants.map((p) => p.role)).to.deep.equal(['agent']);

      const heard = agent.messages.length;
      const back = await join(server.url, body.id, reconnect);
      expect(joinedOf(back)).to.include({ role: 'customer' });
      expect(joinedOf(back).snapshot.state).to.equal('live');
      await agent.waitFor(() => agent.messages.slice(heard).some((m) => m.type === 'notice' && m.code === 'PARTICIPANT_JOINED') || undefined, 15_000, 'PARTICIPANT_JOINED');
      await back.waitFor(() => back.frames.length > 0 || undefined, 15_000, 'frames for the returning customer');
      console.log(`      half-open customer left the session after ${took} ms (bound ${BOUND_MS} ms); rejoined`);
    });
  });

  describe('a customer who comes back while its old connection is still there', function () {
    let site: FixtureSite;
    let server: TestServer;
    let proxy: StallProxy;
    const clients: TestClient[] = [];
    before(async function () {
      site = await serveFixtures(PAGES);
      // A long heartbeat: the old connection is never found dead during these tests.
      server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_WS_HEARTBEAT_MS: '60000' });
      proxy = await startStallProxy(server.url);
    });
    after(async function () {
      await Promise.all(clients.map((c) => c.close()));
      await proxy?.close();
      await server?.close();
      await site?.close();
    });
    const join = async (url: string, id: string, token: string) => {
      const c = await TestClient.join(url, id, token);
      clients.push(c);
      return c;
    };
    const connect = async () => {
      const c = await TestClient.connect(server.url);
      clients.push(c);
      return c;
    };

    it('replaces a still-open connection with the reconnect token; the old one is closed with 4410; the session keeps running', async function () {
      const { body } = await server.createSession(`${site.url}/green`);
      const agent = await join(server.url, body.id, body.agentToken);
      const old = await join(server.url, body.id, body.customerToken);
      old.send({ type: 'consent', accept: true });
      await agent.message('state', (m) => m.snapshot.state === 'live');
      // The agent holds control: a reconnect of the same customer does not take it away.
      agent.send({ type: 'control/request' });
      await old.message('control/requested');
      old.send({ type: 'control/grant' });
      const agentId = joinedOf(agent).you;
      await agent.message('state', (m) => m.snapshot.control === agentId);
      const first = joinedOf(old).reconnectToken!;

      const heard = agent.messages.length;
      const fresh = await join(server.url, body.id, first);
      const closed = await old.closed;
      expect(closed.code).to.equal(4410);
      expect(closed.reason).to.match(/another connection/);
      expect(joinedOf(fresh)).to.include({ role: 'customer' });
      expect(joinedOf(fresh).snapshot).to.include({ state: 'live', control: agentId });
      const next = joinedOf(fresh).reconnectToken!;
      expect(next).to.be.a('string').and.not.equal(first);
      const notice = await agent.waitFor(
        () => agent.messages.slice(heard).find((m) => m.type === 'notice' && (m.code === 'PARTICIPANT_REPLACED' || m.code === 'PARTICIPANT_LEFT')),
        15_000,
        'a presence notice',
      );
      expect(notice, 'staff hear of a reconnect, not of a departure').to.include({ code: 'PARTICIPANT_REPLACED' });
      const session = server.vitrine.registry.get(body.id)!;
      expect(session.participants.filter((p) => p.role === 'customer')).to.have.length(1);
      const mark = fresh.frames.length;
      fresh.click(600, 400);
      await fresh.waitFor(() => fresh.frames.length > mark || undefined, 15_000, 'frames on the new connection');

      // The spent token cannot replace the new connection (4409), nor can the invite (4401).
      const stale = await connect();
      stale.send({ type: 'join', session: body.id, token: first });
      expect((await stale.closed).code).to.equal(4409);
      const invite = await connect();
      invite.send({ type: 'join', session: body.id, token: body.customerToken });
      expect((await invite.closed).code).to.equal(4401);
      expect(invite.messages.find((m) => m.type === 'error')).to.include({ code: 'BAD_TOKEN', reason: 'invite_used' });
      expect(fresh.ws.readyState).to.equal(WebSocket.OPEN);
      // The current token replaces again: the newest connection always wins.
      const third = await join(server.url, body.id, next);
      expect((await fresh.closed).code).to.equal(4410);
      expect(joinedOf(third)).to.include({ role: 'customer' });
      expect(server.vitrine.registry.get(body.id)?.state).to.equal('live');
    });

    it('replaces a half-open connection at once when the customer comes back before the heartbeat finds it', async function () {
      const { body } = await server.createSession(`${site.url}/green`);
      const agent = await join(server.url, body.id, body.agentToken);
      const old = await join(proxy.url, body.id, body.customerToken);
      old.send({ type: 'consent', accept: true });
      await agent.message('state', (m) => m.snapshot.state === 'live');
      proxy.stall();
      const heard = agent.messages.length;
      const t0 = Date.now();
      const fresh = await join(server.url, body.id, joinedOf(old).reconnectToken!);
      const took = Date.now() - t0;
      expect(joinedOf(fresh)).to.include({ role: 'customer' });
      await agent.waitFor(() => agent.messages.slice(heard).some((m) => m.type === 'notice' && m.code === 'PARTICIPANT_REPLACED') || undefined, 15_000, 'PARTICIPANT_REPLACED');
      const session = server.vitrine.registry.get(body.id)!;
      expect(session.participants.filter((p) => p.role === 'customer').map((p) => p.id)).to.deep.equal([joinedOf(fresh).you]);
      expect(session.state).to.equal('live');
      console.log(`      half-open customer replaced by its rejoin in ${took} ms`);
    });
  });
});
