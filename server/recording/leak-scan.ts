/**
 * The independent leak scan of recordings: a second opinion on masking that does not trust the
 * redaction code at all. It decrypts a finished recording the way replay does, reads every
 * distinct frame (identical JPEGs deduplicated by SHA-256) with OCR (tesseract.js and the
 * English model shipped in `@tesseract.js-data/eng`, in a low-priority child process:
 * ocr-worker.ts) and looks for card numbers (Luhn), IBANs (mod 97) and the recording policy's
 * own patterns (server/policy/patterns.ts; the same specs the page masks with).
 *
 * OCR text is normalised before matching, only inside digit runs: a word that holds at least one
 * digit and otherwise only the letters OCR confuses with digits has O/o/D read as 0 and l/I/|/i
 * as 1 (so "4l11 1111 O111 1111" is read as the card number it looks like); words are joined by
 * single spaces per line, which the card and IBAN patterns accept between groups. Letters
 * elsewhere are untouched (an IBAN keeps its country code).
 *
 * What is kept and audited holds no secret: frame indexes, times, rectangles (in viewport
 * pixels) and pattern names, never the text that matched. Results are stored next to the
 * recording (store.ts `saveScan`) and shown in the recordings list and on the replay page.
 *
 * Bounded CPU: one child process, one frame at a time, every thread at nice 19, and a duty cycle
 * (default 0.5: after a frame that took t ms of OCR the scanner rests t ms) so even on an idle
 * machine it takes at most about one core in two. The child exits after a minute without work.
 */
