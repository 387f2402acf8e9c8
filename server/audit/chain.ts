/**
 * The audit trail's hash chain: every record carries the HMAC of the previous record, keyed
 * with a secret from config, so someone who can write the file cannot re-forge the chain after
 * editing, removing, inserting or reordering a record. Pure functions; no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditRecord } from './audit.ts';

export const GENESIS = '0'.repeat(64);

export interface ChainedRecord extends AuditRecord {
  seq: number;
  prev: string;
  mac: string;
}

/** Stable JSON: keys sorted at every level, so the MAC does not depend on key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function macOf(key: Uint8Array, record: Omit<ChainedRecord, 'mac'>): string {
  return createHmac('sha256', key).update(canonical(record)).digest('hex');
}

export function chain(key: Uint8Array, record: AuditRecord, seq: number, prev: string): ChainedRecord {
  const unsigned = { ...record, seq, prev };
  return { ...unsigned, mac: macOf(key, unsigned) };
}

export type VerifyResult = { ok: true; records: number; head: string } | { ok: false; records: number; line: number; problem: string };

/** Checks a whole audit file's lines; reports the first broken, removed or reordered record. */
export function verifyLines(key: Uint8Array, lines: string[]): VerifyResult {
  let prev = GENESIS;
  let expectSeq = 1;
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (!text.trim()) continue;
    let rec: ChainedRecord;
    try {
      rec = JSON.parse(text) as ChainedRecord;
    } catch {
      return { ok: false, records: count, line: i + 1, problem: 'not valid JSON' };
    }
    const { mac, ...unsigned } = rec;
    const expected = macOf(key, unsigned);
    if (typeof mac !== 'string' || mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) {
      return { ok: false, records: count, line: i + 1, problem: `record seq ${rec.seq} was altered or forged (MAC mismatch)` };
    }
    if (rec.seq !== expectSeq) {
      return { ok: false, records: count, line: i + 1, problem: rec.seq > expectSeq ? `records ${expectSeq}..${rec.seq - 1} are missing` : `record seq ${rec.seq} is out of order or repeated` };
    }
    if (rec.prev !== prev) return { ok: false, records: count, line: i + 1, problem: `record seq ${rec.seq} does not follow the previous record (removed or reordered)` };
    prev = mac;
    expectSeq++;
    count++;
  }
  return { ok: true, records: count, head: prev };
}
