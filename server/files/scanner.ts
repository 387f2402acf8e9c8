/**
 * The malware scanner port every file crossing a session goes through (uploads from the
 * customer, downloads the page starts), and its ClamAV implementation: a small client of
 * clamd's INSTREAM command over TCP or a Unix socket.
 *
 * Why our own client rather than an npm package (clamscan, clamdjs): INSTREAM is five lines of
 * protocol (`zINSTREAM\0`, chunks of <u32 length><bytes>, a zero length, one reply line); owning
 * it lets every step be bounded (connect, idle and total timeouts, reply size), lets the file be
 * streamed from disk without buffering it, and keeps an unmaintained dependency (both packages
 * are) off the path every customer document takes. Anything the daemon says that is not
 * "stream: OK" is treated as not clean (fail closed).
 */
import { createReadStream } from 'node:fs';
import { connect, type Socket } from 'node:net';

export type ScanVerdict =
  | { clean: true }
  /** `signature`: what the scanner found (for the audit; never shown to staff with the file's name). */
  | { clean: false; infected: true; signature: string }
  /** The scanner could not give an answer (down, timed out, an error line): the file is refused. */
  | { clean: false; infected: false; error: string };

export interface FileScanner {
  /** Scans the file at `path` (a server-side temporary file). Never throws: errors are verdicts. */
  scan(path: string): Promise<ScanVerdict>;
  /** A short name for logs and /readyz-style reports ("clamd tcp://127.0.0.1:3310"). */
  readonly name: string;
}

export type ClamdAddress = { host: string; port: number } | { path: string };

/** `tcp://host:port` or `unix:/path/to/clamd.ctl` (VITRINE_CLAMD). */
export function parseClamdAddress(s: string): ClamdAddress {
  const unix = /^unix:(\/.+)$/.exec(s);
  if (unix) return { path: unix[1]! };
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(s);
  if (tcp) return { host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) };
  throw new Error(`expected tcp://host:port or unix:/path, got "${s}"`);
}

export interface ClamdOptions {
  /** The whole scan, connect to verdict (default 60 s). */
  timeoutMs?: number;
  /** Bytes per INSTREAM chunk (default 64 KiB; clamd's StreamMaxLength bounds the total). */
  chunkBytes?: number;
}

export class ClamdScanner implements FileScanner {
  readonly #address: ClamdAddress;
  readonly #timeoutMs: number;
  readonly #chunk: number;
  readonly name: string;

  constructor(address: ClamdAddress | string, opts: ClamdOptions = {}) {
    this.#address = typeof address === 'string' ? parseClamdAddress(address) : address;
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
    this.#chunk = opts.chunkBytes ?? 64 * 1024;
    this.name = 'path' in this.#address ? `clamd unix:${this.#address.path}` : `clamd tcp://${this.#address.host}:${this.#address.port}`;
  }

  /** PING → PONG: whether the daemon answers at all. */
  async ping(): Promise<boolean> {
    try {
      return (await this.#exchange(async (s) => void s.write('zPING\0'))) === 'PONG';
    } catch {
      return false;
    }
  }

  async scan(path: string): Promise<ScanVerdict> {
    let reply: string;
    try {
      reply = await this.#exchange(async (s) => {
        s.write('zINSTREAM\0');
        const file = createReadStream(path, { highWaterMark: this.#chunk });
        for await (const piece of file as AsyncIterable<Buffer>) {
          const head = Buffer.alloc(4);
          head.writeUInt32BE(piece.length, 0);
          // Backpressure: wait for the socket to drain before reading more of the file.
          if (!s.write(Buffer.concat([head, piece])))
            await new Promise<void>((r, j) => {
              s.once('drain', r);
              s.once('close', () => j(new Error('clamd closed the connection')));
            });
        }
        s.write(Buffer.alloc(4));
      });
    } catch (e) {
      return { clean: false, infected: false, error: (e as Error).message.slice(0, 200) };
    }
    return parseReply(reply);
  }

  /** Sends one command, reads the one NUL- or newline-terminated reply (at most 4 KiB). */
  #exchange(send: (s: Socket) => Promise<void>): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = 'path' in this.#address ? connect(this.#address.path) : connect(this.#address.port, this.#address.host);
      let got = Buffer.alloc(0);
      let done = false;
      const finish = (err: Error | null, value?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.destroy();
        if (err) reject(err);
        else resolve(value!);
      };
      const timer = setTimeout(() => finish(new Error(`clamd did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      timer.unref();
      s.on('error', (e) => finish(new Error(`clamd: ${e.message}`)));
      s.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        const end = got.findIndex((b) => b === 0 || b === 0x0a);
        if (end >= 0) finish(null, got.subarray(0, end).toString('utf8').trim());
        else if (got.length > 4096) finish(new Error('clamd reply too long'));
      });
      s.on('close', () => finish(got.length ? null : new Error('clamd closed the connection without a reply'), got.toString('utf8').replace(/\0/g, '').trim()));
      s.once('connect', () => send(s).catch((e: Error) => finish(e)));
    });
  }
}

/** `stream: OK`, `stream: Sig.Name FOUND`, `... ERROR` (e.g. INSTREAM size limit exceeded). */
export function parseReply(reply: string): ScanVerdict {
  const body = reply.replace(/^stream:\s*/, '');
  if (body === 'OK') return { clean: true };
  const found = /^(.+) FOUND$/.exec(body);
  if (found) return { clean: false, infected: true, signature: found[1]!.slice(0, 200) };
  return { clean: false, infected: false, error: body.slice(0, 200) || 'empty reply' };
}

/** When no scanner is configured: every file is refused (fail closed), never passed unscanned. */
export class NoScanner implements FileScanner {
  readonly name = 'none';
  async scan(): Promise<ScanVerdict> {
    return { clean: false, infected: false, error: 'no malware scanner is configured (VITRINE_CLAMD)' };
  }
}
