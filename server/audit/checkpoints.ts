/**
 * Signed checkpoints of the audit chain head. The hash chain (chain.ts) shows an edited, removed
 * or reordered record, but a cut tail leaves a shorter chain that still verifies. A checkpoint
 * is an Ed25519 signature over (seq, head MAC, chain id, time), written somewhere the trail's
 * writers cannot rewrite: an append-only file on its own volume (fsync'd per checkpoint), and as
 * an `audit.checkpoint` record that the SIEM stream and webhooks carry off the machine. Given the
 * latest checkpoint, verification names every record missing after it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { AuditRecord } from './audit.ts';
import { GENESIS, verifyLines, type ChainedRecord } from './chain.ts';
import { KEY_ID, signBody, verifyBody, type Keyring, type SigningKey } from './signing.ts';

export const CHECKPOINT_FILE = 'checkpoints.jsonl';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
export const CheckpointSchema = z
  .object({
    v: z.literal(1),
    /** Records 1..seq are covered; `head` is the MAC of record seq. */
    seq: z.number().int().min(1),
    head: hex64,
    /** MAC of record 1: tells chains apart when a broken trail was moved aside and a new one began. */
    chain: hex64,
    at: z.string().max(40),
    reason: z.enum(['interval', 'session_end', 'shutdown', 'evidence']),
    session: z.string().max(64).optional(),
    node: z.string().max(64).optional(),
    keyId: z.string().regex(KEY_ID),
    sig: z.string().max(200),
  })
  .strict();
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export function signCheckpoint(key: SigningKey, body: Omit<Checkpoint, 'keyId' | 'sig' | 'v'>): Checkpoint {
  const unsigned = { v: 1 as const, ...body, keyId: key.id };
  return { ...unsigned, sig: signBody(key, unsigned) };
}

export function checkCheckpointSignature(keyring: Keyring, cp: Checkpoint): { ok: true } | { ok: false; problem: string } {
  const { sig, ...unsigned } = cp;
  return verifyBody(keyring, cp.keyId, unsigned, sig);
}

/**
 * Checkpoints from a file: JSON lines of checkpoints (the checkpoint file), a single checkpoint,
 * or `audit.checkpoint` audit records as the SIEM received them (their details carry one).
 */
export function parseCheckpoints(text: string): { checkpoints: Checkpoint[]; problems: string[] } {
  const checkpoints: Checkpoint[] = [];
  const problems: string[] = [];
  const trimmed = text.trim();
  const items = trimmed.startsWith('[') ? (JSON.parse(trimmed) as unknown[]).map((v) => JSON.stringify(v)) : trimmed.split('\n');
  items.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      problems.push(`checkpoint line ${i + 1}: not valid JSON`);
      return;
    }
    const cp = CheckpointSchema.safeParse(fromRecord(v) ?? v);
    if (cp.success) checkpoints.push(cp.data);
    else problems.push(`checkpoint line ${i + 1}: not a checkpoint (${cp.error.issues[0]?.path.join('.')}: ${cp.error.issues[0]?.message})`);
  });
  return { checkpoints, problems };
}

/** The checkpoint an `audit.checkpoint` record (or a SIEM copy of one) carries, else null. */
function fromRecord(v: unknown): unknown {
  const r = v as Partial<AuditRecord> | null;
  if (!r || r.type !== 'audit.checkpoint' || !r.details || typeof r.details.checkpoint !== 'string') return null;
  try {
    return JSON.parse(r.details.checkpoint);
  } catch {
    return null;
  }
}

export interface TrailReport {
  ok: boolean;
  records: number;
  head: string;
  /** Every problem found, in plain words (a cut tail names the missing seq range). */
  problems: string[];
  checkpointsChecked: number;
  /** Highest seq a valid checkpoint vouches for (0: none). */
  anchoredTo: number;
}

/**
 * Verifies an audit file's chain and, against it, each checkpoint: its signature (key id in the
 * keyring), its chain id, and that record `seq` exists with the signed head MAC. A checkpoint
 * beyond the file's end means the records after the file's last one were cut.
 */