import { createHash } from 'node:crypto';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Express, Request } from 'express';
import type { AuditSink } from '../audit/audit.ts';
import { hasCode, VitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { BUILTIN_PATTERNS, ibanValid, luhnValid, type PatternSpec } from '../policy/patterns.ts';
import { decodeFrame } from '../protocol.ts';
import type { RecordingStore } from './store.ts';
import { NET_GUARD, type OcrWord } from './ocr-worker.ts';

export const OCR_ENGINE = 'tesseract.js 7 (eng, @tesseract.js-data/eng 4.0.0_best_int, LSTM only)';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LeakFinding {
  /** Index of the frame among the recording's frames (0 = the first), and its time in ms. */
  frame: number;
  t: number;
  pattern: string;
  /** Where the text that looks like one is, in viewport pixels. */
  rect: Rect;
  /** How many frames showed the same image. */
  frames: number;
}

export interface LeakScanResult {
  recording: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  engine: string;
  requestedBy?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Frames in the recording, and the distinct images among them that were read. */
  frames: number;
  distinctFrames: number;
  patterns: string[];
  findings: LeakFinding[];
  /** Mean OCR time per distinct frame. */
  msPerFrame?: number;
  summary: string;
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// Matching OCR words against patterns (pure)

const CONFUSABLE = /^[0-9OoDIl|i]+$/;
const TO_DIGIT: Record<string, string> = { O: '0', o: '0', D: '0', I: '1', l: '1', '|': '1', i: '1' };

/** OCR confusions fixed inside digit runs only; the length stays the same (boxes map 1:1). */
export function normaliseOcrWord(text: string): string {
  // Separators OCR glues onto groups ("4111-1111", "1111,") stay; the core is checked.
  return text.replace(/[0-9OoDIl|i]+/g, (run) => (/\d/.test(run) && CONFUSABLE.test(run) ? run.replace(/[OoDIl|i]/g, (c) => TO_DIGIT[c]!) : run));
}

/** The patterns a scan uses: card numbers and IBANs always, and the policy's own. */
export function scanPatterns(policyPatterns: PatternSpec[] = []): PatternSpec[] {
  const seen = new Set<string>();
  return [BUILTIN_PATTERNS['card-number']!, BUILTIN_PATTERNS.iban!, ...policyPatterns].filter((p) => (seen.has(p.name) ? false : (seen.add(p.name), true)));
}

/** Text that looks like one of `patterns` in one image's OCR words: pattern names and boxes. */
export function matchWords(words: OcrWord[], patterns: PatternSpec[]): { pattern: string; rect: Rect }[] {
  const out: { pattern: string; rect: Rect }[] = [];
  const lines = new Map<number, OcrWord[]>();
  for (const w of words) if (w.text.trim()) (lines.get(w.line) ?? lines.set(w.line, []).get(w.line)!).push(w);
  for (const lineWords of lines.values()) {
    let text = '';
    const owner: number[] = [];
    lineWords.forEach((w, i) => {
      if (i) {
        text += ' ';
        owner.push(-1);
      }
      const n = normaliseOcrWord(w.text.trim());
      text += n;
      for (let k = 0; k < n.length; k++) owner.push(i);
    });
    for (const p of patterns) {
      let re: RegExp;
      try {
        re = new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`);
      } catch {
        continue;
      }
      for (const m of text.matchAll(re)) {
        if (!m[0]) continue;
        if (p.check === 'luhn' && !luhnValid(m[0])) continue;
        if (p.check === 'iban' && !ibanValid(m[0])) continue;
        const covered = new Set(owner.slice(m.index, m.index + m[0].length).filter((i) => i >= 0));
        const boxes = [...covered].map((i) => lineWords[i]!.bbox);
        const x0 = Math.min(...boxes.map((b) => b.x0));
        const y0 = Math.min(...boxes.map((b) => b.y0));
        out.push({ pattern: p.name, rect: { x: x0, y: y0, width: Math.max(...boxes.map((b) => b.x1)) - x0, height: Math.max(...boxes.map((b) => b.y1)) - y0 } });
      }
    }
  }
  return out;
}

/** Width and height from a JPEG's start-of-frame marker (frames may be captured smaller). */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | null {
  for (let i = 2; i + 9 < jpeg.length;) {
    if (jpeg[i] !== 0xff) return null;
    const marker = jpeg[i + 1]!;
    const len = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (jpeg[i + 5]! << 8) | jpeg[i + 6]!, width: (jpeg[i + 7]! << 8) | jpeg[i + 8]! };
    }
    i += 2 + len;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The OCR engine: one low-priority child process

export interface OcrEngineOptions {
  /** Share of wall time the engine may compute (0 < d ≤ 1): after t ms of OCR it rests t(1-d)/d. */
  dutyCycle?: number;
  /** The child exits after this long without work (ms). */
  idleMs?: number;
}

export class OcrEngine {
  readonly #duty: number;
  readonly #idleMs: number;
  #child: ChildProcess | null = null;
  #ready: Promise<ChildProcess> | null = null;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #idle: NodeJS.Timeout | null = null;
  /** Figures for tests and metrics. */
  readonly stats = { frames: 0, ocrMs: 0, restMs: 0, starts: 0 };
  lastReady: { nice: number[]; netAttempts: number } | null = null;

  constructor(opts: OcrEngineOptions = {}) {
    this.#duty = Math.min(1, Math.max(0.05, opts.dutyCycle ?? 0.5));
    this.#idleMs = opts.idleMs ?? 60_000;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #start(): Promise<ChildProcess> {
    this.#ready ??= new Promise<ChildProcess>((resolve, reject) => {
      // From source the child runs TypeScript as the server does (tsx); the production build
      // forks the bundled ocr-worker.js with plain node (tsx is not in the image). The network
      // guard is loaded in every thread either way.
      const fromSource = import.meta.url.endsWith('.ts');
      const tsx = !fromSource || process.execArgv.some((a) => /tsx/.test(a)) ? [] : ['--import', 'tsx'];
      const child = fork(fileURLToPath(new URL('./ocr-worker.ts', import.meta.url)), [], {
        execArgv: [...process.execArgv, ...tsx, '--import', NET_GUARD],
        env: { ...process.env, VITRINE_OCR_CHILD: '1' },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      this.stats.starts++;
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
      child.on('message', (m: { type: string; id?: number; message?: string; nice?: number[]; netAttempts?: number }) => {
        if (m.type === 'ready') {
          this.lastReady = { nice: m.nice!, netAttempts: m.netAttempts! };
          this.#child = child;
          resolve(child);
        } else if (m.type === 'failed') reject(new Error(`OCR worker failed to start: ${m.message}`));
        else if (m.id !== undefined) {
          const p = this.#pending.get(m.id);
          this.#pending.delete(m.id);
          if (m.type === 'error') p?.reject(new Error(m.message));
          else p?.resolve(m);
        }
      });
      child.on('exit', (code) => {
        const err = new Error(`OCR worker exited (${code}) ${stderr.trim().split('\n').slice(-3).join(' ')}`);
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
        if (this.#child === child) this.#child = null;
        this.#ready = null;
        reject(err);
      });
    });
    return this.#ready;
  }

  #request<T>(child: ChildProcess, msg: Record<string, unknown>): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...msg, id });
    });
  }

  /** One image's words; calls are serialised (concurrency 1) and paced by the duty cycle. */
  recognize(jpeg: Uint8Array): Promise<{ words: OcrWord[]; ms: number }> {
    const run = this.#queue.then(async () => {
      if (this.#idle) clearTimeout(this.#idle);
      const child = await this.#start();
      const r = await this.#request<{ words: OcrWord[]; ms: number }>(child, { type: 'ocr', jpeg: Buffer.from(jpeg).toString('base64') });
      this.stats.frames++;
      this.stats.ocrMs += r.ms;
      const rest = Math.round((r.ms * (1 - this.#duty)) / this.#duty);
      this.stats.restMs += rest;
      if (rest > 0) await new Promise((res) => setTimeout(res, rest));
      this.#idle = setTimeout(() => this.close(), this.#idleMs).unref();
      return r;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The child's thread priorities and the network attempts its guard refused. */
  async childStats(probe = false): Promise<{ nice: number[]; netAttempts: number; pid: number }> {
    const child = await this.#start();
    const id = this.#next++;
    return new Promise((resolve) => {
      const on = (m: { type: string; nice: number[]; netAttempts: number }) => {
        if (m.type !== 'stats') return;
        child.off('message', on);
        resolve({ nice: m.nice, netAttempts: m.netAttempts, pid: child.pid! });
      };
      child.on('message', on);
      child.send({ type: probe ? 'probe-network' : 'stats', id });
    });
  }

  close(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    const c = this.#child;
    this.#child = null;
    this.#ready = null;
    if (c && c.exitCode === null) {
      c.disconnect();
      setTimeout(() => c.exitCode === null && c.kill('SIGKILL'), 5000).unref();
    }
  }
}

/** Reads JPEG images and reports where text looks like a pattern (the leak tests use it too). */
export async function scanImages(engine: OcrEngine, jpegs: Uint8Array[], patterns: PatternSpec[]): Promise<{ index: number; pattern: string; rect: Rect }[]> {
  const out: { index: number; pattern: string; rect: Rect }[] = [];
  for (let i = 0; i < jpegs.length; i++) {
    const { words } = await engine.recognize(jpegs[i]!);
    for (const m of matchWords(words, patterns)) out.push({ index: i, ...m });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The background job

export interface LeakScannerDeps {
  store: RecordingStore;
  audit: AuditSink;
  log: Logger;
  /** The patterns of a policy by name (its own, every rule's); null when it is not known. */
  policyPatterns?: (name: string) => PatternSpec[] | null;
  engine?: OcrEngine;
  /** Scan each recording when it is finished (default true). */
  onFinish?: boolean;
}

const summarise = (r: Pick<LeakScanResult, 'findings' | 'distinctFrames' | 'frames'>): string => {
  if (!r.findings.length) return `no card numbers, IBANs or policy patterns found in ${r.distinctFrames} distinct frames (${r.frames} frames)`;
  const names = [...new Set(r.findings.map((f) => f.pattern))].join(', ');
  const frames = new Set(r.findings.map((f) => f.frame)).size;
  return `${r.findings.length} possible ${names} in ${frames} of ${r.distinctFrames} distinct frames`;
};

export class LeakScanner {
  readonly #deps: LeakScannerDeps;
  readonly engine: OcrEngine;
  readonly #state = new Map<string, LeakScanResult>();
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(deps: LeakScannerDeps) {
    this.#deps = deps;
    this.engine = deps.engine ?? new OcrEngine();
    if (deps.onFinish !== false) deps.store.onFinished?.((id) => void this.scan(id).catch(() => undefined));
  }

  /** The latest result, or the state of a scan under way; null when never scanned. */
  result(id: string): LeakScanResult | null {
    return this.#state.get(id) ?? this.#deps.store.readScan?.(id) ?? null;
  }

  /** Queues a scan (one at a time); resolves with its result. */
  scan(id: string, by?: { sub: string; role: string }): Promise<LeakScanResult> {
    const queued: LeakScanResult = {
      recording: id,
      status: 'queued',
      engine: OCR_ENGINE,
      frames: 0,
      distinctFrames: 0,
      patterns: [],
      findings: [],
      summary: 'scan queued',
      ...(by ? { requestedBy: by.sub } : {}),
    };
    this.#state.set(id, queued);
    const run = this.#chain.then(() => this.#run(id, queued, by));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #run(id: string, r: LeakScanResult, by?: { sub: string; role: string }): Promise<LeakScanResult> {
    if (this.#closed) throw new Error('the leak scanner is closed');
    r.status = 'running';
    r.summary = 'scan running';
    r.startedAt = new Date().toISOString();
    let policy: { name: string; version: string } | undefined;
    let session: string | undefined;
    try {
      const rec = this.#deps.store.read(id);
      policy = rec.header.policy;
      session = rec.header.session;
      r.patterns = scanPatterns(this.#deps.policyPatterns?.(policy.name) ?? []).map((p) => p.name);
      const patterns = scanPatterns(this.#deps.policyPatterns?.(policy.name) ?? []);
      const distinct = new Map<string, { frame: number; t: number; jpeg: Uint8Array; viewport?: { width: number; height: number }; count: number }>();
      let index = 0;
      for (const e of rec.entries) {
        if (e.kind !== 'frame') continue;
        const frame = index++;
        let decoded;
        try {
          decoded = decodeFrame(e.data);
        } catch {
          continue;
        }
        const hash = createHash('sha256').update(decoded.jpeg).digest('hex');
        const seen = distinct.get(hash);
        if (seen) seen.count++;
        else distinct.set(hash, { frame, t: Math.round(e.t), jpeg: decoded.jpeg, ...(decoded.header.viewport ? { viewport: decoded.header.viewport } : {}), count: 1 });
      }
      r.frames = index;
      r.distinctFrames = distinct.size;
      let ms = 0;
      for (const d of distinct.values()) {
        if (this.#closed) throw new Error('the server stopped during the scan');
        const { words, ms: took } = await this.engine.recognize(d.jpeg);
        ms += took;
        const size = jpegSize(d.jpeg);
        const sx = d.viewport && size ? d.viewport.width / size.width : 1;
        const sy = d.viewport && size ? d.viewport.height / size.height : 1;
        for (const m of matchWords(words, patterns)) {
          r.findings.push({
            frame: d.frame,
            t: d.t,
            pattern: m.pattern,
            frames: d.count,
            rect: { x: Math.round(m.rect.x * sx), y: Math.round(m.rect.y * sy), width: Math.round(m.rect.width * sx), height: Math.round(m.rect.height * sy) },
          });
        }
      }
      r.msPerFrame = distinct.size ? Math.round(ms / distinct.size) : 0;
      r.status = 'done';
      r.summary = summarise(r);
    } catch (e) {
      r.status = 'failed';
      r.error = hasCode(e, 'RECORDING_TAMPERED') ? e.message : String((e as Error)?.message ?? e).slice(0, 300);
      r.summary = `scan failed: ${r.error}`;
    }
    r.finishedAt = new Date().toISOString();
    try {
      this.#deps.store.saveScan?.(id, r);
    } catch (e) {
      this.#deps.log.warn({ recording: id, err: String(e) }, 'leak scan result not stored');
    }
    this.#state.delete(id);
    this.#deps.audit.record({
      type: 'recording.scanned',
      ...(session ? { session } : {}),
      ...(by ? { actor: by } : {}),
      ...(policy ? { policy } : {}),
      details: {
        recording: id,
        status: r.status,
        frames: r.frames,
        distinctFrames: r.distinctFrames,
        findings: r.findings.length,
        patterns: [...new Set(r.findings.map((f) => f.pattern))].join(',') || null,
        engine: OCR_ENGINE,
      },
    });
    if (r.findings.length) this.#deps.log.warn({ recording: id, findings: r.findings.length }, 'leak scan: a recording shows text that looks like a secret');
    return r;
  }

  /** For listings: the short form shown beside a recording. */
  brief(id: string): { status: LeakScanResult['status']; summary: string; findings: number; frames: number; finishedAt?: string } | undefined {
    const r = this.result(id);
    return r ? { status: r.status, summary: r.summary, findings: r.findings.length, frames: r.distinctFrames, ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}) } : undefined;
  }

  close(): void {
    this.#closed = true;
    this.engine.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Routes (mounted by app.ts; the spec is in server/contract/rest.ts)

export interface LeakScanRouteDeps {
  scanner: () => LeakScanner | null;
  staff: (req: Request, action: 'recording.read') => Promise<{ sub: string; role: string }>;
  audit: AuditSink;
  store: () => RecordingStore | null;
}

export function mountLeakScanRoutes(app: Express, deps: LeakScanRouteDeps): void {
  const known = (id: string): LeakScanner => {
    const scanner = deps.scanner();
    const store = deps.store();
    if (!scanner || !store || !/^[A-Za-z0-9_-]{8,64}$/.test(id) || !store.list().some((r) => r.id === id)) throw new VitrineError('NO_SUCH_RECORDING');
    return scanner;
  };
  // Starts a scan (answers at once, 202, with the queued state); ?wait=1 answers when it is done.
  app.post('/api/recordings/:id/scan', async (req, res, next) => {
    try {
      const auditor = await deps.staff(req, 'recording.read');
      const id = String(req.params.id);
      const actor = { sub: auditor.sub, role: 'auditor' };
      deps.audit.record({ type: 'recording.accessed', actor, details: { action: 'scan', recording: id } });
      const scanner = known(id);
      const done = scanner.scan(id, actor);
      if (req.query.wait === '1') {
        res.json(await done);
        return;
      }
      done.catch(() => undefined);
      res.status(202).json(scanner.result(id));
    } catch (e) {
      next(e);
    }
  });
  app.get('/api/recordings/:id/scan', async (req, res, next) => {
    try {
      const auditor = await deps.staff(req, 'recording.read');
      const id = String(req.params.id);
      deps.audit.record({ type: 'recording.accessed', actor: { sub: auditor.sub, role: 'auditor' }, details: { action: 'scan-result', recording: id } });
      const r = known(id).result(id);
      if (!r) throw new VitrineError('NO_SUCH_RECORDING', 'this recording has not been scanned');
      res.json(r);
    } catch (e) {
      next(e);
    }
  });
}
