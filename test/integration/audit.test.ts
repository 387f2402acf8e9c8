/**
 * The tamper-evident audit trail: the chain catches edits, deletions, insertions and
 * reordering, survives restarts, and is readable only by auditors.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileAuditSink, AuditChainError } from '../../server/audit/audit-file.ts';
import { verifyLines } from '../../server/audit/chain.ts';
import { createLogger } from '../../server/log.ts';
import { PAGES } from '../support/fixture-pages.ts';
import { serveFixtures, startTestServer, TestClient } from '../../harness/harness.ts';

const KEY = new TextEncoder().encode('audit-test-key-audit-test-key-audit-test-key');
const log = createLogger('silent');

describe('audit trail', function () {
  let dir: string;
  let file: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'vitrine-audit-'));
    file = join(dir, 'audit.log');
    const sink = new FileAuditSink(file, KEY, log);
    for (let i = 0; i < 5; i++) sink.record({ type: 'control.granted', session: 's1', actor: { sub: `a${i}`, role: 'customer' }, details: { i } });
    void sink.close();
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });
  const lines = () => readFileSync(file, 'utf8').trimEnd().split('\n');

  it('verifies an intact chain and continues it across restarts', async function () {
    expect(verifyLines(KEY, lines())).to.include({ ok: true, records: 5 });
    const again = new FileAuditSink(file, KEY, log);
    again.record({ type: 'session.ended', session: 's1', details: { reason: 'ended_by_customer' } });
    await again.close();
    expect(verifyLines(KEY, lines())).to.include({ ok: true, records: 6 });
  });

  it('finds an edited, deleted, inserted and reordered record, and a wrong key', function () {
    const l = lines();
    const edited = [...l];
    edited[2] = edited[2]!.replace('"a2"', '"mallory"');
    expect(verifyLines(KEY, edited)).to.deep.include({ ok: false, line: 3 });

    const deleted = l.filter((_, i) => i !== 1);
    const d = verifyLines(KEY, deleted);
    expect(d).to.deep.include({ ok: false, line: 2 });
    expect((d as { problem: string }).problem).to.match(/missing/);

    const inserted = [...l.slice(0, 3), l[1]!, ...l.slice(3)];
    expect(verifyLines(KEY, inserted)).to.deep.include({ ok: false, line: 4 });

    const reordered = [l[0]!, l[2]!, l[1]!, l[3]!, l[4]!];
    expect(verifyLines(KEY, reordered)).to.deep.include({ ok: false, line: 2 });

    const removedLast = verifyLines(KEY, l.slice(0, 4));
    expect(removedLast.ok).to.equal(true); // a cut tail is caught by comparing the head, kept in the log stream

    expect(verifyLines(new TextEncoder().encode('another-key-another-key-another-key'), l)).to.deep.include({ ok: false, line: 1 });
  });

  it('refuses to append to a broken file', function () {
    const l = lines();
    writeFileSync(file, `${[l[0], l[2], l[3]].join('\n')}\n`);
    expect(() => new FileAuditSink(file, KEY, log)).to.throw(AuditChainError, /line 2/);
  });

  it('has a command that reports the first broken record', function () {
    const env = { ...process.env, VITRINE_AUDIT_KEY: new TextDecoder().decode(KEY), VITRINE_JWT_SECRET: 'x'.repeat(40) };
    const ok = execFileSync('node', ['--import', 'tsx', 'server/cli.ts', 'audit', 'verify', file], { env, encoding: 'utf8' });
    expect(ok).to.match(/OK, 5 records/);
    const l = lines();
    writeFileSync(file, `${[l[0], l[1], l[3], l[4]].join('\n')}\n`);
    let out = '';
    try {
      execFileSync('node', ['--import', 'tsx', 'server/cli.ts', 'audit', 'verify', file], { env, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      out = String((e as { stderr: string }).stderr);
    }
    expect(out).to.match(/BROKEN at line 3/);
  });
});

describe('audit over the API', function () {
  it("records a session's security events, without secrets, for auditors only", async function () {
    const site = await serveFixtures(PAGES);
    const server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host });
    try {
      const { body } = await server.createSession(`${site.url}/type`);
      const agent = await TestClient.join(server.url, body.id, body.agentToken);
      const customer = await TestClient.join(server.url, body.id, body.customerToken);
      customer.send({ type: 'consent', accept: true });
      agent.send({ type: 'control/request' });
      await customer.message('control/requested');
      customer.send({ type: 'control/grant' });
      await agent.message('state', (m) => m.snapshot.control !== null);
      agent.input({ kind: 'text', text: 'typed-secret-llama' });
      const revoked = agent.next('state', (m) => m.snapshot.control === null);
      customer.send({ type: 'control/revoke' });
      await revoked;
      agent.input({ kind: 'text', text: 'refused-secret-yak' });
      await agent.message('error', (m) => m.code === 'CONTROL_NOT_GRANTED');
      agent.send({ type: 'navigate/propose', url: 'http://10.0.0.1/' });
      await agent.message('error', (m) => m.code === 'URL_REFUSED');
      customer.send({ type: 'end' });
      await agent.message('ended');

      const get = async (role: 'agent' | 'auditor') => fetch(`${server.url}/api/sessions/${body.id}/audit`, { headers: { authorization: `Bearer ${await server.staffToken('x', role)}` } });
      expect((await get('agent')).status).to.equal(403);
      const res = await get('auditor');
      expect(res.status).to.equal(200);
      const { records } = await res.json();
      const types = records.map((r: { type: string }) => r.type);
      for (const t of ['session.created', 'participant.joined', 'consent.given', 'control.requested', 'control.granted', 'control.revoked', 'input.refused', 'navigation.refused', 'session.ended']) {
        expect(types, t).to.include(t);
      }
      const granted = records.find((r: { type: string }) => r.type === 'control.granted');
      expect(granted.actor).to.deep.equal({ sub: `customer:${body.id}`, role: 'customer' });
      expect(granted.policy).to.have.keys(['name', 'version']);
      const text = JSON.stringify(records);
      for (const secret of [body.customerToken, body.agentToken, 'typed-secret-llama', 'refused-secret-yak']) expect(text.includes(secret)).to.equal(false);
      await Promise.all([agent.close(), customer.close()]);
    } finally {
      await server.close();
      await site.close();
    }
  });
});
