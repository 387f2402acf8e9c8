/**
 * Bad input over the public contract: every refusal is coded, nothing crashes, and the
 * session keeps working for the others.
 */
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES } from '../../server/protocol.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

describe('hostile input', function () {
  let site: FixtureSite;
  let server: TestServer;
  let session: { id: string; customerToken: string; agentToken: string };
  let other: { id: string; customerToken: string; agentToken: string };
  let customer: TestClient;
  const opened: TestClient[] = [];

  before(async function () {
    site = await serveFixtures(PAGES);
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_SESSIONS_PER_BROWSER: '3' });
    session = (await server.createSession(`${site.url}/green`)).body;
    other = (await server.createSession(`${site.url}/red`)).body;
    customer = await TestClient.join(server.url, session.id, session.customerToken);
    opened.push(customer);
  });
  after(async function () {
    await Promise.all(opened.map((c) => c.close()));
    await server?.close();
    await site?.close();
  });

  const connect = async () => {
    const c = await TestClient.connect(server.url);
    opened.push(c);
    return c;
  };
  const lastError = (c: TestClient) => c.message('error', () => true);

  describe('over the WebSocket', function () {
    it('refuses input before consent with NOT_LIVE', async function () {
      const agent = await TestClient.join(server.url, session.id, session.agentToken);
      opened.push(agent);
      agent.input({ kind: 'pointer', action: 'down', x: 1, y: 1 });
      expect((await lastError(agent)).code).to.equal('NOT_LIVE');
      expect(agent.frames).to.have.length(0);
    });

    it('answers malformed JSON, unknown types, bad shapes and oversized messages with codes', async function () {
      const cases: [string, string][] = [
        ['{not json', 'BAD_JSON'],
        ['[1,2,3]', 'BAD_MESSAGE'],
        ['"just a string"', 'BAD_MESSAGE'],
        [JSON.stringify({ type: 'teleport' }), 'UNKNOWN_TYPE'],
        [JSON.stringify({ nope: 1 }), 'UNKNOWN_TYPE'],
        [JSON.stringify({ type: 'input', input: { kind: 'pointer', action: 'down', x: 'a', y: 1 } }), 'BAD_MESSAGE'],
        [JSON.stringify({ type: 'input', input: { kind: 'pointer', action: 'down', x: 1, y: 1, extra: true } }), 'BAD_MESSAGE'],
        [JSON.stringify({ type: 'input', input: { kind: 'wheel', x: 1, y: 1, dx: 1e308 * 10, dy: 0 } }), 'BAD_MESSAGE'],
        [JSON.stringify({ type: 'consent', accept: 'yes' }), 'BAD_MESSAGE'],
        [JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_MESSAGE_BYTES) }), 'MESSAGE_TOO_LARGE'],
      ];
      for (const [raw, code] of cases) {
        const before = customer.messages.length;
        customer.send(raw);
        const err = await customer.waitFor(() => customer.messages.slice(before).find((m) => m.type === 'error'), 5000, `error for ${raw.slice(0, 40)}`);
        expect(err, raw.slice(0, 60)).to.include({ code });
      }
      // Still joined and answering.
      customer.send({ type: 'ping', t: 7 });
      expect((await customer.message('pong', (m) => m.t === 7)).serverTime).to.be.a('number');
    });

    it('refuses binary messages', async function () {
      customer.ws.send(Buffer.from([1, 2, 3]));
      await customer.message('error', (m) => m.code === 'BINARY_NOT_ALLOWED');
    });

    it('refuses coordinates outside the viewport once live', async function () {
      customer.send({ type: 'consent', accept: true });
      await customer.message('state', (m) => m.snapshot.state === 'live');
      customer.input({ kind: 'pointer', action: 'down', x: 5000, y: 10 });
      await customer.message('error', (m) => m.code === 'OUT_OF_VIEWPORT');
      customer.input({ kind: 'pointer', action: 'move', x: -1, y: 10 });
      await customer.waitFor(() => customer.messages.filter((m) => m.type === 'error' && m.code === 'OUT_OF_VIEWPORT').length === 2);
    });

    it('closes with 4401 for a wrong token, a forged token and a token of another session', async function () {
      const forged = await new SignJWT({ sid: session.id, role: 'customer' })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience('vitrine:session')
        .setIssuer('vitrine')
        .setSubject('x')
        .setJti('j')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('another-secret-another-secret-another'));
      const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sid: session.id, role: 'agent' })).toString('base64url')}.`;
      for (const token of ['garbage', forged, none, other.agentToken, other.customerToken]) {
        const c = await connect();
        c.send({ type: 'join', session: session.id, token });
        const closed = await c.closed;
        expect(closed.code, token.slice(0, 20)).to.equal(4401);
        expect(closed.reason).to.be.a('string').and.not.equal('');
      }
    });

    it('refuses an agent API token as a session token', async function () {
      const c = await connect();
      c.send({ type: 'join', session: session.id, token: await server.agentToken() });
      expect((await c.closed).code).to.equal(4401);
    });

    it('closes with 4404 for an unknown session', async function () {
      const c = await connect();
      c.send({ type: 'join', session: 'no-such-session', token: session.agentToken });
      expect((await c.closed).code).to.equal(4404);
    });

    it('closes with 4400 when the first message is not a join', async function () {
      const c = await connect();
      c.send({ type: 'consent', accept: true });
      const err = await c.message('error');
      expect(err.code).to.equal('NOT_JOINED');
      expect((await c.closed).code).to.equal(4400);
    });

    it('refuses a second customer connection while one is present', async function () {
      // With the customer's own current reconnect token the customer is back on a new connection
      // (a phone that changed networks): it takes the old one's place, which is closed with 4410
      // (issue 15; test/integration/timing/heartbeat.test.ts covers the rest).
      const joined = customer.messages.find((m) => m.type === 'joined');
      const reconnect = joined?.type === 'joined' ? joined.reconnectToken : undefined;
      const back = await TestClient.join(server.url, session.id, reconnect!);
      opened.push(back);
      expect((await customer.closed).code).to.equal(4410);
      customer = back;
      // With that token again, now spent: the customer is already here.
      const c = await connect();
      c.send({ type: 'join', session: session.id, token: reconnect });
      expect((await c.closed).code).to.equal(4409);
      // With the invite again: a spent link, said as such (not "already open elsewhere, retry").
      const again = await connect();
      again.send({ type: 'join', session: session.id, token: session.customerToken });
      expect((await again.closed).code).to.equal(4401);
      expect(again.messages.find((m) => m.type === 'error')).to.include({ code: 'BAD_TOKEN', reason: 'invite_used' });
    });

    it('refuses a second join on the same connection', async function () {
      customer.send({ type: 'join', session: session.id, token: session.customerToken });
      await customer.message('error', (m) => m.code === 'ALREADY_JOINED');
    });

    it('closes a socket that keeps sending refused messages, and the session survives', async function () {
      const agent = await TestClient.join(server.url, session.id, session.agentToken);
      opened.push(agent);
      for (let i = 0; i < 80; i++) agent.send('{bad');
      expect((await agent.closed).code).to.equal(4429);
      customer.send({ type: 'ping', t: 99 });
      await customer.message('pong', (m) => m.t === 99);
      expect(server.vitrine.registry.get(session.id)?.state).to.equal('live');
    });

    it('closes a socket that sends a message over the hard limit (1009)', async function () {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.send('x'.repeat(300 * 1024));
      expect(await closed).to.equal(1009);
    });
  });

  describe('over HTTP', function () {
    const post = (body: string, headers: Record<string, string>) => fetch(`${server.url}/api/sessions`, { method: 'POST', headers, body });

    it('refuses missing, garbage and customer tokens with 401 and a code', async function () {
      for (const auth of [undefined, 'Bearer garbage', `Bearer ${session.customerToken}`, 'Basic abc']) {
        const res = await post(JSON.stringify({ url: `${site.url}/green` }), { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) });
        expect(res.status, String(auth)).to.equal(401);
        expect((await res.json()).error.code).to.equal('UNAUTHENTICATED');
      }
    });

    it('refuses bad bodies with coded 400s', async function () {
      const auth = { authorization: `Bearer ${await server.agentToken()}`, 'content-type': 'application/json' };
      const cases: [string, string][] = [
        ['{bad', 'BAD_JSON'],
        ['{}', 'BAD_REQUEST'],
        [JSON.stringify({ url: 42 }), 'BAD_REQUEST'],
        [JSON.stringify({ url: `${site.url}/green`, extra: 1 }), 'BAD_REQUEST'],
        [JSON.stringify({ url: 'javascript:alert(1)' }), 'BAD_URL'],
        [JSON.stringify({ url: 'file:///etc/passwd' }), 'BAD_URL'],
        [JSON.stringify({ url: 'not a url' }), 'BAD_URL'],
      ];
      for (const [body, code] of cases) {
        const res = await post(body, auth);
        expect(res.status, body).to.equal(400);
        expect((await res.json()).error.code, body).to.equal(code);
      }
      const big = await post(JSON.stringify({ url: 'http://x/' + 'a'.repeat(40_000) }), auth);
      expect(big.status).to.equal(413);
    });

    it('refuses private and metadata addresses that are not allow-listed', async function () {
      const auth = { authorization: `Bearer ${await server.agentToken()}`, 'content-type': 'application/json' };
      for (const url of [
        'http://127.0.0.1:1/',
        'http://169.254.169.254/latest/meta-data/',
        'http://[::1]/',
        'http://0x7f000001/',
        'http://10.0.0.1/',
        'http://[::ffff:127.0.0.1]/',
        'http://localhost:1/',
      ]) {
        const res = await post(JSON.stringify({ url }), auth);
        expect(res.status, url).to.equal(403);
        expect((await res.json()).error.code, url).to.equal('URL_REFUSED');
      }
    });

    it('answers 503 with Retry-After when the pool is full', async function () {
      const extra = [];
      for (;;) {
        const r = await server.createSession(`${site.url}/green`);
        if (r.status !== 201) {
          expect(r.status).to.equal(503);
          expect(r.headers.get('retry-after')).to.match(/^\d+$/);
          expect(r.body.error.code).to.equal('POOL_FULL');
          break;
        }
        extra.push(r.body.id);
        expect(extra.length).to.be.lessThan(5);
      }
      for (const id of extra) await server.vitrine.registry.end(id, 'deleted');
    });

    it('deletes a session with 204 for its agent, 403 for another, 404 when unknown', async function () {
      const created = await server.createSession(`${site.url}/green`);
      const del = (id: string, token: string) => fetch(`${server.url}/api/sessions/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect((await del(created.body.id, await server.agentToken('someone-else'))).status).to.equal(403);
      expect((await del(created.body.id, await server.agentToken())).status).to.equal(204);
      expect((await del(created.body.id, await server.agentToken())).status).to.equal(404);
    });

    it('serves health and coded 404s', async function () {
      expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
      const res = await fetch(`${server.url}/api/nothing`);
      expect(res.status).to.equal(404);
      expect((await res.json()).error.code).to.equal('NOT_FOUND');
    });
  });
});
