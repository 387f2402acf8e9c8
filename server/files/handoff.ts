/**
 * Document handoff for one session: files cross the session only between the customer's own
 * device and the page, never through staff.
 *
 * - Upload: the page opens a file chooser (intercepted, Page.fileChooserOpened). When the policy
 *   allows uploads the customer alone is sent a `file/chooser` message with a single-chooser
 *   ticket; the customer's browser POSTs the file (routes.ts). It is streamed to a per-session
 *   temporary directory with a hard size limit, hashed (SHA-256), scanned (scanner.ts), and only
 *   then set on the page's input (DOM.setFileInputFiles). Staff are told that a file was attached,
 *   with its type and size; never its name or bytes. Its SHA-256 goes into the audit.
 * - Download: when the policy allows downloads, the page's downloads land in the same directory
 *   (Browser.setDownloadBehavior allowAndName), are checked against the policy, hashed, scanned,
 *   and offered to the customer alone behind a one-time link. Staff are told only that one happened.
 * - The directory is readable (uploads) and writable (downloads) by the browser's user, which may
 *   be another uid (server/browser/sandbox.ts); it is removed with everything in it when the session ends.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AuditEvent } from '../audit/audit.ts';
import type { SessionClaims } from '../auth/session-tokens.ts';
import { isVitrineError, VitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { FileChooserMessage, FileDownloadMessage, NoticeCode } from '../protocol.ts';
import type { FilesPolicy } from '../policy/schema.ts';
import type { FileScanner } from './scanner.ts';

/** The policy's limit when it sets none. */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** A chooser, or a download link, works this long at most. */
export const TICKET_TTL_MS = 10 * 60_000;

/** What the handoff needs of the session's page (session-page.ts implements it). */
export interface HandoffPage {
  setInputFiles(backendNodeId: number, paths: string[]): Promise<void>;
  cancelDownload(guid: string): Promise<void>;
}

/** What every session's handoff on one server shares (FileHandoffs). */
export interface HandoffBase {
  scanner: FileScanner;
  /** The browsers' own user when it is another than the server's (sandbox mode "user"). */
  browserUser: { uid: number; gid: number } | null;
  /** Where per-session directories are made (default: the OS temporary directory). */
  root?: string;
  log: Logger;
}

/** What one session's handoff is told by the session that opens it. */
export interface HandoffSessionDeps {
  sessionId: string;
  policy: FilesPolicy | undefined;
  audit(type: AuditEvent['type'], details: NonNullable<AuditEvent['details']>, actor?: { sub: string; role: string }): void;
  /** Sends to the customer's socket only. */
  toCustomer(m: FileChooserMessage | FileDownloadMessage | { type: 'notice'; code: NoticeCode; message: string }): void;
  /** A notice to staff only (dropped while the customer pauses sharing). */
  toStaff(code: NoticeCode, message: string): void;
  /** Verifies a session participant token (to refuse staff with a code). */
  verifyToken(token: string): Promise<SessionClaims>;
}

type HandoffDeps = HandoffBase & HandoffSessionDeps & { onClosed(): void };

/**
 * Every session's handoff on this server, by session id: one per server, made by compose(), so
 * that the file routes find a session's chooser and downloads here and nowhere else (two servers
 * in one process, as in tests, never see each other's). The registry opens one per session.
 */
export class FileHandoffs {
  readonly #base: HandoffBase;
  readonly #open = new Map<string, FileHandoff>();

  constructor(base: HandoffBase) {
    this.#base = base;
  }

  open(deps: HandoffSessionDeps): FileHandoff {
    const h: FileHandoff = new FileHandoff({
      ...this.#base,
      ...deps,
      onClosed: () => {
        if (this.#open.get(deps.sessionId) === h) this.#open.delete(deps.sessionId);
      },
    });
    this.#open.set(deps.sessionId, h);
    return h;
  }

  get(sessionId: string): FileHandoff | undefined {
    return this.#open.get(sessionId);
  }
}

interface Chooser {
  id: string;
  ticket: string;
  backendNodeId: number;
  at: number;
  busy: boolean;
}

interface Download {
  guid: string;
  name: string;
  state: 'pending' | 'refused' | 'offered' | 'taken';
  id?: string;
  ticket?: string;
  path?: string;
  size?: number;
  mime?: string;
  at: number;
}

const MIME_BY_EXT: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.xml': 'application/xml',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

// eslint-disable-next-line no-control-regex -- control characters are what a safe name leaves out
const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f/]/g;

