/**
 * Signed evidence packs: one file per session that a compliance officer can hand to a regulator.
 * It holds the session's audit records with their chain positions, a summary derived from them
 * (consent text and answer, policy, control grants and revokes, navigations with proposer and
 * approver, recording id and key id), the checkpoint that covers the records, and an Ed25519
 * signature. The file is the canonical JSON of the pack, so any changed byte (even whitespace)
 * breaks it. Records never hold tokens, typed text or frame bytes (audit.ts), so neither does
 * the pack; verification scans for credential-like strings anyway. Pure; no I/O.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AuditActor } from './audit.ts';
import { canonical, macOf, type ChainedRecord } from './chain.ts';
import { checkCheckpointSignature, CheckpointSchema, type Checkpoint } from './checkpoints.ts';
import { signBody, verifyBody, type Keyring, type SigningKey } from './signing.ts';

export const EVIDENCE_FORMAT = 'vitrine.evidence/1';

type Details = ChainedRecord['details'];
const str = (d: Details, k: string): string | null => (typeof d?.[k] === 'string' ? (d[k] as string) : null);

/** What the records say, in the shape an auditor reads; always re-derived when verifying. */
export function summarize(records: ChainedRecord[]) {
  const consentRec = records.find((r) => r.type === 'consent.given' || r.type === 'consent.declined');
  const d = consentRec?.details;
  const consent = consentRec
    ? {
        answer: consentRec.type === 'consent.given' ? ('given' as const) : ('declined' as const),
        at: consentRec.at,
        seq: consentRec.seq,
        by: consentRec.actor ?? null,
        // Exactly as the customer's view reported it (session.ts consentShown); null from older clients.
        shown: str(d, 'consentText') !== null ? { lang: str(d, 'lang'), text: str(d, 'consentText'), sha256: str(d, 'consentTextSha256') } : null,
        offered: { company: str(d, 'company'), agents: str(d, 'agents'), masked: str(d, 'masked'), recorded: typeof d?.recorded === 'boolean' ? d.recorded : null },
      }
    : null;
  const control = records
    .filter((r) => r.type === 'control.requested' || r.type === 'control.granted' || r.type === 'control.revoked')
    .map((r) => ({ action: r.type.slice('control.'.length), at: r.at, seq: r.seq, by: r.actor ?? null, to: str(r.details, 'to') }));
  const navigation: {
    proposal: string | null;
    host: string | null;
    proposed: { at: string; seq: number; by: AuditActor | null } | null;
    answer: string | null;
    answered: { at: string; seq: number; by: AuditActor | null; proposedBy: string | null } | null;
  }[] = [];
  for (const r of records) {
    if (r.type === 'navigation.proposed')
      navigation.push({ proposal: str(r.details, 'proposal'), host: str(r.details, 'host'), proposed: { at: r.at, seq: r.seq, by: r.actor ?? null }, answer: null, answered: null });
    if (r.type === 'navigation.approved' || r.type === 'navigation.declined') {
      const id = str(r.details, 'proposal');
      const entry = navigation.find((n) => n.answer === null && n.proposal !== null && n.proposal === id);
      const answered = { at: r.at, seq: r.seq, by: r.actor ?? null, proposedBy: str(r.details, 'proposedBy') };
      const answer = r.type === 'navigation.approved' ? 'approved' : 'declined';
      if (entry) Object.assign(entry, { answer, answered });
      else navigation.push({ proposal: id, host: str(r.details, 'host'), proposed: null, answer, answered });
    }
  }
  const started = records.find((r) => r.type === 'recording.started');
  const stopped = records.find((r) => r.type === 'recording.stopped');
  const created = records.find((r) => r.type === 'session.created');
  const ended = records.find((r) => r.type === 'session.ended');
  const withPolicy = records.find((r) => r.policy);
  return {
    policy: withPolicy?.policy ?? null,
    consent,
    control,
    navigation,
    recording: started ? { id: str(started.details, 'recording'), keyId: str(started.details, 'keyId'), frames: typeof stopped?.details?.frames === 'number' ? stopped.details.frames : null } : null,
    created: created ? { at: created.at, by: created.actor ?? null } : null,
    ended: ended ? { at: ended.at, reason: str(ended.details, 'reason') } : null,
  };
}

export interface EvidenceInput {
  session: string;
  /** The session's records, oldest first, from a trail verified up to `checkpoint`. */
  records: ChainedRecord[];
  checkpoint: Checkpoint;
  /** Full SHA-256 of the policy as loaded now, when its version still matches; else null. */
  policySha256: string | null;
  generatedBy: AuditActor | { tool: string };
  key: SigningKey;
  now?: Date;
}

