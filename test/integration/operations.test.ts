/**
 * What operators rely on: TLS end to end, readiness, metrics that move, logs without secrets,
 * and a shutdown that ends sessions cleanly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { createLogger } from '../../server/log.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient, type FixtureSite } from '../../harness/harness.ts';
import { roundTrip, until } from '../support/waits.ts';

describe('operations', function () {
  let site: FixtureSite;
  before(async function () {
    site = await serveFixtures(PAGES);
  });
  after(async function () {
    await site?.close();
  });

  it('serves HTTPS and WSS natively with HSTS when given a certificate', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      const ca = readFileSync(join(dir, 'cert.pem'));
      const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_TLS_CERT: join(dir, 'cert.pem'), VITRINE_TLS_KEY: join(dir, 'key.pem') });
      try {
        expect(server.url).to.match(/^https:/);
        const res = await new Promise<{ status: number; hsts: string | undefined }>((resolve, reject) => {
          request(`${server.url}/healthz`, { ca }, (r) => {
            r.resume();
            resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'] as string | undefined });
          })
            .on('error', reject)
            .end();
        });
        expect(res.status).to.equal(200);
        expect(res.hsts).to.match(/max-age=\d+/);
        const token = await server.agentToken();
        const created = await new Promise<any>((resolve, reject) => {
          const req = request(`${server.url}/api/sessions`, { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (r) => {
            let body = '';
            r.on('data', (c) => (body += c)).on('end', () => resolve(JSON.parse(body)));
          });
          req.on('error', reject);
          req.end(JSON.stringify({ url: `${site.url}/green` }));
        });
        expect(created.customerUrl).to.match(/^https:\/\/localhost:\d+\/s\//);
        const ws = new WebSocket(`${server.url.replace('https', 'wss')}/ws`, { ca });
        const joined = await new Promise<any>((resolve, reject) => {
          ws.once('open', () => ws.send(JSON.stringify({ type: 'join', session: created.id, token: created.customerToken })));
          ws.on('message', (d, bin) => !bin && resolve(JSON.parse(String(d))));
          ws.once('error', reject);
        });
        expect(joined.type).to.equal('joined');
        ws.close();
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exposes metrics that change as sessions run, and keeps secrets out of the logs', async function () {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host }, { log: createLogger('trace', sink) });
    try {
      const metric = async (name: string) => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(name));
        return line ? Number(line.split(' ').at(-1)) : NaN;
      };
      expect(await metric('vitrine_frames_sent_total{role="customer"}')).to.satisfy((n: number) => Number.isNaN(n) || n === 0);
      const { body } = await server.createSession(`${site.url}/type`);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      const agent = await TestClient.join(server.url, body.id, body.agentToken);
      customer.send({ type: 'consent', accept: true });
      await customer.frameWhere(() => true);
      expect(await metric('vitrine_sessions{state="live"}')).to.equal(1);
      expect(await metric('vitrine_participants{role="agent"}')).to.equal(1);
      customer.click(300, 70);
      const typed = 'hunter2-zebra-secret';
      for (const ch of typed) {
        customer.input({ kind: 'key', action: 'down', key: ch, code: '' });
        customer.input({ kind: 'key', action: 'up', key: ch, code: '' });
      }
      customer.input({ kind: 'text', text: 'pasted-walrus-secret' });
      agent.input({ kind: 'text', text: 'agent-otter-secret' });
      await agent.message('error', (m) => m.code === 'CONTROL_NOT_GRANTED');
      // Every key the customer sent has been read (waits.ts roundTrip), and an input reached the
      // page and its frame came back (the measurement below).
      await roundTrip(customer);
      await until('an input-to-frame measurement', async () => (await metric('vitrine_input_to_frame_seconds_count')) > 0, 10_000);
      expect(await metric('vitrine_frames_sent_total{role="customer"}')).to.be.greaterThan(0);
      expect(await metric('vitrine_frames_captured_total')).to.be.greaterThan(0);
      expect(await metric('vitrine_refusals_total{code="CONTROL_NOT_GRANTED"}')).to.equal(1);
      expect(await metric('vitrine_input_to_frame_seconds_count')).to.be.greaterThan(0);
      // A refused staff token, so the audit/log path for refusals runs too.
      await fetch(`${server.url}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${body.agentToken}` }, body: '{}' });
      customer.send({ type: 'end' });
      await agent.message('ended');
      const log = lines.join('');
      expect(log).to.include('session created');
      for (const secret of [body.customerToken, body.agentToken, body.customerToken.split('.')[2]!, typed, 'pasted-walrus-secret', 'agent-otter-secret', 'hunter2']) {
        expect(log.includes(secret), `log contains ${secret.slice(0, 12)}…`).to.equal(false);
      }
      expect(log).to.not.match(/\/9j\//); // base64 JPEG bytes
    } finally {
      await server.close();
    }
  });

  it('goes unready, tells participants and ends sessions cleanly on shutdown', async function () {
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).to.equal(200);
    const body0 = await ready.json();
    expect(body0.capacity.free).to.be.greaterThan(0);
    expect(body0.pressure.headroom).to.be.within(0, 1);
    const { body } = await server.createSession(`${site.url}/green`);
    const customer = await TestClient.join(server.url, body.id, body.customerToken);
    customer.send({ type: 'consent', accept: true });
    await customer.frameWhere(() => true);
    const closing = server.close();
    const ended = await customer.message('ended');
    expect(ended.reason).to.equal('server_shutdown');
    expect((await customer.closed).code).to.equal(1000);
    await closing;
    expect(server.vitrine.pool.browserPids()).to.deep.equal([]);
    let refused = false;
    await fetch(`${server.url}/readyz`).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});