/** A file name the customer's browser sent, made safe for one path component (or a fallback). */
export function safeName(raw: string | undefined): string {
  let name: string;
  try {
    name = decodeURIComponent(raw ?? '');
  } catch {
    name = '';
  }
  name = basename(name.replace(/\\/g, '/')).replace(UNSAFE_IN_NAME, '').trim().slice(0, 200);
  return name && name !== '.' && name !== '..' ? name : 'file';
}

/** Whether a file of this type and name passes the policy's `types` (MIME, MIME/*, or .ext). */
export function typeAllowed(types: string[] | undefined, mime: string, name: string): boolean {
  if (!types?.length) return true;
  const m = mime.toLowerCase().split(';')[0]!.trim();
  const ext = extname(name).toLowerCase();
  return types.some((t) => {
    const r = t.toLowerCase();
    if (r.startsWith('.')) return r === ext;
    if (r.endsWith('/*')) return m.startsWith(r.slice(0, -1));
    return r === m;
  });
}

const sizeWords = (n: number) => (n < 1024 ? `${n} bytes` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);
const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};
const token = () => randomBytes(24).toString('base64url');

export class FileHandoff {
  readonly #d: HandoffDeps;
  #dir: string | null = null;
  #page: HandoffPage | null = null;
  #chooser: Chooser | null = null;
  readonly #downloads = new Map<string, Download>();
  #closed = false;

  constructor(deps: HandoffDeps) {
    this.#d = deps;
  }

  get uploadsAllowed(): boolean {
    return this.#d.policy?.upload?.allow === true;
  }
  get downloadsAllowed(): boolean {
    return this.#d.policy?.download?.allow === true;
  }
  /** The session's temporary directory, once made (tests look at it after the session ended). */
  get directory(): string | null {
    return this.#dir;
  }

  attach(page: HandoffPage): void {
    this.#page = page;
  }

  /** The session's own directory (0700, the server's), made on first use. */
  async #sessionDir(): Promise<string> {
    if (this.#closed) throw new VitrineError('NO_SUCH_SESSION', 'the session has ended');
    if (!this.#dir) {
      this.#dir = await mkdtemp(join(this.#d.root ?? tmpdir(), 'vitrine-files-'));
      // The browser's user must traverse it to reach its subdirectories (never list it).
      await chmod(this.#dir, this.#d.browserUser ? 0o711 : 0o700);
    }
    return this.#dir;
  }

  /** Hands a path to the browser's user: its owner when the server can (root), else readable/writable by others. */
  async #share(path: string, kind: 'file' | 'dir-read' | 'dir-write'): Promise<void> {
    const u = this.#d.browserUser;
    if (!u) return;
    if (process.getuid?.() === 0) {
      await chown(path, u.uid, u.gid);
      await chmod(path, kind === 'file' ? 0o400 : 0o700);
    } else {
      await chmod(path, kind === 'file' ? 0o644 : kind === 'dir-read' ? 0o711 : 0o1733);
    }
  }