/** Builds and signs a pack; returns the file's exact text. */
export function buildEvidence(input: EvidenceInput): string {
  const summary = summarize(input.records);
  const body = {
    format: EVIDENCE_FORMAT,
    session: input.session,
    generatedAt: (input.now ?? new Date()).toISOString(),
    generatedBy: input.generatedBy,
    ...summary,
    policy: summary.policy ? { ...summary.policy, sha256: input.policySha256 } : null,
    records: input.records,
    checkpoint: input.checkpoint,
    keyId: input.key.id,
  };
  return `${canonical({ ...body, sig: signBody(input.key, body) })}\n`;
}

// JWTs, webhook secrets and bearer values (events.ts scrubs the same on the way out).
const CREDENTIAL = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|whsec_[A-Za-z0-9+/=]{8,}|bearer\s+[A-Za-z0-9._~+/-]{8,}/i;

export interface EvidenceReport {
  ok: boolean;
  problems: string[];
  /** What could not be checked with what was given (e.g. MACs without the audit key). */
  notes: string[];
  session?: string;
  records?: number;
}

/**
 * Checks a pack offline: its exact bytes, signature (keyring), every record's place (this
 * session, increasing seq, prev link where two are consecutive, MAC when the audit key is
 * given), the checkpoint's signature and that it covers the last record, and the summary.
 */
export function verifyEvidence(text: string, keyring: Keyring, auditKey?: Uint8Array): EvidenceReport {
  const problems: string[] = [];
  const notes: string[] = [];
  let pack: Record<string, unknown>;
  try {
    pack = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { ok: false, problems: ['the file is not valid JSON (altered or truncated)'], notes };
  }
  if (!pack || typeof pack !== 'object' || pack.format !== EVIDENCE_FORMAT) return { ok: false, problems: [`not an evidence pack (format ${EVIDENCE_FORMAT})`], notes };
  if (text.replace(/\n$/, '') !== canonical(pack)) problems.push('the file is not byte for byte the signed form (it was edited)');
  const { sig, ...body } = pack;
  const s = verifyBody(keyring, pack.keyId, body, sig);
  if (!s.ok) problems.push(`pack signature: ${s.problem}`);
  const session = String(pack.session);
  const records = Array.isArray(pack.records) ? (pack.records as ChainedRecord[]) : [];
  if (!records.length) problems.push('the pack holds no audit records');
  let prev: ChainedRecord | null = null;
  for (const r of records) {
    if (r.session !== session) problems.push(`record seq ${r.seq} is not of session ${session}`);
    if (prev && !(r.seq > prev.seq)) problems.push(`record seq ${r.seq} is out of order after seq ${prev.seq}`);
    if (prev && r.seq === prev.seq + 1 && r.prev !== prev.mac) problems.push(`record seq ${r.seq} does not follow record seq ${prev.seq}`);
    if (auditKey) {
      const { mac, ...unsigned } = r;
      const expected = macOf(auditKey, unsigned);
      if (typeof mac !== 'string' || mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected)))
        problems.push(`record seq ${r.seq}: MAC mismatch (altered or forged)`);
    }
    prev = r;
  }
  if (!auditKey) notes.push('record MACs not checked: no audit key given (VITRINE_AUDIT_KEY); signature, order and links were');
  const cp = CheckpointSchema.safeParse(pack.checkpoint);
  if (!cp.success) problems.push('the pack has no valid covering checkpoint');
  else {
    const c = checkCheckpointSignature(keyring, cp.data);
    if (!c.ok) problems.push(`checkpoint: ${c.problem}`);
    const last = records.at(-1);
    if (last && cp.data.seq < last.seq) problems.push(`checkpoint seq ${cp.data.seq} does not cover record seq ${last.seq}`);
    const at = records.find((r) => r.seq === cp.data.seq);
    if (at && at.mac !== cp.data.head) problems.push(`record seq ${at.seq} is not the one the checkpoint signed`);
  }
  const derived = summarize(records);
  for (const k of Object.keys(derived) as (keyof typeof derived)[]) {
    const stored = k === 'policy' && pack.policy ? { name: (pack.policy as Record<string, unknown>).name, version: (pack.policy as Record<string, unknown>).version } : pack[k];
    if (canonical(stored ?? null) !== canonical(derived[k] ?? null)) problems.push(`the ${k} summary does not match the records`);
  }
  const policy = pack.policy as { version?: string; sha256?: string | null } | null;
  if (policy?.sha256 && !policy.sha256.startsWith(String(policy.version))) problems.push('the policy hash does not match its version');
  if (CREDENTIAL.test(text)) problems.push('the pack contains something that looks like a credential');
  return { ok: problems.length === 0, problems, notes, session, records: records.length };
}