export function verifyTrail(auditKey: Uint8Array, lines: string[], checkpoints: Checkpoint[], keyring: Keyring): TrailReport {
  const chainResult = verifyLines(auditKey, lines);
  const problems: string[] = [];
  if (!chainResult.ok) problems.push(`chain broken at line ${chainResult.line} (after ${chainResult.records} good records): ${chainResult.problem}`);
  const good = chainResult.records;
  const wanted = new Set(checkpoints.map((c) => c.seq).concat(1));
  const macAt = new Map<number, string>();
  for (const line of lines) {
    if (!line.trim() || macAt.size === wanted.size) continue;
    try {
      const r = JSON.parse(line) as ChainedRecord;
      if (r.seq <= good && wanted.has(r.seq)) macAt.set(r.seq, r.mac);
    } catch {
      /* reported by the chain check */
    }
  }
  let anchoredTo = 0;
  for (const cp of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
    const where = `checkpoint seq ${cp.seq} (${cp.at}, key ${cp.keyId})`;
    const sig = checkCheckpointSignature(keyring, cp);
    if (!sig.ok) {
      problems.push(`${where}: refused: ${sig.problem}`);
      continue;
    }
    const first = macAt.get(1) ?? GENESIS;
    if (good > 0 && cp.chain !== first) {
      problems.push(`${where}: belongs to another chain (its first record differs from this file's)`);
      continue;
    }
    if (cp.seq > good) {
      problems.push(
        chainResult.ok
          ? `${where}: records ${good + 1}..${cp.seq} are missing (the trail ends at seq ${good}: its tail was cut)`
          : `${where}: records after seq ${good} cannot be confirmed (the chain is broken there)`,
      );
      continue;
    }
    if (macAt.get(cp.seq) !== cp.head) {
      problems.push(`${where}: the record at seq ${cp.seq} is not the one signed (the trail was rewritten)`);
      continue;
    }
    anchoredTo = Math.max(anchoredTo, cp.seq);
  }
  return { ok: problems.length === 0, records: good, head: chainResult.ok ? chainResult.head : '', problems, checkpointsChecked: checkpoints.length, anchoredTo };
}

/** What the writer needs of the trail (FileAuditSink). */
export interface AnchoredTrail {
  readonly head: { seq: number; mac: string };
  readonly chainId: string;
  record(event: { type: 'audit.checkpoint'; details: Record<string, string | number> }): void;
}

/**
 * Writes checkpoints of the trail's head to <dir>/checkpoints.jsonl: one line each, appended and
 * fsync'd before it counts, then copied into the trail as an `audit.checkpoint` record so it
 * leaves the machine with the SIEM stream and webhooks.
 */
export class CheckpointWriter {
  readonly file: string;
  readonly #trail: AnchoredTrail;
  readonly #key: SigningKey;
  readonly #log: Logger;
  readonly #node: string | undefined;
  readonly #fd: number;
  readonly #timer: NodeJS.Timeout | null;
  /** Seq of the trail's own audit.checkpoint record last written: an idle trail gets no new one. */
  #ownRecordSeq = -1;
  #last: Checkpoint | null = null;
  #closed = false;

  constructor(opts: { dir: string; trail: AnchoredTrail; key: SigningKey; log: Logger; intervalMs: number; node?: string }) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.file = join(opts.dir, CHECKPOINT_FILE);
    this.#trail = opts.trail;
    this.#key = opts.key;
    this.#log = opts.log;
    this.#node = opts.node;
    // 'a': O_APPEND, so every write lands at the end whatever else writes there.
    this.#fd = openSync(this.file, 'a', 0o600);
    this.#timer = opts.intervalMs > 0 ? setInterval(() => this.write('interval'), opts.intervalMs) : null;
    this.#timer?.unref();
  }

  get last(): Checkpoint | null {
    return this.#last;
  }

  /** Signs and stores a checkpoint of the head now; null when there is nothing new to vouch for. */
  write(reason: Checkpoint['reason'], session?: string): Checkpoint | null {
    if (this.#closed) return null;
    const head = this.#trail.head;
    if (head.seq === 0 || head.seq === this.#ownRecordSeq || head.seq === this.#last?.seq) return this.#last;
    const cp = signCheckpoint(this.#key, {
      seq: head.seq,
      head: head.mac,
      chain: this.#trail.chainId,
      at: new Date().toISOString(),
      reason,
      ...(session ? { session } : {}),
      ...(this.#node ? { node: this.#node } : {}),
    });
    try {
      writeSync(this.#fd, `${JSON.stringify(cp)}\n`);
      fsyncSync(this.#fd);
    } catch (e) {
      // The trail goes on; an operator must see that its anchor did not.
      this.#log.error({ err: String((e as Error).message), file: this.file }, 'audit checkpoint could not be written');
      return null;
    }
    this.#last = cp;
    this.#trail.record({ type: 'audit.checkpoint', details: { seq: cp.seq, keyId: cp.keyId, reason, checkpoint: JSON.stringify(cp) } });
    this.#ownRecordSeq = this.#trail.head.seq;
    return cp;
  }

  close(): void {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    this.write('shutdown');
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/** Every checkpoint in a checkpoint file (missing file: none). */
export function readCheckpointFile(file: string): Checkpoint[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return parseCheckpoints(text).checkpoints;
}
