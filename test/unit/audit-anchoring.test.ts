/**
 * Anchored audit trail (issue 18, item 1): signed checkpoints of the chain head make a cut tail
 * visible; forged checkpoints are refused; rotated-out keys still verify by key id.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { FileAuditSink } from '../../server/audit/audit-file.ts';
import { CheckpointWriter, parseCheckpoints, readCheckpointFile, signCheckpoint, verifyTrail, type Checkpoint } from '../../server/audit/checkpoints.ts';
import { rawPublicKey, signingKey, type SigningKey } from '../../server/audit/signing.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';

const AUDIT_KEY = 'audit-key-for-anchoring-tests-0123456789';
const auditKey = new TextEncoder().encode(AUDIT_KEY);
const log = createLogger('silent');
const newKey = (id: string): SigningKey => signingKey(generateKeyPairSync('ed25519').privateKey, id);
const ring = (...keys: SigningKey[]) => new Map(keys.map((k) => [k.id, k.publicKey]));
const seed = (k: SigningKey) => k.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16).toString('base64');

describe('anchored audit trail (signed checkpoints)', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vitrine-anchor-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A trail of `n` records then a checkpoint, `m` more then another; returns the files. */
  async function trail(key: SigningKey, n: number, m: number): Promise<{ file: string; cpFile: string; lines: () => string[]; checkpoints: () => Checkpoint[] }> {
    const file = join(dir, 'audit', 'audit.log');
    const sink = new FileAuditSink(file, auditKey, log);
    const writer = new CheckpointWriter({ dir: join(dir, 'anchor'), trail: sink, key, log, intervalMs: 0 });
    for (let i = 0; i < n; i++) sink.record({ type: 'control.granted', session: 's1', details: { i } });
    writer.write('interval');
    for (let i = 0; i < m; i++) sink.record({ type: 'control.revoked', session: 's1', details: { i } });
    writer.write('session_end', 's1');
    writer.close();
    await sink.close();
    return { file, cpFile: writer.file, lines: () => readFileSync(file, 'utf8').split('\n'), checkpoints: () => readCheckpointFile(writer.file) };
  }

  it('reports a cut tail with the missing seq range; the untouched trail verifies', async function () {
    const key = newKey('k1');
    const t = await trail(key, 20, 5);
    // 20 records, checkpoint of seq 20 (its record is seq 21), 5 more (22..26), checkpoint of 26 (record 27).
    const cps = t.checkpoints();
    expect(cps.map((c) => c.seq)).to.deep.equal([20, 26]);
    const latest = cps.at(-1)!;
    const intact = verifyTrail(auditKey, t.lines(), [latest], ring(key));
    expect(intact.problems).to.deep.equal([]);
    expect(intact).to.include({ ok: true, records: 27, anchoredTo: 26 });

    // Cut the last four records: the chain alone still verifies, the checkpoint does not.
    const cut = t.lines().filter(Boolean).slice(0, -4);
    writeFileSync(t.file, `${cut.join('\n')}\n`);
    const report = verifyTrail(auditKey, t.lines(), [latest], ring(key));
    expect(report.ok).to.equal(false);
    expect(report.records).to.equal(23);
    expect(report.problems.join('\n')).to.contain('records 24..26 are missing');

    // The same through the CLI, as an operator runs it.
    const env = { ...process.env, VITRINE_AUDIT_KEY: AUDIT_KEY, VITRINE_AUDIT_SIGNING_KEY: seed(key), VITRINE_AUDIT_SIGNING_KEY_ID: 'k1', VITRINE_LOG_LEVEL: 'silent' };
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { env, cwd: join(import.meta.dirname, '..', '..') }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const broken = await cli(['audit', 'verify', t.file, '--checkpoint', t.cpFile]);
    expect(broken.code).to.equal(1);
    expect(broken.out).to.contain('records 24..26 are missing');
    // Without a checkpoint the shortened chain passes: this is what the checkpoints are for.
    expect((await cli(['audit', 'verify', t.file])).code).to.equal(0);
    // The earlier checkpoint (seq 20) alone is still satisfied by the shortened file.
    const earlier = join(dir, 'earlier.json');
    writeFileSync(earlier, JSON.stringify(cps[0]));
    const ok = await cli(['audit', 'verify', t.file, '--checkpoint', earlier]);
    expect(ok.code, ok.out).to.equal(0);
    expect(ok.out).to.contain('anchored to seq 20');
  });

  it("refuses a forged checkpoint (wrong key, unknown key id, or a head that is not the chain's)", async function () {
    const key = newKey('k1');
    const t = await trail(key, 5, 2);
    const real = t.checkpoints().at(-1)!;
    const { keyId: _k, sig: _s, v: _v, ...body } = real;
    // Signed by someone else under the real key id.
    const forged = signCheckpoint(newKey('k1'), { ...body, seq: real.seq + 10 });
    const r1 = verifyTrail(auditKey, t.lines(), [forged], ring(key));
    expect(r1.ok).to.equal(false);
    expect(r1.problems.join('\n')).to.match(/refused: the signature does not verify with key "k1"/);
    // A key id the keyring does not know.
    const r2 = verifyTrail(auditKey, t.lines(), [signCheckpoint(newKey('mallory'), body)], ring(key));
    expect(r2.problems.join('\n')).to.contain('"mallory", which is not in the keyring');
    // Validly signed, but the chain position does not match (the trail was rewritten).
    const r3 = verifyTrail(auditKey, t.lines(), [signCheckpoint(key, { ...body, head: 'a'.repeat(64) })], ring(key));
    expect(r3.problems.join('\n')).to.contain(`the record at seq ${real.seq} is not the one signed`);
    // An edited field of the real one breaks its signature.
    const r4 = verifyTrail(auditKey, t.lines(), [{ ...real, at: '2001-01-01T00:00:00.000Z' }], ring(key));
    expect(r4.problems.join('\n')).to.contain('does not verify');
    // The genuine one passes.
    expect(verifyTrail(auditKey, t.lines(), [real], ring(key)).ok).to.equal(true);
  });

  it('key rotation: checkpoints of the old key verify with its id in the keyring', async function () {
    const oldKey = newKey('2024-a');
    const newer = newKey('2025-b');
    const file = join(dir, 'audit', 'audit.log');
    const cpDir = join(dir, 'anchor');
    let sink = new FileAuditSink(file, auditKey, log);
    let writer = new CheckpointWriter({ dir: cpDir, trail: sink, key: oldKey, log, intervalMs: 0 });
    sink.record({ type: 'session.created', session: 's1' });
    writer.write('interval');
    writer.close();
    await sink.close();
    // Restart with the new key: the chain continues, checkpoints now carry the new id.
    sink = new FileAuditSink(file, auditKey, log);
    writer = new CheckpointWriter({ dir: cpDir, trail: sink, key: newer, log, intervalMs: 0 });
    sink.record({ type: 'session.ended', session: 's1' });
    writer.write('session_end', 's1');
    writer.close();
    await sink.close();
    const cps = readCheckpointFile(writer.file);
    expect(cps.map((c) => c.keyId)).to.include.members(['2024-a', '2025-b']);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(verifyTrail(auditKey, lines, cps, ring(oldKey, newer))).to.include({ ok: true });
    // Without the old id the old checkpoints are refused, by name.
    const missing = verifyTrail(auditKey, lines, cps, ring(newer));
    expect(missing.ok).to.equal(false);
    expect(missing.problems.join('\n')).to.contain('"2024-a", which is not in the keyring');

    // The settings: the signing key plus the rotated-out public key by id.
    const config = loadConfig({
      VITRINE_JWT_SECRET: 'x'.repeat(40),
      VITRINE_AUDIT_SIGNING_KEY: seed(newer),
      VITRINE_AUDIT_SIGNING_KEY_ID: '2025-b',
      VITRINE_AUDIT_VERIFY_KEYS: `2024-a=${rawPublicKey(oldKey.publicKey)}`,
    });
    expect(config.auditAnchor.signing.id).to.equal('2025-b');
    expect([...config.auditAnchor.keyring.keys()].sort()).to.deep.equal(['2024-a', '2025-b']);
    expect(verifyTrail(auditKey, lines, cps, config.auditAnchor.keyring).ok).to.equal(true);
    // A keyring entry that names the signing key's id with another key is a configuration error.
    expect(() =>
      loadConfig({
        VITRINE_JWT_SECRET: 'x'.repeat(40),
        VITRINE_AUDIT_SIGNING_KEY: seed(newer),
        VITRINE_AUDIT_SIGNING_KEY_ID: '2025-b',
        VITRINE_AUDIT_VERIFY_KEYS: `2025-b=${rawPublicKey(oldKey.publicKey)}`,
      }),
    ).to.throw(/names another key/);
  });

  it('reads checkpoints back from audit.checkpoint records (as the SIEM receives them)', async function () {
    const key = newKey('k1');
    const t = await trail(key, 3, 1);
    const records = t.lines().filter((l) => l.includes('"audit.checkpoint"'));
    expect(records).to.have.length(2);
    const { checkpoints, problems } = parseCheckpoints(records.join('\n'));
    expect(problems).to.deep.equal([]);
    expect(checkpoints).to.deep.equal(t.checkpoints());
  });
});
