/**
 * The audit trail on disk: append-only JSON lines, hash-chained (see chain.ts), fsync'd in
 * small batches. On start it verifies the existing file and continues its chain, so the chain
 * survives restarts; a file that fails verification is never appended to (fail closed: the
 * server refuses to start and says which record is broken).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.ts';
import { LogAuditSink, type AuditEvent, type AuditRecord, type AuditSink } from './audit.ts';
import { chain, GENESIS, verifyLines, type ChainedRecord } from './chain.ts';
import { VitrineError } from '../errors.ts';

/** AUDIT_CHAIN_BROKEN at start-up: the trail this server would continue fails verification. */
export class AuditChainError extends VitrineError {
  constructor(file: string, line: number, problem: string) {
    super('AUDIT_CHAIN_BROKEN', `audit file ${file} fails verification at line ${line}: ${problem}. Move it aside (keep it as evidence) to start a new chain.`);
    this.name = 'AuditChainError';
  }
}

export class FileAuditSink implements AuditSink {
  readonly #file: string;
  readonly #key: Uint8Array;
  readonly #fd: number;
  readonly #log: LogAuditSink;
  #seq: number;
  #head: string;
  /** MAC of record 1 (GENESIS while empty): the chain id checkpoints carry. */
  #first = GENESIS;
  #unsynced = 0;
  #syncTimer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #listeners = new Set<(record: ChainedRecord) => void>();

  constructor(file: string, key: Uint8Array, log: Logger) {
    this.#file = file;
    this.#key = key;
    this.#log = new LogAuditSink(log);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let seq = 0;
    let head = GENESIS;
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      const result = verifyLines(key, lines);
      if (!result.ok) throw new AuditChainError(file, result.line, result.problem);
      seq = result.records;
      head = result.head;
      const firstLine = lines.find((l) => l.trim());
      if (firstLine) this.#first = (JSON.parse(firstLine) as ChainedRecord).mac;
    }
    this.#seq = seq;
    this.#head = head;
    this.#fd = openSync(file, 'a', 0o600);
  }

  get head(): { seq: number; mac: string } {
    return { seq: this.#seq, mac: this.#head };
  }

  get chainId(): string {
    return this.#first;
  }

  get file(): string {
    return this.#file;
  }

  record(event: AuditEvent): void {
    if (this.#closed) return;
    const rec: AuditRecord = { at: new Date().toISOString(), ...event };
    const chained = chain(this.#key, rec, this.#seq + 1, this.#head);
    writeSync(this.#fd, `${JSON.stringify(chained)}\n`);
    this.#seq = chained.seq;
    this.#head = chained.mac;
    if (chained.seq === 1) this.#first = chained.mac;
    this.#log.record(event);
    // Integrations (server/integrations/) follow the trail as it is written; one that throws
    // must never stop the audit itself.
    for (const l of this.#listeners) {
      try {
        l(chained);
      } catch {
        /* the listener reports its own failures */
      }
    }
    // Batch fsyncs: at most 100 ms or 50 records of audit may be lost in a power cut.
    if (++this.#unsynced >= 50) this.#sync();
    else this.#syncTimer ??= setTimeout(() => this.#sync(), 100).unref();
  }

  #sync(): void {
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = null;
    this.#unsynced = 0;
    if (!this.#closed) fsyncSync(this.#fd);
  }

  /** Calls `listener` with every record appended from now on, after it is written. */
  subscribe(listener: (record: ChainedRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Records with seq above `seq`, oldest first: how a follower catches up after a restart (the
   * file is the durable truth; what a follower had not yet taken in is still here).
   */
  since(seq: number): ChainedRecord[] {
    if (seq >= this.#seq) return [];
    const out: ChainedRecord[] = [];
    for (const line of readFileSync(this.#file, 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as ChainedRecord;
      if (r.seq > seq) out.push(r);
    }
    return out;
  }

  /** Records of one session from the whole file (for auditors). */
  forSession(sessionId: string): ChainedRecord[] {
    return readFileSync(this.#file, 'utf8')
      .split('\n')
      .filter((l) => l.includes(sessionId))
      .map((l) => JSON.parse(l) as ChainedRecord)
      .filter((r) => r.session === sessionId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#sync();
    this.#closed = true;
    closeSync(this.#fd);
  }
}
