/**
 * The recording file format and its writer and reader.
 *
 *   "VREC" | u8 version (1) | u32 N | N bytes header JSON (clear, authenticated by every chunk)
 *   then chunks: u32 length L | L bytes sealed(entries), AAD = sha256(header) || u32 index
 *
 * A chunk's plaintext is a run of entries: u8 kind (1 frame, 2 event, 3 end) | f64 t (ms since
 * the recording started) | u32 length | bytes. Frames are stored exactly as participants got
 * them (already masked, with their header). Chunks are sealed every few seconds, so a crash
 * loses at most the last few seconds and a truncated file plays up to its last whole chunk.
 */
import { closeSync, fsyncSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { newDataKey, open, RecordingTamperedError, seal, unwrapKey, wrapKey, type MasterKey } from './sealing.ts';

const MAGIC = Buffer.from('VREC');
const VERSION = 1;
export const ENTRY_FRAME = 1;
export const ENTRY_EVENT = 2;
const ENTRY_END = 3;
const FLUSH_MS = 2000;
const FLUSH_BYTES = 1 << 20;
const MAX_CHUNK = 64 << 20;

export interface RecordingHeader {
  id: string;
  session: string;
  keyId: string;
  wrappedKey: string;
  startedAt: string;
  expiresAt: string;
  viewport: { width: number; height: number };
  policy: { name: string; version: string };
}

export interface RecordingEntry {
  kind: 'frame' | 'event';
  t: number;
  data: Buffer;
}

function aadFor(headerHash: Buffer, index: number): Buffer {
  const i = Buffer.alloc(4);
  i.writeUInt32BE(index);
  return Buffer.concat([headerHash, i]);
}

export class RecordingWriter {
  readonly header: RecordingHeader;
  readonly #fd: number;
  readonly #key: Buffer;
  readonly #headerHash: Buffer;
  readonly #started = Date.now();
  #index = 0;
  #parts: Buffer[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  frames = 0;

  constructor(path: string, master: MasterKey, meta: Omit<RecordingHeader, 'keyId' | 'wrappedKey'>) {
    this.#key = newDataKey();
    this.header = { ...meta, keyId: master.id, wrappedKey: wrapKey(master, this.#key, meta.id) };
    const json = Buffer.from(JSON.stringify(this.header));
    this.#headerHash = createHash('sha256').update(json).digest();
    this.#fd = openSync(path, 'wx', 0o600);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(json.length);
    writeSync(this.#fd, Buffer.concat([MAGIC, Buffer.from([VERSION]), len, json]));
    fsyncSync(this.#fd);
  }

  #add(kind: number, data: Buffer): void {
    if (this.#closed) return;
    const head = Buffer.alloc(13);
    head.writeUInt8(kind, 0);
    head.writeDoubleBE(Date.now() - this.#started, 1);
    head.writeUInt32BE(data.length, 9);
    this.#parts.push(head, data);
    this.#bytes += 13 + data.length;
    if (this.#bytes >= FLUSH_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  frame(bytes: Uint8Array): void {
    this.frames++;
    this.#add(ENTRY_FRAME, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  event(event: Record<string, unknown>): void {
    this.#add(ENTRY_EVENT, Buffer.from(JSON.stringify(event)));
  }

  /** Seals what is buffered into one chunk and writes it durably. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#parts.length || this.#closed) return;
    const sealed = seal(this.#key, Buffer.concat(this.#parts), aadFor(this.#headerHash, this.#index++));
    this.#parts = [];
    this.#bytes = 0;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(sealed.length);
    writeSync(this.#fd, Buffer.concat([len, sealed]));
    fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#closed) return;
    this.#add(ENTRY_END, Buffer.alloc(0));
    this.flush();
    this.#closed = true;
    this.#key.fill(0);
    closeSync(this.#fd);
  }
}

export interface ReadResult {
  header: RecordingHeader;
  entries: RecordingEntry[];
  /** False when the file stops before its end marker (crash or truncation). */
  complete: boolean;
}

function readExactly(fd: number, length: number, position: number): Buffer | null {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) return null;
    got += n;
  }
  return buf;
}

/** Reads just the clear header (for listings); the key is not needed. */
export function readHeader(path: string): RecordingHeader {
  const fd = openSync(path, 'r');
  try {
    return parseHeader(fd).header;
  } finally {
    closeSync(fd);
  }
}

function parseHeader(fd: number): { header: RecordingHeader; json: Buffer; end: number } {
  const start = readExactly(fd, 9, 0);
  if (!start || !start.subarray(0, 4).equals(MAGIC) || start[4] !== VERSION) throw new RecordingTamperedError('not a Vitrine recording');
  const n = start.readUInt32BE(5);
  const json = readExactly(fd, n, 9);
  if (!json) throw new RecordingTamperedError('the header is truncated');
  try {
    return { header: JSON.parse(json.toString('utf8')) as RecordingHeader, json, end: 9 + n };
  } catch {
    throw new RecordingTamperedError('the header is not valid');
  }
}

/** Decrypts a whole recording; a tampered chunk throws, a cut tail is reported, not thrown. */
export function readRecording(path: string, keys: (keyId: string) => MasterKey | undefined): ReadResult {
  const fd = openSync(path, 'r');
  try {
    const { header, json, end } = parseHeader(fd);
    const master = keys(header.keyId);
    if (!master) throw new Error(`no master key with id ${header.keyId} is configured`);
    const dataKey = unwrapKey(master, header.wrappedKey, header.id);
    const headerHash = createHash('sha256').update(json).digest();
    const size = fstatSync(fd).size;
    const entries: RecordingEntry[] = [];
    let pos = end;
    let complete = false;
    for (let index = 0; pos + 4 <= size; index++) {
      const len = readExactly(fd, 4, pos)!.readUInt32BE(0);
      if (len > MAX_CHUNK) throw new RecordingTamperedError(`chunk ${index} has an impossible length`);
      const sealed = readExactly(fd, len, pos + 4);
      if (!sealed) break; // the last chunk was cut short: play what came before it
      const plain = open(dataKey, sealed, aadFor(headerHash, index), `chunk ${index}`);
      for (let off = 0; off + 13 <= plain.length;) {
        const kind = plain.readUInt8(off);
        const t = plain.readDoubleBE(off + 1);
        const n = plain.readUInt32BE(off + 9);
        const data = plain.subarray(off + 13, off + 13 + n);
        off += 13 + n;
        if (kind === ENTRY_END) complete = true;
        else entries.push({ kind: kind === ENTRY_FRAME ? 'frame' : 'event', t, data });
      }
      pos += 4 + len;
    }
    dataKey.fill(0);
    return { header, entries, complete };
  } finally {
    closeSync(fd);
  }
}
