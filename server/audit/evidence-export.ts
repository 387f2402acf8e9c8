/**
 * Assembles an evidence pack from the files on disk: the audit trail (verified from its first
 * record, so the pack never vouches for a broken chain), the checkpoint file, and the policy
 * directory (for the policy's full hash). Used by `vitrine evidence export` and by
 * GET /api/sessions/:id/evidence.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, openSync, closeSync, fsyncSync, readFileSync } from 'node:fs';
import { VitrineError } from '../errors.ts';
import { PolicyStore } from '../policy/store.ts';
import type { AuditActor } from './audit.ts';
import { verifyLines, type ChainedRecord } from './chain.ts';
import { checkCheckpointSignature, readCheckpointFile, signCheckpoint, type Checkpoint } from './checkpoints.ts';
import { buildEvidence } from './evidence.ts';
import type { Keyring, SigningKey } from './signing.ts';

export interface ExportOptions {
  session: string;
  auditFile: string;
  auditKey: Uint8Array;
  checkpointFile: string;
  key: SigningKey;
  keyring: Keyring;
  policyDir?: string;
  generatedBy: AuditActor | { tool: string };
  /** Writes a checkpoint of the trail's head now (the server's writer); default: signs one here. */
  checkpointNow?: () => Checkpoint | null;
}

export function exportEvidence(opts: ExportOptions): string {
  const lines = readFileSync(opts.auditFile, 'utf8').split('\n');
  const chain = verifyLines(opts.auditKey, lines);
  if (!chain.ok) throw new VitrineError('AUDIT_CHAIN_BROKEN', `the audit trail fails verification at line ${chain.line}: ${chain.problem}`);
  const macAt = new Map<number, string>();
  const records: ChainedRecord[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as ChainedRecord;
    macAt.set(r.seq, r.mac);
    if (r.session === opts.session) records.push(r);
  }
  const last = records.at(-1);
  if (!last) throw new VitrineError('NO_SUCH_SESSION', 'no audit records of this session in this trail');
  const first = macAt.get(1)!;
  // The earliest valid checkpoint at or after the session's last record covers it.
  const covers = (c: Checkpoint | null): c is Checkpoint => !!c && c.seq >= last.seq && c.chain === first && macAt.get(c.seq) === c.head && checkCheckpointSignature(opts.keyring, c).ok;
  let checkpoint = readCheckpointFile(opts.checkpointFile)
    .sort((a, b) => a.seq - b.seq)
    .find(covers);
  if (!checkpoint) {
    const fresh = opts.checkpointNow
      ? opts.checkpointNow()
      : appendCheckpoint(opts.checkpointFile, signCheckpoint(opts.key, { seq: chain.records, head: chain.head, chain: first, at: new Date().toISOString(), reason: 'evidence' }));
    // The server's writer has just written to the trail too: re-read the heads it signed.
    if (fresh && fresh.seq >= last.seq && fresh.chain === first && checkCheckpointSignature(opts.keyring, fresh).ok) checkpoint = fresh;
  }
  if (!checkpoint) throw new VitrineError('AUDIT_CHAIN_BROKEN', 'no checkpoint covers this session and none could be written');
  return buildEvidence({
    session: opts.session,
    records,
    checkpoint,
    policySha256: policySha256(opts.policyDir, last.policy ?? records.find((r) => r.policy)?.policy),
    generatedBy: opts.generatedBy,
    key: opts.key,
  });
}

function appendCheckpoint(file: string, cp: Checkpoint): Checkpoint {
  appendFileSync(file, `${JSON.stringify(cp)}\n`, { mode: 0o600 });
  const fd = openSync(file, 'r');
  fsyncSync(fd);
  closeSync(fd);
  return cp;
}

/** The full hash of the policy as loaded now, when its version is still the one recorded. */
function policySha256(dir: string | undefined, policy: { name: string; version: string } | undefined): string | null {
  if (!dir || !policy) return null;
  try {
    const file = PolicyStore.load(dir).require(policy.name).file;
    const sha = createHash('sha256').update(JSON.stringify(file)).digest('hex');
    return sha.startsWith(policy.version) ? sha : null;
  } catch {
    return null;
  }
}
