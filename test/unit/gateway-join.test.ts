/**
 * Joining over a real WebSocket (the gateway on a loopback port) into sessions whose pages are
 * fakes: the join protocol and why a link is refused, with its close codes, without Chromium.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import type { StaffIdentity } from '../../server/auth/identity.ts';
import { FailureLimiter } from '../../server/auth/failure-limiter.ts';
import { CloseCodes } from '../../server/errors.ts';
import { WsGateway } from '../../server/http/ws-gateway.ts';
import { createLogger } from '../../server/log.ts';
import type { ServerMessage } from '../../server/protocol.ts';
import { localRouter } from '../../server/routing/session-router.ts';
import { fakeRegistry, type FakeRegistry } from '../support/fakes/registry.ts';

const AGENT: StaffIdentity = { sub: 'agent-1', name: 'Agent One', roles: ['agent'] };

/** Opens a socket, sends a join, and collects what comes back until `until` holds or it closes. */
async function joinOver(url: string, session: string, token: string, until: (m: ServerMessage[]) => boolean = () => false) {
  const ws = new WebSocket(`${url}/ws`);
  const messages: ServerMessage[] = [];
  const closed = new Promise<{ code: number }>((r) => ws.on('close', (code) => r({ code })));
  await new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j)));
  const done = new Promise<void>((r) => {
    ws.on('message', (d) => {
      messages.push(JSON.parse(String(d)) as ServerMessage);
      if (until(messages)) r();
    });
    void closed.then(() => r());
  });
  ws.send(JSON.stringify({ type: 'join', session, token }));
  await done;
  return { ws, messages, closed };
}

describe('joining through the gateway (fake pages)', () => {
  let http: Server;
  let url: string;
  let gateway: WsGateway;
  let f: FakeRegistry;

  beforeEach(async () => {
    f = fakeRegistry();
    http = createServer();
    gateway = new WsGateway(http, {
      registry: f.reg,
      tokens: f.tokens,
      log: createLogger('silent'),
      audit: { record: (e) => f.audit.record(e), forSession: () => [], close: async () => undefined },
      failures: new FailureLimiter(),
      onRefusal: () => undefined,
      router: localRouter(f.reg, 0),
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await f.reg.closeAll('server_shutdown');
    await gateway.close();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  });

  it("joins the customer and the agent, and the customer's consent makes the page capture for both", async () => {
    const made = await f.reg.create(AGENT, 'https://example.test/');
    const customer = await joinOver(url, made.id, made.customerToken, (m) => m.some((x) => x.type === 'joined'));
    const agent = await joinOver(url, made.id, made.agentToken, (m) => m.some((x) => x.type === 'joined'));
    expect(customer.messages.find((m) => m.type === 'joined')).to.deep.include({ role: 'customer', session: made.id });
    customer.ws.send(JSON.stringify({ type: 'consent', accept: true }));
    await new Promise<void>((r) => agent.ws.on('message', (d) => (JSON.parse(String(d)) as ServerMessage).type === 'state' && r()));
    expect(f.pages.last.audiences).to.deep.equal({ customer: true, staff: true });
    customer.ws.close();
    agent.ws.close();
  });

  it('says why a link is refused: used (even while its customer is connected) or expired', async () => {
    const made = await f.reg.create(AGENT, 'https://example.test/');
    const refusal = async (id: string, token: string) => {
      const r = await joinOver(url, id, token);
      const { code } = await r.closed;
      return { code, err: r.messages.find((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error' && m.ref === 'join') };
    };
    const customer = await joinOver(url, made.id, made.customerToken, (m) => m.some((x) => x.type === 'joined'));
    const present = await refusal(made.id, made.customerToken);
    expect(present.code).to.equal(CloseCodes.BAD_TOKEN);
    expect(present.err).to.include({ code: 'BAD_TOKEN', reason: 'invite_used' });
    customer.ws.close();
    await customer.closed;

    const past = Date.now() - 120_000;
    const stale = await f.tokens.mint({ sid: made.id, role: 'customer', kind: 'invite', sub: `customer:${made.id}`, name: 'Customer' }, past);
    const expiredHere = await refusal(made.id, stale.token);
    expect(expiredHere.code).to.equal(CloseCodes.BAD_TOKEN);
    expect(expiredHere.err).to.include({ code: 'BAD_TOKEN', reason: 'expired' });
    await f.reg.end(made.id, 'expired');
    const expiredGone = await refusal(made.id, stale.token);
    expect(expiredGone.code).to.equal(CloseCodes.NO_SUCH_SESSION);
    expect(expiredGone.err).to.include({ code: 'NO_SUCH_SESSION', reason: 'expired' });
    const foreign = await f.tokens.mint({ sid: 'another-session', role: 'customer', kind: 'invite', sub: 'x', name: 'x' }, past);
    const unknown = await refusal(made.id, foreign.token);
    expect(unknown.code).to.equal(CloseCodes.NO_SUCH_SESSION);
    expect(unknown.err).to.not.have.property('reason');
  });
});
