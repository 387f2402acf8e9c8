/**
 * Applies a redaction policy inside a session's page and answers the capture loop's per-tick
 * switch (the FrameGate). Fail closed, for staff: a document counts only once it has answered,
 * through a per-session secret name, that the policy's current version is in force; until then
 * a subframe stays covered by its parent (its element is masked from its first paint) and an
 * unconfirmed main document means no staff frame at all. Every frame created, navigated or
 * destroyed bumps an epoch, and a staff capture is kept only if the epoch did not move and every
 * document still had its masks on after the capture. The customer's captures need none of this.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Frame, Page } from 'puppeteer-core';
import { mergeSections, type CompiledPolicy } from '../../policy/engine.ts';
import { ibanValid, luhnValid } from '../../policy/patterns.ts';
import { DIGIT_ZEROS } from '../../policy/unicode-digits.ts';
import type { FrameGate, MaskSeal, PolicyStamp, ProbeResult } from '../frame-gate.ts';
import { staffBlocker } from './frame-safety.ts';

const INPAGE = readFileSync(join(import.meta.dirname, 'inpage.js'), 'utf8').trim();
/** Silences the console before any page script can flood it (quiet.js says why). */
export const QUIET = readFileSync(join(import.meta.dirname, 'quiet.js'), 'utf8').trim();
/** Keeps copies out of the browser's shared clipboard and sends them on (clipboard.js says why). */
const CLIPBOARD = readFileSync(join(import.meta.dirname, 'clipboard.js'), 'utf8').trim();
/** Most characters one copy carries to the customer. */
export const MAX_COPY_CHARS = 100_000;
export const MASK_COLOUR = '#5b6470';

export interface RedactionOptions {
  /** How long the main document may take to confirm before the placeholder says why. */
  confirmTimeoutMs?: number;
  log?: (event: string, details: Record<string, unknown>) => void;
}

interface FrameStatus {
  version: string;
  url: string;
  errors: string[];
  ready: boolean;
  /** Mutation batches the document has not scanned yet (inpage.js drain): it is being prepared. */
  pending?: number;
}

interface FrameState {
  confirmed: boolean;
  released: boolean;
  /** Last problem this document reported, for the placeholder and the log. */
  problem: string;
}

interface Seal extends MaskSeal {
  gens: Map<Frame, number>;
}

const timeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> => Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);

const frameId = (f: Frame): string => (f as unknown as { _id: string })._id;

/** One call into a document's switch must never hold a tick up for long. */
const SWITCH_MS = 500;

/**
 * Calls one operation of the in-page policy script. One function object for every call: puppeteer
 * names an evaluated function after its caller's stack, once per function object (it keeps the
 * name on it), and a fresh arrow per call made it capture a stack trace on every probe, mask and
 * unmask (measured: about 1.5 % of the server's CPU under load).
 */
const CALL_IN_PAGE = (k: string, o: string, t: string, a: unknown[]): unknown => {
  const api = (window as unknown as Record<string, Record<string, (...x: unknown[]) => unknown> | undefined>)[k];
  return api ? api[o]!(t, ...a) : undefined;
};

export class RedactionGate implements FrameGate {
  readonly policy: PolicyStamp;
  readonly #page: Page;
  readonly #key = `__vitrine_${randomBytes(9).toString('base64url').replace(/[-]/g, '_')}`;
  /** Proves a switch request comes from the server: the page never sees it. */
  readonly #token = randomBytes(18).toString('base64url');
  /** The CDP binding documents ring when they change (taken off the window by the script). */
  readonly #binding = `__vitrine_bell_${randomBytes(9).toString('hex')}`;
  readonly #script: string;
  readonly #confirmMs: number;
  readonly #log: (event: string, details: Record<string, unknown>) => void;
  /** Bumped by every frame created, navigated or destroyed and every document context change. */
  #epoch = 0;
  #reason: string | null = 'the policy has not been confirmed yet';
  #mainProblem = 'waiting for the page';
  /** What made the main document unconfirmed (shown while it is being confirmed). */
  #mainWhy = 'waiting for the page';
  /** The main document did not confirm within the bound: the placeholder says why. */
  #gaveUp = false;
  /** Some document reported content it has not scanned yet (see FrameStatus.pending). */
  #preparing = false;
  #running = false;
  #again = false;
  #closed = false;
  #cdp: CDPSession | null = null;
  #preloadId: string | null = null;
  readonly #states = new Map<Frame, FrameState>();
  readonly #listeners = new Set<() => void>();
  readonly #activity = new Set<() => void>();
  readonly #cleanups: (() => void)[] = [];

