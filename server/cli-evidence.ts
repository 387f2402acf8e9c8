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
import { loadConfig, type Config } from './config.ts';
import { isVitrineError } from './errors.ts';

/** Values of every `--name value` in args; the rest as positionals. */
function parseArgs(args: string[]): { positional: string[]; flags: Map<string, string[]> } {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) flags.set(a.slice(2), [...(flags.get(a.slice(2)) ?? []), args[++i] ?? '']);
    else positional.push(a);
  }
  return { positional, flags };
}

function paths(config: Config): { auditFile: string; checkpointFile: string } {
  if (!config.dataDir) throw new Error('VITRINE_DATA_DIR is required (development mode keeps no trail)');
  return { auditFile: join(config.dataDir, 'audit', 'audit.log'), checkpointFile: join(config.auditAnchor.checkpointDir ?? join(config.dataDir, 'audit-checkpoints'), CHECKPOINT_FILE) };
}

/** The chain key only when one is configured: a development-mode random one would fail every MAC. */
function configuredAuditKey(config: Config): Uint8Array | undefined {
  return process.env.VITRINE_AUDIT_KEY || process.env.VITRINE_JWT_SECRET ? config.auditKey : undefined;
}

export async function auditVerify(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args);
  const file = positional[0];
  if (!file) return usage();
  const config = loadConfig(process.env);
  const lines = readFileSync(file, 'utf8').split('\n');
  const cpFiles = flags.get('checkpoint') ?? [];
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

export async function evidence(sub: string | undefined, args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args);
  const config = loadConfig(process.env);
  if (sub === 'export' && positional[0] && flags.get('out')?.[0]) {
    try {
      const text = exportEvidence({ session: positional[0], ...paths(config), auditKey: config.auditKey, key: config.auditAnchor.signing, keyring: config.auditAnchor.keyring, policyDir: config.policyDir, generatedBy: { tool: 'vitrine evidence export' } });
      writeFileSync(flags.get('out')![0]!, text, { mode: 0o600 });
      console.log(`evidence export: wrote ${flags.get('out')![0]} (${text.length} bytes, signed with key ${config.auditAnchor.signing.id})`);
      return 0;
    } catch (e) {
      console.error(`evidence export: ${isVitrineError(e) ? `${e.code}: ${e.message}` : (e as Error).message}`);
      return 1;
    }
  }
  if (sub === 'verify' && positional[0]) {
    const report = verifyEvidence(readFileSync(positional[0], 'utf8'), config.auditAnchor.keyring, configuredAuditKey(config));
    for (const n of report.notes) console.log(`  note: ${n}`);
    if (report.ok) {
      console.log(`evidence verify: OK, session ${report.session}, ${report.records} records, signature and checkpoint valid`);
      return 0;
    }
    console.error('evidence verify: FAILED');
    for (const p of report.problems) console.error(`  - ${p}`);
    return 1;
  }
  return usage();
}

function usage(): number {
  console.error('usage: vitrine audit verify <file> [--checkpoint <file>]... | vitrine evidence export <session> --out <file> | vitrine evidence verify <file>');
  return 2;
}
