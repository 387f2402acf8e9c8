/**
 * `vitrine evidence export <session> --out <file>` and `vitrine evidence verify <file>`; and
 * `vitrine audit verify <file> [--checkpoint <file>]...` (with checkpoints: a cut tail shows).
 * Keys and paths come from the same settings as the server's (server/config.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpoints, verifyTrail, CHECKPOINT_FILE, type Checkpoint } from './audit/checkpoints.ts';
import { verifyEvidence } from './audit/evidence.ts';
import { exportEvidence } from './audit/evidence-export.ts';
import { verifyLines } from './audit/chain.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { command } from './cli-parser.ts';

function paths(config: Config): { auditFile: string; checkpointFile: string } {
  if (!config.dataDir) throw new ConfigError(['VITRINE_DATA_DIR: required (development mode keeps no trail)']);
  return { auditFile: join(config.dataDir, 'audit', 'audit.log'), checkpointFile: join(config.auditAnchor.checkpointDir ?? join(config.dataDir, 'audit-checkpoints'), CHECKPOINT_FILE) };
}

/** The chain key only when one is configured: a development-mode random one would fail every MAC. */
function configuredAuditKey(config: Config): Uint8Array | undefined {
  return process.env.VITRINE_AUDIT_KEY || process.env.VITRINE_JWT_SECRET ? config.auditKey : undefined;
}

export const auditVerify = command({
  name: 'audit verify',
  summary: "Checks an audit trail's hash chain (with VITRINE_AUDIT_KEY), and against signed checkpoints when given",
  description: 'Without a checkpoint, records removed from the end cannot show: pass the checkpoints the server streamed off the machine (docs/compliance.md).',
  args: [{ name: 'file', help: "the audit trail: VITRINE_DATA_DIR/audit/audit.log, or one node's copy" }],
  options: { checkpoint: { type: 'string', multiple: true, value: 'file', help: 'a checkpoint file (JSON lines, or one checkpoint) the trail must match' } },
  exits: {
    0: 'the chain verifies (and is anchored to a checkpoint, when one is given)',
    1: 'the chain is broken, does not match a checkpoint, or a file cannot be read',
    2: 'bad usage or configuration',
  },
  run: ({ args: [file], options }) => verifyAuditTrail(file!, options.checkpoint),
});

async function verifyAuditTrail(file: string, cpFiles: string[]): Promise<number> {
  const config = loadConfig(process.env);
  const lines = readFileSync(file, 'utf8').split('\n');
  if (!cpFiles.length) {
    const result = verifyLines(config.auditKey, lines);
    if (result.ok) {
      console.log(`audit verify: OK, ${result.records} records, chain head ${result.head.slice(0, 16)}… (no checkpoint given: a cut tail cannot show; pass --checkpoint)`);
      return 0;
    }
    console.error(`audit verify: BROKEN at line ${result.line} (after ${result.records} good records): ${result.problem}`);
    return 1;
  }
  const checkpoints: Checkpoint[] = [];
  const problems: string[] = [];
  for (const f of cpFiles) {
    const parsed = parseCheckpoints(readFileSync(f, 'utf8'));
    checkpoints.push(...parsed.checkpoints);
    problems.push(...parsed.problems.map((p) => `${f}: ${p}`));
  }
  const report = verifyTrail(config.auditKey, lines, checkpoints, config.auditAnchor.keyring);
  problems.push(...report.problems);
  if (!problems.length && report.anchoredTo > 0) {
    console.log(`audit verify: OK, ${report.records} records, ${report.checkpointsChecked} checkpoint(s) match, anchored to seq ${report.anchoredTo}`);
    return 0;
  }
  if (!problems.length) problems.push('no checkpoint was given');
  console.error(`audit verify: FAILED (${report.records} good records)`);
  for (const p of problems) console.error(`  - ${p}`);
  return 1;
}

export const evidenceExport = command({
  name: 'evidence export',
  summary: "Writes a session's signed evidence pack from this server's data directory (offline)",
  description: 'Signed with VITRINE_AUDIT_SIGNING_KEY; reads VITRINE_DATA_DIR and the checkpoint directory (docs/compliance.md).',
  args: [{ name: 'session', help: 'the session id' }],
  options: { out: { type: 'string', value: 'file', required: true, help: 'where to write the pack (mode 0600)' } },
  exits: {
    0: 'the pack was written',
    1: 'it could not be made (no records of that session, unreadable files)',
    2: 'bad usage or configuration',
    3: 'the audit trail fails verification, or no checkpoint covers the session',
  },
  async run({ args: [session], options }) {
    const config = loadConfig(process.env);
    const text = exportEvidence({
      session: session!,
      ...paths(config),
      auditKey: config.auditKey,
      key: config.auditAnchor.signing,
      keyring: config.auditAnchor.keyring,
      policyDir: config.policyDir,
      generatedBy: { tool: 'vitrine evidence export' },
    });
    writeFileSync(options.out, text, { mode: 0o600 });
    console.log(`evidence export: wrote ${options.out} (${text.length} bytes, signed with key ${config.auditAnchor.signing.id})`);
    return 0;
  },
});

export const evidenceVerify = command({
  name: 'evidence verify',
  summary: 'Checks an evidence pack offline: signature, checkpoint and records',
  description: "Uses the keys in VITRINE_AUDIT_VERIFY_KEYS (and the audit key, when one is configured, to check each record's MAC).",
  args: [{ name: 'file', help: 'the pack, as `vitrine evidence export` or GET /api/sessions/{id}/evidence wrote it' }],
  exits: { 0: 'the pack verifies', 1: 'it does not (every problem is listed), or cannot be read', 2: 'bad usage or configuration' },
  async run({ args: [file] }) {
    const config = loadConfig(process.env);
    const report = verifyEvidence(readFileSync(file!, 'utf8'), config.auditAnchor.keyring, configuredAuditKey(config));
    for (const n of report.notes) console.log(`  note: ${n}`);
    if (report.ok) {
      console.log(`evidence verify: OK, session ${report.session}, ${report.records} records, signature and checkpoint valid`);
      return 0;
    }
    console.error('evidence verify: FAILED');
    for (const p of report.problems) console.error(`  - ${p}`);
    return 1;
  },
});
