/**
 * A durable outbox: what is still to be sent to one destination (one webhook endpoint, or the
 * syslog receiver), in order, surviving a restart. No database: an append-only JSON-lines
 * journal in the data directory, fsync'd in short batches.
 *
 *   {"op":"add","seq":7,"src":41,"at":"…","data":{…}}   an item to send (src: its audit seq)
 *   {"op":"done","seq":7}                               it was sent (or given up on)
 *   {"op":"base","seq":6,"src":40}                      first line after a compaction
 *
 * `src` ties every item to the audit record it came from: on start the follower asks the audit
 * trail for everything after `sourceCursor`, so a record whose outbox line was lost in a crash
 * (the batch not yet fsync'd) is taken in again. A lost "done" line means the item is sent
 * again after a restart; receivers de-duplicate by its id (at-least-once, never lost).
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { VitrineError } from '../errors.ts';

export interface OutboxEntry<T> {
  seq: number;
  /** The audit seq this item came from. */
  src: number;
  /** When it was queued. */
  at: string;
  data: T;
}

const Line = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), seq: z.number().int().positive(), src: z.number().int().nonnegative(), at: z.string(), data: z.unknown() }),
  z.object({ op: z.literal('done'), seq: z.number().int().positive() }),
  z.object({ op: z.literal('base'), seq: z.number().int().nonnegative(), src: z.number().int().nonnegative() }),
]);

/** OUTBOX_CORRUPT: an outbox journal does not read back; the server will not start over it. */
export class OutboxCorruptError extends VitrineError {
  constructor(file: string, line: number, problem: string) {
    super('OUTBOX_CORRUPT', `outbox ${file} line ${line}: ${problem}. Move the file aside to start it afresh (its undelivered items would then be lost).`);
    this.name = 'OutboxCorruptError';
  }
}

export interface OutboxOptions<T> {
  /** Validates every item read back from disk: a journal is input like any other. */
  schema: z.ZodType<T>;
  /** Beyond this many undelivered items new ones are refused (a receiver gone for good must not fill the disk). */
  maxEntries: number;
  /** A new journal starts here (the audit head): a newly configured destination gets what happens from now on. */
  startAt: number;
}

export class Outbox<T> {
  readonly file: string;
  readonly #opts: OutboxOptions<T>;
  #fd: number;
  readonly #pending = new Map<number, OutboxEntry<T>>();
  #seq = 0;
  #src = 0;
  #doneSinceCompaction = 0;
  #unsynced = false;
  #syncTimer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #listeners = new Set<() => void>();
  /** Items refused because the outbox was full, since start. */
  dropped = 0;

  constructor(file: string, opts: OutboxOptions<T>) {
    this.file = file;
    this.#opts = opts;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const existed = existsSync(file);
    this.#fd = openSync(file, 'a+', 0o600);
    if (existed) this.#load();
    else {
      this.#src = opts.startAt;
      this.#write({ op: 'base', seq: 0, src: opts.startAt });
      this.#sync();
    }
  }

