/**
 * Where recordings live. A small interface (an S3-compatible store could implement it) and the
 * default: one file per recording in a directory, purged when its retention runs out.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHeader, readRecording, RecordingWriter, type ReadResult, type RecordingHeader } from './recording-file.ts';
import type { MasterKey } from './sealing.ts';
import { VitrineError } from '../errors.ts';

export interface RecordingSummary {
  id: string;
  session: string;
  startedAt: string;
  expiresAt: string;
  policy: { name: string; version: string };
}

export interface RecordingStore {
  start(meta: Omit<RecordingHeader, 'keyId' | 'wrappedKey'>): RecordingWriter;
  list(): RecordingSummary[];
  read(id: string): ReadResult;
  /** Removes a recording at once; false when there was none. */
  delete(id: string): boolean;
  /** Removes every recording whose retention ended before `now`; returns their ids. */
  purgeExpired(now: number): string[];
  /** Called with a recording's id once it is finished (closed): the leak scan starts there. */
  onFinished?(listener: (id: string) => void): void;
  /** The leak scan's result (leak-scan.ts), kept beside the recording; it holds no secret. */
  saveScan?(id: string, result: object): void;
  readScan?<T = unknown>(id: string): T | null;
}

const ID = /^[A-Za-z0-9_-]{8,64}$/;

export class DirectoryRecordingStore implements RecordingStore {
  readonly #dir: string;
  readonly #master: MasterKey;
  readonly #keys: Map<string, MasterKey>;
  readonly #finished: ((id: string) => void)[] = [];

  /** `older` are previous master keys, kept to read recordings made before a rotation. */
  constructor(dir: string, master: MasterKey, older: MasterKey[] = []) {
    this.#dir = dir;
    this.#master = master;
    this.#keys = new Map([master, ...older].map((k) => [k.id, k]));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  #path(id: string): string {
    // No recording is ever stored under such an id (and it must not reach the file system).
    if (!ID.test(id)) throw new VitrineError('NO_SUCH_RECORDING');
    return join(this.#dir, `${id}.vrec`);
  }

  start(meta: Omit<RecordingHeader, 'keyId' | 'wrappedKey'>): RecordingWriter {
    const writer = new RecordingWriter(this.#path(meta.id), this.#master, meta);
    const close = writer.close.bind(writer);
    let done = false;
    writer.close = () => {
      close();
      if (done) return;
      done = true;
      for (const f of this.#finished) f(meta.id);
    };
    return writer;
  }

  onFinished(listener: (id: string) => void): void {
    this.#finished.push(listener);
  }

  /** Frame indexes, rectangles and pattern names only (never matched text): stored in the clear. */
  saveScan(id: string, result: object): void {
    const path = this.#path(id).replace(/\.vrec$/, '.scan.json');
    writeFileSync(`${path}.tmp`, JSON.stringify(result), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  readScan<T = unknown>(id: string): T | null {
    try {
      return JSON.parse(readFileSync(this.#path(id).replace(/\.vrec$/, '.scan.json'), 'utf8')) as T;
    } catch {
      return null;
    }
  }

  list(): RecordingSummary[] {
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('.vrec'))
      .flatMap((f) => {
        try {
          const h = readHeader(join(this.#dir, f));
          return [{ id: h.id, session: h.session, startedAt: h.startedAt, expiresAt: h.expiresAt, policy: h.policy }];
        } catch {
          return [];
        }
      })
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  read(id: string): ReadResult {
    const path = this.#path(id);
    if (!existsSync(path)) throw new VitrineError('NO_SUCH_RECORDING');
    return readRecording(path, (keyId) => this.#keys.get(keyId));
  }

  delete(id: string): boolean {
    const path = this.#path(id);
    if (!existsSync(path)) return false;
    rmSync(path, { force: true });
    rmSync(path.replace(/\.vrec$/, '.scan.json'), { force: true });
    return true;
  }

  purgeExpired(now: number): string[] {
    const gone: string[] = [];
    for (const r of this.list()) {
      if (Date.parse(r.expiresAt) <= now && this.delete(r.id)) gone.push(r.id);
    }
    return gone;
  }
}
