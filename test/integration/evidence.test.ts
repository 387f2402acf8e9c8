/**
 * Signed evidence packs (issue 18, item 2): a real session (real Chromium) with consent, a
 * control grant and revoke and an approved navigation; its pack verifies offline, names who
 * proposed and who approved, holds no token or secret, and any edit breaks it.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { canonical } from '../../server/audit/chain.ts';
import { verifyEvidence } from '../../server/audit/evidence.ts';
import { startTestServer, serveFixtures, TestClient, type FixtureSite, type TestServer } from '../../harness/harness.ts';

const AUDIT_KEY = 'audit-key-for-evidence-tests-0123456789';

describe('evidence packs', function () {
  let server: TestServer;
  let site: FixtureSite;
  let tmp: string;
  before(async function () {
    tmp = mkdtempSync(join(tmpdir(), 'vitrine-evidence-'));
    site = await serveFixtures({ '/start': '<title>Start</title><body>start</body>', '/next': '<title>Next</title><body>next</body>' });
    server = await startTestServer({ VITRINE_ALLOW_HOSTS: site.host, VITRINE_AUDIT_KEY: AUDIT_KEY, VITRINE_AUDIT_CHECKPOINT_DIR: join(tmp, 'anchor') });
  });
  after(async function () {
    await server?.close();
    await site?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("a real session's pack verifies offline, and any edit breaks it", async function () {
    const created = await server.createSession(`${site.url}/start`);
    expect(created.status).to.equal(201);
    const { id, customerToken, agentToken } = created.body;
    const agent = await TestClient.join(server.url, id, agentToken);
    const customer = await TestClient.join(server.url, id, customerToken);
    const shown = { lang: 'en', text: 'Share this page with our support team? Agent One from our support team asks to see this page with you: 127.0.0.1 Accept Decline' };
    customer.send({ type: 'consent', accept: true, shown });
    await agent.message('state', (m) => m.snapshot.state === 'live');
    agent.send({ type: 'control/request' });
    await customer.message('control/requested');
    customer.send({ type: 'control/grant' });
    await agent.message('state', (m) => m.snapshot.control !== null);
    customer.send({ type: 'control/revoke' });
    await agent.next('state', (m) => m.snapshot.control === null);
    agent.send({ type: 'navigate/propose', url: `${site.url}/next?token=not-for-evidence` });
    const proposed = await customer.message('navigate/proposed');
    customer.send({ type: 'navigate/approve', id: proposed.proposal.id });
    await agent.message('navigate/answered', (m) => m.approved);
    agent.send({ type: 'end' });
    await agent.message('ended');

    const auditor = await server.staffToken('aud-1', 'auditor', 'Auditor');
    const agentOnly = await fetch(`${server.url}/api/sessions/${id}/evidence`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(agentOnly.status).to.equal(401);
    const res = await fetch(`${server.url}/api/sessions/${id}/evidence`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(res.status).to.equal(200);
    const text = await res.text();
    const keyring = server.vitrine.config.auditAnchor.keyring;
    const key = new TextEncoder().encode(AUDIT_KEY);
    const report = verifyEvidence(text, keyring, key);
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);

    const pack = JSON.parse(text);
    expect(pack.session).to.equal(id);
    expect(pack.consent).to.deep.include({ answer: 'given' });
    expect(pack.consent.shown).to.deep.include({ lang: 'en', text: shown.text });
    expect(pack.consent.offered).to.deep.include({ agents: 'Agent One', recorded: false });
    expect(pack.policy).to.include({ name: 'default' });
    expect(pack.policy.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(pack.policy.sha256.startsWith(pack.policy.version)).to.equal(true);
    expect(pack.control.map((c: { action: string }) => c.action)).to.deep.equal(['requested', 'granted', 'revoked']);
    expect(pack.control[1].by).to.deep.equal({ sub: `customer:${id}`, role: 'customer' });
    expect(pack.navigation).to.have.length(1);
    expect(pack.navigation[0]).to.deep.include({ answer: 'approved', proposal: proposed.proposal.id, host: site.host });
    expect(pack.navigation[0].proposed.by).to.deep.equal({ sub: 'agent-1', role: 'agent' });
    expect(pack.navigation[0].answered.by.role).to.equal('customer');
    expect(pack.navigation[0].answered.proposedBy).to.equal('agent-1');
    expect(pack.ended.reason).to.equal('ended_by_agent');
    expect(pack.checkpoint.seq).to.be.at.least(pack.records.at(-1).seq);
    for (const r of pack.records) expect(r).to.include.keys('seq', 'prev', 'mac');
    // The export itself is audited.
    const trail = readFileSync(join(server.vitrine.config.dataDir!, 'audit', 'audit.log'), 'utf8');
    expect(trail).to.contain('"evidence.exported"');

    // No token, secret or query string inside.
    for (const secret of [agentToken, customerToken, auditor, AUDIT_KEY, 'test-secret-that-is-long-enough', 'not-for-evidence', 'token=']) expect(text).to.not.contain(secret);

    // Any edit breaks it: one byte, a record removed (re-serialised canonically), the signature.
    const byte = text.replace('"answer":"given"', '"answer":"gives"');
    expect(verifyEvidence(byte, keyring, key).ok).to.equal(false);
    expect(verifyEvidence(text.replace('{', '{ '), keyring, key).problems.join()).to.contain('not byte for byte');
    const removed = { ...pack, records: pack.records.filter((r: { type: string }) => r.type !== 'control.revoked') };
    const r2 = verifyEvidence(`${canonical(removed)}\n`, keyring, key);
    expect(r2.ok).to.equal(false);
    expect(r2.problems.join('\n')).to.match(/pack signature|control summary/);
    const sig = { ...pack, sig: Buffer.alloc(64, 7).toString('base64') };
    expect(verifyEvidence(`${canonical(sig)}\n`, keyring, key).problems.join()).to.contain('pack signature');
    // A record changed and re-signed by someone else's MAC key still fails the MAC check.
    expect(verifyEvidence(text, keyring, new TextEncoder().encode('another-audit-key-0123456789-abcdef')).problems.join()).to.contain('MAC mismatch');

    // The CLI, offline: export from the data dir and verify.
    const out = join(tmp, 'pack.json');
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const env = {
      ...process.env,
      VITRINE_JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
      VITRINE_AUDIT_KEY: AUDIT_KEY,
      VITRINE_DATA_DIR: server.vitrine.config.dataDir!,
      VITRINE_AUDIT_CHECKPOINT_DIR: join(tmp, 'anchor'),
      VITRINE_LOG_LEVEL: 'silent',
    };
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { env, cwd: join(import.meta.dirname, '..', '..') }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const exported = await run(['evidence', 'export', id, '--out', out]);
    expect(exported.code, exported.out).to.equal(0);
    const verified = await run(['evidence', 'verify', out]);
    expect(verified.code, verified.out).to.equal(0);
    writeFileSync(out, readFileSync(out, 'utf8').replace('"answer":"given"', '"answer":"gives"'));
    const tampered = await run(['evidence', 'verify', out]);
    expect(tampered.code).to.equal(1);
    expect(tampered.out).to.contain('FAILED');
  });
});