  #load(): void {
    let text = readFileSync(this.file, 'utf8');
    // A crash mid-write leaves a torn last line: drop it (its item comes back from the audit trail).
    if (text.length && !text.endsWith('\n')) {
      const keep = text.lastIndexOf('\n') + 1;
      ftruncateSync(this.#fd, Buffer.byteLength(text.slice(0, keep)));
      text = text.slice(0, keep);
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]) continue;
      let parsed: z.infer<typeof Line>;
      try {
        parsed = Line.parse(JSON.parse(lines[i]!));
      } catch (e) {
        throw new OutboxCorruptError(this.file, i + 1, (e as Error).message.split('\n')[0]!);
      }
      if (parsed.op === 'base') {
        this.#seq = Math.max(this.#seq, parsed.seq);
        this.#src = Math.max(this.#src, parsed.src);
      } else if (parsed.op === 'add') {
        const data = this.#opts.schema.safeParse(parsed.data);
        if (!data.success) throw new OutboxCorruptError(this.file, i + 1, 'item does not match its schema');
        this.#pending.set(parsed.seq, { seq: parsed.seq, src: parsed.src, at: parsed.at, data: data.data });
        this.#seq = Math.max(this.#seq, parsed.seq);
        this.#src = Math.max(this.#src, parsed.src);
      } else {
        this.#pending.delete(parsed.seq);
        this.#doneSinceCompaction++;
      }
    }
    this.#maybeCompact();
  }

  /** The highest audit seq taken in; the follower resumes after it. */
  get sourceCursor(): number {
    return this.#src;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Queues an item; false when the outbox is full (the caller logs the loss). */
  append(data: T, src: number): boolean {
    if (this.#closed) return false;
    this.#src = Math.max(this.#src, src);
    if (this.#pending.size >= this.#opts.maxEntries) {
      this.dropped++;
      return false;
    }
    const entry: OutboxEntry<T> = { seq: ++this.#seq, src, at: new Date().toISOString(), data };
    this.#pending.set(entry.seq, entry);
    this.#write({ op: 'add', ...entry });
    this.#scheduleSync();
    for (const l of this.#listeners) l();
    return true;
  }

  /** Moves the source cursor past a record that produced no item (so it is not re-read). */
  skip(src: number): void {
    this.#src = Math.max(this.#src, src);
  }

  /** The oldest undelivered item. */
  peek(): OutboxEntry<T> | undefined {
    for (const e of this.#pending.values()) return e;
    return undefined;
  }

  /** Undelivered items after `seq`, oldest first, at most `max` (a stream sends ahead of its acks). */
  after(seq: number, max: number): OutboxEntry<T>[] {
    const out: OutboxEntry<T>[] = [];
    for (const e of this.#pending.values()) {
      if (e.seq <= seq) continue;
      out.push(e);
      if (out.length >= max) break;
    }
    return out;
  }

  /** Marks an item sent (or given up on): it is never offered again. */
  ack(seq: number): void {
    if (this.#closed || !this.#pending.delete(seq)) return;
    this.#write({ op: 'done', seq });
    this.#doneSinceCompaction++;
    this.#scheduleSync();
    this.#maybeCompact();
  }

  /**
   * Forces what was appended onto the disk now, instead of within the batch's 50 ms: for items
   * that no audit record would bring back after a crash (customer links, link-delivery.ts).
   */
  flush(): void {
    if (!this.#closed && this.#unsynced) this.#sync();
  }

  /** Called after every append (the sender wakes up). */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #write(line: z.infer<typeof Line>): void {
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
  }

  #scheduleSync(): void {
    this.#unsynced = true;
    // Short batches: an fsync per audit record would slow every session event.
    this.#syncTimer ??= setTimeout(() => this.#sync(), 50).unref();
  }

  #sync(): void {
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = null;
    this.#unsynced = false;
    if (!this.#closed) fsyncSync(this.#fd);
  }

  /**
   * Rewrites the journal with only what is pending once delivered lines dominate it, so that it
   * stays small. Atomic: a new file is written and fsync'd, then renamed over the old one.
   */
  #maybeCompact(): void {
    if (this.#doneSinceCompaction < 1000 || this.#doneSinceCompaction < this.#pending.size) return;
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    const first = this.peek();
    let text = `${JSON.stringify({ op: 'base', seq: first ? first.seq - 1 : this.#seq, src: this.#src })}\n`;
    for (const e of this.#pending.values()) text += `${JSON.stringify({ op: 'add', ...e })}\n`;
    // Items after the first pending one keep their seq; the base keeps the counter going.
    if (first) text += `${JSON.stringify({ op: 'base', seq: this.#seq, src: this.#src })}\n`;
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    const dir = openSync(dirname(this.file), 'r');
    fsyncSync(dir);
    closeSync(dir);
    closeSync(this.#fd);
    this.#fd = openSync(this.file, 'a+', 0o600);
    this.#doneSinceCompaction = 0;
  }

  /** Bytes on disk (for tests and the status view). */
  bytes(): number {
    return fstatSync(this.#fd).size;
  }

  close(): void {
    if (this.#closed) return;
    if (this.#unsynced) this.#sync();
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#closed = true;
    this.#listeners.clear();
    closeSync(this.#fd);
  }
}