  /** The directory downloads land in (made and shared with the browser's user), or null when not allowed. */
  async downloadDir(): Promise<string | null> {
    if (!this.downloadsAllowed) return null;
    const dir = join(await this.#sessionDir(), 'down');
    await mkdir(dir, { mode: 0o700 });
    await this.#share(dir, 'dir-write');
    return dir;
  }

  // ---- upload ------------------------------------------------------------------------------

  /** The page opened a file chooser; false when the policy does not allow uploads (the page says so). */
  chooserOpened(e: { backendNodeId?: number }): boolean {
    if (!this.uploadsAllowed || this.#closed || e.backendNodeId === undefined) return false;
    const up = this.#d.policy!.upload!;
    this.#chooser = { id: token().slice(0, 12), ticket: token(), backendNodeId: e.backendNodeId, at: Date.now(), busy: false };
    this.#d.toCustomer({
      type: 'file/chooser',
      id: this.#chooser.id,
      ticket: this.#chooser.ticket,
      upload: `/api/sessions/${this.#d.sessionId}/files/${this.#chooser.id}`,
      accept: up.types ?? [],
      maxBytes: up.maxBytes ?? DEFAULT_MAX_BYTES,
    });
    this.#d.toStaff('FILE_REQUESTED', 'The page asked for a file; the customer was asked to choose one on their device.');
    return true;
  }