  constructor(page: Page, compiled: CompiledPolicy, opts: RedactionOptions = {}) {
    this.#page = page;
    this.policy = { name: compiled.name, version: compiled.version };
    this.#confirmMs = opts.confirmTimeoutMs ?? 5000;
    this.#log = opts.log ?? (() => undefined);
    const cfg = { key: this.#key, compiled, colour: MASK_COLOUR, token: this.#token, binding: this.#binding, digitZeros: DIGIT_ZEROS };
    const clip = { key: this.#key, binding: this.#binding, maxCopy: MAX_COPY_CHARS };
    this.#script = `${QUIET}\n${CLIPBOARD}(${JSON.stringify(clip)});\n${INPAGE}(${JSON.stringify(cfg)}, ${mergeSections.toString()}, ${luhnValid.toString()}, ${ibanValid.toString()});`;
  }

  /** Installs the policy in the page; call on a blank page before its first navigation. */
  async attach(): Promise<this> {
    const page = this.#page;
    this.#cdp = await page.createCDPSession();
    const cdp = this.#cdp;
    // Runtime on this session: the doorbell binding and every document context's birth and death.
    await cdp.send('Runtime.enable');
    await cdp.send('Runtime.addBinding', { name: this.#binding });
    this.#preloadId = (await page.evaluateOnNewDocument(this.#script)).identifier;
    const onAttached = (f: Frame) => this.#changed(f, 'a frame was created');
    const onNavigated = (f: Frame) => this.#changed(f, 'a frame navigated');
    const onDetached = (f: Frame) => {
      this.#states.delete(f);
      this.#bump('a frame was removed');
    };
    page.on('frameattached', onAttached);
    page.on('framenavigated', onNavigated);
    page.on('framedetached', onDetached);
    this.#cleanups.push(
      () => page.off('frameattached', onAttached),
      () => page.off('framenavigated', onNavigated),
      () => page.off('framedetached', onDetached),
    );
    cdp.on('Page.frameStartedLoading', () => this.#bump('a frame started loading'));
    cdp.on('Page.frameRequestedNavigation', () => this.#bump('a navigation was requested'));
    cdp.on('Runtime.executionContextCreated', () => this.#bump('a document context was created'));
    cdp.on('Runtime.executionContextDestroyed', () => this.#bump('a document context was destroyed'));
    cdp.on('Runtime.executionContextsCleared', () => this.#bump('document contexts were cleared'));
    cdp.on('Runtime.bindingCalled', (e) => {
      if (e.name !== this.#binding) return;
      // An empty payload is the doorbell; a copy carries its text (clipboard.js).
      if (e.payload) return this.#copied(e.payload);
      for (const l of this.#activity) l();
    });
    await cdp.send('Page.enable');
    for (const f of page.frames()) this.#changed(f, 'the policy was installed');
    return this;
  }

  closedReason(): string | null {
    return this.#reason;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onActivity(listener: () => void): () => void {
    this.#activity.add(listener);
    return () => this.#activity.delete(listener);
  }

  readonly #copies = new Set<(text: string) => void>();

  onCopy(listener: (text: string) => void): () => void {
    this.#copies.add(listener);
    return () => this.#copies.delete(listener);
  }

  #copied(payload: string): void {
    let text: unknown;
    try {
      text = (JSON.parse(payload) as { copy?: unknown }).copy;
    } catch {
      return;
    }
    if (typeof text !== 'string' || !text) return;
    for (const l of this.#copies) l(text.slice(0, MAX_COPY_CHARS));
  }

  /** Recomputes the reason from the frames' states and tells listeners when it changed. */
  #update(): void {
    if (this.#closed) return;
    const facts = this.#page.frames().map((f) => {
      const st = this.#states.get(f);
      return { id: frameId(f), parentId: (f.parentFrame() ? frameId(f.parentFrame()!) : null) ?? null, confirmed: st?.confirmed ?? false, released: st?.released ?? false };
    });
    let reason = staffBlocker(facts);
    const main = this.#states.get(this.#page.mainFrame());
    if (reason !== null && !main?.confirmed) {
      reason = this.#gaveUp ? `protected content: ${this.#mainProblem}` : `confirming the privacy policy (${this.#mainWhy})`;
    }
    if (reason === this.#reason) return;
    if (this.#reason === null) this.#log('gate closed', { why: reason });
    this.#reason = reason;
    for (const l of this.#listeners) l();
  }

  #bump(why: string): void {
    if (this.#closed) return;
    this.#epoch++;
    void why;
  }

  /** A frame has a new document (or is new): not confirmed until it says so. */
  #changed(frame: Frame, why: string): void {
    if (this.#closed) return;
    this.#epoch++;
    const prev = this.#states.get(frame);
    // A released element shows whatever document is in it now: it stays "released" (unsafe)
    // until the parent has covered it again.
    this.#states.set(frame, { confirmed: false, released: prev?.released ?? false, problem: why });
    if (frame.parentFrame() === null) {
      this.#gaveUp = false;
      this.#mainProblem = why;
      this.#mainWhy = why;
      for (const f of [...this.#states.keys()]) if (f !== frame && f.detached) this.#states.delete(f);
    }
    this.#update();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    void this.#run();
  }

  /**
   * One confirmation run at a time; a change while it runs makes it go round again. Retries
   * unconfirmed documents until each answers (covered meanwhile) or the bound passes.
   */
  async #run(): Promise<void> {
    this.#running = true;
    try {
      const started = Date.now();
      for (let round = 0; !this.#closed; round++) {
        this.#again = false;
        const pending = await this.#confirmAll();
        this.#update();
        if (!pending && !this.#again) break;
        // A document still scanning its content (a huge page) is making progress: keep asking, on
        // the placeholder ("preparing the page"), rather than give up on it.
        if (!this.#again && this.#preparing) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        if (!this.#again && Date.now() - started > this.#confirmMs) {
          this.#log('policy not confirmed', { problem: this.#mainProblem, frames: pending });
          if (!this.#states.get(this.#page.mainFrame())?.confirmed) this.#gaveUp = true;
          // Still covered (subframes) or on the placeholder (main); a later change tries again.
          break;
        }
        await new Promise((r) => setTimeout(r, round < 10 ? 15 : 100));
      }
    } catch (e) {
      this.#log('confirmation failed', { error: String(e) });
    } finally {
      this.#running = false;
      this.#update();
      if (this.#again && !this.#closed) this.#schedule();
    }
  }

  async #status(frame: Frame): Promise<FrameStatus | null | undefined> {
    try {
      return (await timeout(
        frame.evaluate((key: string) => (window as unknown as Record<string, { status(): unknown } | undefined>)[key]?.status() ?? null, this.#key),
        1000,
      )) as FrameStatus | null | undefined;
    } catch {
      return undefined;
    }
  }

  /** Asks every unconfirmed document once; returns how many are still pending. */
  async #confirmAll(): Promise<number> {
    let pending = 0;
    this.#preparing = false;
    for (const frame of this.#page.frames()) {
      if (frame.detached) continue;
      const st = this.#states.get(frame) ?? { confirmed: false, released: false, problem: 'a frame was created' };
      this.#states.set(frame, st);
      if (st.confirmed) continue;
      const parent = frame.parentFrame();
      // First cover a released element that holds a new document, so staff can see the rest.
      if (st.released && parent && (await this.#owner(frame, 'cover'))) st.released = false;
      const url = frame.url();
      let s = await this.#status(frame);
      if (s === null && (url === 'about:blank' || url === 'about:srcdoc' || url === '' || url.startsWith('chrome-error://'))) {
        // Initial, script-written and error documents never get preload scripts: install directly.
        await timeout(
          frame.evaluate(this.#script).catch(() => undefined),
          1000,
        );
        s = await this.#status(frame);
      }
      if (this.#states.get(frame) !== st) {
        pending++;
        continue; // it navigated meanwhile; the next round asks the new document
      }
      if (s && s.version === this.policy.version && s.ready) {
        st.confirmed = true;
        if (parent && this.#states.get(parent)?.confirmed) st.released = await this.#owner(frame, 'release');
        continue;
      }
      if (s && !s.errors.length && (s.pending ?? 0) > 0) this.#preparing = true;
      st.problem = s
        ? s.errors.length === 0 && (s.pending ?? 0) > 0
          ? 'the page is being prepared'
          : `a frame reported: ${s.errors[0] ?? 'policy not ready'}`
        : 'a frame has not confirmed the policy';
      if (!parent && s && !s.errors.length && (s.pending ?? 0) > 0) this.#mainWhy = 'the page is being prepared';
      if (!parent) this.#mainProblem = st.problem;
      this.#log('frame unconfirmed', { url: url.slice(0, 80), status: s === undefined ? 'no answer' : s === null ? 'no script' : s.errors.join('; ') || 'not ready', main: !parent });
      pending++;
    }
    // A confirmed child whose parent confirmed later is released now.
    for (const frame of this.#page.frames()) {
      const st = this.#states.get(frame);
      const parent = frame.parentFrame();
      if (st?.confirmed && !st.released && parent && this.#states.get(parent)?.confirmed) st.released = await this.#owner(frame, 'release');
    }
    return pending;
  }

  /** Covers or releases a frame's element through its parent document's switch. */
  async #owner(frame: Frame, op: 'cover' | 'release'): Promise<boolean> {
    const cdp = this.#cdp;
    if (!cdp || frame.detached) return false;
    try {
      const { backendNodeId } = await cdp.send('DOM.getFrameOwner', { frameId: frameId(frame) });
      const { object } = await cdp.send('DOM.resolveNode', { backendNodeId });
      if (!object.objectId) return false;
      try {
        const r = await cdp.send('Runtime.callFunctionOn', {
          objectId: object.objectId,
          functionDeclaration: `function (k, t) { var a = window[k]; return !!a && a.${op}(t, this); }`,
          arguments: [{ value: this.#key }, { value: this.#token }],
          returnByValue: true,
        });
        return r.result.value === true;
      } finally {
        await cdp.send('Runtime.releaseObject', { objectId: object.objectId }).catch(() => undefined);
      }
    } catch {
      return false;
    }
  }

  // ---- the per-tick switch (FrameGate) -----------------------------------------------------

  /** Documents that answer the switch: those confirmed now. */
  #documents(): Frame[] {
    return this.#page.frames().filter((f) => !f.detached && this.#states.get(f)?.confirmed === true);
  }

  async #call<T>(frame: Frame, op: string, ...args: unknown[]): Promise<T | undefined> {
    try {
      return (await timeout(frame.evaluate(CALL_IN_PAGE, this.#key, op, this.#token, args), SWITCH_MS)) as T | undefined;
    } catch {
      return undefined;
    }
  }

  async probe(unmaskIfMasked = false): Promise<ProbeResult> {
    const docs = this.#documents();
    if (docs.length === 0) return { changed: true, masked: true };
    const rs = await Promise.all(docs.map((f) => this.#call<{ changed: boolean; masked: boolean; ok: boolean; unmasked: boolean } | null>(f, 'probe', unmaskIfMasked)));
    let changed = false;
    let masked = false;
    // Every document that shows something masked switched off in the same call (one round trip
    // less on the customer's path); a covered frame is switched by its parent document.
    let unmasked = unmaskIfMasked;
    for (const r of rs) {
      if (!r) return { changed: true, masked: true };
      changed ||= r.changed;
      masked ||= r.masked || !r.ok;
      if ((r.masked || !r.ok) && !r.unmasked) unmasked = false;
    }
    // A covered (unconfirmed) frame is shown to the customer and masked for staff.
    if (docs.length !== this.#page.frames().length) masked = true;
    return { changed, masked, unmasked };
  }

  async unmask(): Promise<boolean> {
    const rs = await Promise.all(this.#documents().map((f) => this.#call<number | null>(f, 'unmask')));
    return rs.every((r) => typeof r === 'number');
  }

  async mask(): Promise<MaskSeal | null> {
    const epoch = this.#epoch;
    const docs = this.#documents();
    const rs = await Promise.all(docs.map((f) => this.#call<number | null>(f, 'mask')));
    if (this.#reason !== null || epoch !== this.#epoch || docs.length === 0) return null;
    const gens = new Map<Frame, number>();
    for (let i = 0; i < docs.length; i++) {
      const g = rs[i];
      if (typeof g !== 'number' || g < 0) return null;
      gens.set(docs[i]!, g);
    }
    const seal: Seal = { epoch, gens };
    return seal;
  }

  async confirm(sealed: MaskSeal): Promise<boolean> {
    const seal = sealed as Seal;
    if (!(seal.gens instanceof Map) || seal.epoch !== this.#epoch || this.#reason !== null) return false;
    const docs = this.#documents();
    if (docs.length !== seal.gens.size || docs.some((f) => !seal.gens.has(f))) return false;
    const rs = await Promise.all(docs.map((f) => this.#call<boolean>(f, 'check', seal.gens.get(f))));
    return rs.every((r) => r === true) && seal.epoch === this.#epoch && this.#reason === null;
  }

  async focusIsMasked(): Promise<boolean> {
    for (const frame of this.#page.frames()) {
      if (frame.detached) continue;
      try {
        const r = await timeout(
          frame.evaluate((key: string) => {
            const api = (window as unknown as Record<string, { focusMasked(): boolean | null } | undefined>)[key];
            return api && document.hasFocus() ? api.focusMasked() : false;
          }, this.#key),
          500,
        );
        if (r === undefined || r === true) return true;
      } catch {
        return true;
      }
    }
    return false;
  }

  /** What matched in every frame, for `vitrine policy preview`. */
  async report(): Promise<{ url: string; selectors: Record<string, number>; patterns: Record<string, number>; matchedRules: number[]; errors: string[] }[]> {
    const out = [];
    for (const frame of this.#page.frames()) {
      const r = await frame.evaluate((key: string) => (window as unknown as Record<string, { report(): unknown } | undefined>)[key]?.report() ?? null, this.#key).catch(() => null);
      if (r) out.push({ url: frame.url(), ...(r as { selectors: Record<string, number>; patterns: Record<string, number>; matchedRules: number[]; errors: string[] }) });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = 'closed';
    for (const c of this.#cleanups.splice(0)) c();
    this.#listeners.clear();
    this.#activity.clear();
    if (this.#preloadId) await this.#page.removeScriptToEvaluateOnNewDocument(this.#preloadId).catch(() => undefined);
    await this.#cdp?.detach().catch(() => undefined);
  }
}