  /**
   * One file from the customer's browser for chooser `chooserId`, authorized by its ticket.
   * Refusals are coded (VitrineError); the page's input gets nothing unless every check passed.
   */
  async upload(req: IncomingMessage, chooserId: string, bearer: string | undefined): Promise<{ sha256: string; size: number; type: string }> {
    const c = this.#chooser;
    const ticketOk = !!bearer && !!c && sameSecret(bearer, c.ticket);
    if (!ticketOk) {
      // A session participant token that is not the customer's is refused as such, and audited.
      if (bearer) {
        const claims = await this.#d.verifyToken(bearer).catch(() => null);
        if (claims && claims.role !== 'customer') {
          this.#d.audit('file.refused', { reason: 'NOT_CUSTOMER' }, { sub: claims.sub, role: claims.role });
          throw new VitrineError('NOT_CUSTOMER', 'only the customer may give the page a file, from their own device');
        }
      }
      if (!this.uploadsAllowed) throw new VitrineError('UPLOAD_NOT_ALLOWED');
      throw new VitrineError(bearer ? 'BAD_TOKEN' : 'UNAUTHENTICATED', bearer ? 'this upload ticket is not valid for this chooser' : undefined);
    }
    if (!this.uploadsAllowed) throw new VitrineError('UPLOAD_NOT_ALLOWED');
    if (c.id !== chooserId || c.busy || Date.now() - c.at > TICKET_TTL_MS) throw new VitrineError('NO_SUCH_CHOOSER');
    const up = this.#d.policy!.upload!;
    const max = up.maxBytes ?? DEFAULT_MAX_BYTES;
    const name = safeName(req.headers['x-file-name'] as string | undefined);
    const type =
      String(req.headers['content-type'] ?? 'application/octet-stream')
        .split(';')[0]!
        .trim()
        .toLowerCase()
        .slice(0, 100) || 'application/octet-stream';
    const customer = { sub: `customer:${this.#d.sessionId}`, role: 'customer' };
    const refuse = (
      code: 'FILE_TYPE_REFUSED' | 'FILE_TOO_LARGE' | 'FILE_INFECTED' | 'SCANNER_UNAVAILABLE',
      details: Record<string, string | number>,
      customerWords: string,
      staffWords: string,
    ): never => {
      this.#d.audit('file.refused', { reason: code, type, ...details }, customer);
      this.#d.toCustomer({ type: 'notice', code: 'FILE_REFUSED', message: customerWords });
      this.#d.toStaff('FILE_REFUSED', staffWords);
      throw new VitrineError(code);
    };
    if (!typeAllowed(up.types, type, name))
      refuse('FILE_TYPE_REFUSED', {}, 'This type of file cannot be given to the page in this session.', 'A file the customer chose was refused: its type is not allowed.');
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > max)
      refuse('FILE_TOO_LARGE', { size: declared }, `The file is too large (at most ${sizeWords(max)}).`, 'A file the customer chose was refused: it is too large.');
    c.busy = true;
    const folder = join(await this.#sessionDir(), 'up', token().slice(0, 16));
    try {
      await mkdir(folder, { recursive: true, mode: 0o700 });
      await this.#share(join(folder, '..'), 'dir-read');
      const path = join(folder, name);
      const hash = createHash('sha256');
      let size = 0;
      let tooLarge = false;
      await pipeline(
        req,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const piece of source) {
            size += piece.length;
            if (size > max) {
              tooLarge = true;
              throw new Error('too large');
            }
            hash.update(piece);
            yield piece;
          }
        },
        createWriteStream(path, { mode: 0o600, flags: 'wx' }),
      ).catch(async (e) => {
        await rm(folder, { recursive: true, force: true });
        if (tooLarge) refuse('FILE_TOO_LARGE', { size }, `The file is too large (at most ${sizeWords(max)}).`, 'A file the customer chose was refused: it is too large.');
        throw new VitrineError('BAD_REQUEST', `the upload did not complete (${(e as Error).message})`);
      });
      const sha256 = hash.digest('hex');
      const verdict = await this.#d.scanner.scan(path);
      if (!verdict.clean) {
        await rm(folder, { recursive: true, force: true });
        if (verdict.infected)
          refuse(
            'FILE_INFECTED',
            { sha256, size, signature: verdict.signature },
            'The file was refused: the malware scan found something harmful in it.',
            'A file the customer chose was refused: it failed the malware scan.',
          );
        const error = 'error' in verdict ? verdict.error : 'unknown';
        this.#d.log.warn({ session: this.#d.sessionId, scanner: this.#d.scanner.name, err: error }, 'upload not scanned: refused');
        refuse(
          'SCANNER_UNAVAILABLE',
          { sha256, size, error },
          'The file could not be checked for malware, so it was not given to the page. Try again later.',
          'A file the customer chose could not be scanned; it was not passed on.',
        );
      }
      if (this.#closed || this.#chooser !== c || !this.#page) throw new VitrineError('NO_SUCH_CHOOSER');
      await this.#share(folder, 'dir-read');
      await this.#share(path, 'file');
      await this.#page.setInputFiles(c.backendNodeId, [path]);
      this.#chooser = null;
      this.#d.audit('file.attached', { sha256, size, type }, customer);
      this.#d.toCustomer({ type: 'file/chooser', id: c.id, ticket: '', upload: '', accept: [], maxBytes: 0, closed: true });
      this.#d.toCustomer({ type: 'notice', code: 'FILE_ATTACHED', message: `Your file ${name} was checked and given to the page.` });
      this.#d.toStaff('FILE_ATTACHED', `The customer attached a file (${type}, ${sizeWords(size)}).`);
      return { sha256, size, type };
    } catch (e) {
      if (!isVitrineError(e)) await rm(folder, { recursive: true, force: true });
      throw e;
    } finally {
      c.busy = false;
    }
  }

  // ---- download ----------------------------------------------------------------------------

  downloadWillBegin(e: { guid: string; suggestedFilename?: string }): void {
    if (this.#closed) return;
    const name = safeName(encodeURIComponent(e.suggestedFilename ?? 'download'));
    const d: Download = { guid: e.guid, name, state: 'pending', at: Date.now() };
    this.#downloads.set(e.guid, d);
    const down = this.#d.policy?.download;
    if (!typeAllowed(down?.types, MIME_BY_EXT[extname(name).toLowerCase()] ?? 'application/octet-stream', name))
      void this.#refuseDownload(d, 'FILE_TYPE_REFUSED', 'The page started a download of a type this session does not allow; it was refused.');
  }

  downloadProgress(e: { guid: string; state: 'inProgress' | 'completed' | 'canceled'; receivedBytes: number }): void {
    const d = this.#downloads.get(e.guid);
    if (!d || d.state !== 'pending' || this.#closed) return;
    const max = this.#d.policy?.download?.maxBytes ?? DEFAULT_MAX_BYTES;
    if (e.receivedBytes > max) return void this.#refuseDownload(d, 'FILE_TOO_LARGE', `The page started a download larger than this session allows (${sizeWords(max)}); it was refused.`);
    if (e.state === 'canceled') return void this.#forget(d);
    if (e.state === 'completed') void this.#offer(d).catch((err) => this.#d.log.warn({ session: this.#d.sessionId, err: String(err) }, 'download could not be offered'));
  }

  async #forget(d: Download): Promise<void> {
    if (this.#dir) await rm(join(this.#dir, 'down', d.guid), { force: true }).catch(() => undefined);
  }

  async #refuseDownload(d: Download, reason: string, customerWords: string, details: Record<string, string | number> = {}): Promise<void> {
    if (d.state === 'refused') return;
    d.state = 'refused';
    await this.#page?.cancelDownload(d.guid).catch(() => undefined);
    await this.#forget(d);
    this.#d.audit('download.refused', { reason, ...details });
    this.#d.toCustomer({ type: 'notice', code: 'DOWNLOAD_REFUSED', message: customerWords });
    this.#d.toStaff('DOWNLOAD_REFUSED', 'The page started a download; it was refused.');
  }

  async #offer(d: Download): Promise<void> {
    const dir = this.#dir;
    if (!dir) return;
    const landed = join(dir, 'down', d.guid);
    const max = this.#d.policy?.download?.maxBytes ?? DEFAULT_MAX_BYTES;
    const size = (await stat(landed)).size;
    if (size > max) return this.#refuseDownload(d, 'FILE_TOO_LARGE', `The page started a download larger than this session allows (${sizeWords(max)}); it was refused.`);
    // Out of the browser's reach first: what is scanned is what is delivered.
    const out = join(dir, 'out');
    await mkdir(out, { recursive: true, mode: 0o700 });
    const path = join(out, d.guid);
    await rename(landed, path);
    await chown(path, process.getuid?.() ?? 0, process.getgid?.() ?? 0).catch(() => undefined);
    await chmod(path, 0o600);
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    const sha256 = hash.digest('hex');
    const verdict = await this.#d.scanner.scan(path);
    if (!verdict.clean) {
      await rm(path, { force: true });
      d.state = 'pending';
      return this.#refuseDownload(
        d,
        verdict.infected ? 'FILE_INFECTED' : 'SCANNER_UNAVAILABLE',
        verdict.infected
          ? 'The page started a download; the malware scan found something harmful in it, so it was refused.'
          : 'The page started a download that could not be checked for malware; it was refused.',
        { sha256, size, ...(verdict.infected ? { signature: verdict.signature } : { error: verdict.error }) },
      );
    }
    if (this.#closed) return;
    const mime = MIME_BY_EXT[extname(d.name).toLowerCase()] ?? 'application/octet-stream';
    Object.assign(d, { state: 'offered', id: token().slice(0, 12), ticket: token(), path, size, mime, at: Date.now() });
    this.#d.audit('download.offered', { sha256, size, type: mime });
    this.#d.toCustomer({ type: 'file/download', id: d.id!, url: `/api/sessions/${this.#d.sessionId}/downloads/${d.id}?t=${d.ticket}`, name: d.name, size, mime });
    this.#d.toStaff('DOWNLOAD_OFFERED', 'The page started a download; it was offered to the customer only.');
  }

  /** Streams an offered download to whoever holds its one-time link, then deletes it. */
  async take(id: string, ticket: string | undefined, res: ServerResponse): Promise<void> {
    const d = [...this.#downloads.values()].find((x) => x.id === id && x.state === 'offered');
    if (!d || !ticket || !sameSecret(ticket, d.ticket!) || Date.now() - d.at > TICKET_TTL_MS) throw new VitrineError('NO_SUCH_DOWNLOAD');
    d.state = 'taken';
    res.writeHead(200, {
      'content-type': d.mime!,
      'content-length': String(d.size),
      'content-disposition': `attachment; filename="${d.name.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(d.name)}`,
      'x-content-type-options': 'nosniff',
    });
    try {
      await pipeline(createReadStream(d.path!), res);
      this.#d.audit('download.delivered', { size: d.size! });
    } finally {
      await rm(d.path!, { force: true });
    }
  }

  /** Session end: every chooser, link and file of the session is gone. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#chooser = null;
    this.#downloads.clear();
    this.#d.onClosed();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}
