/**
 * Applies a redaction policy inside a session's page and decides, frame by frame, whether a
 * screencast frame may be shown (the FrameGate). Fail closed: the gate opens only once the
 * current document of every frame has answered that the policy's current version is in force;
 * it closes the moment any frame starts loading, attaches or navigates; frames captured before
 * it reopened are withheld. A subframe that cannot be covered is masked whole by its parent
 * (policy `iframes: mask`), or keeps the gate closed (`iframes: block`); a main document that
 * cannot be covered keeps the gate closed and says why.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Frame, Page } from 'puppeteer';
import { mergeSections, type CompiledPolicy } from '../../policy/engine.ts';
import { ibanValid, luhnValid } from '../../policy/patterns.ts';
import { DIGIT_ZEROS } from '../../policy/unicode-digits.ts';
import type { FrameGate, PolicyStamp } from '../frame-gate.ts';

const INPAGE = readFileSync(join(import.meta.dirname, 'inpage.js'), 'utf8').trim();
export const MASK_COLOUR = '#5b6470';

export interface RedactionOptions {
  /** How long a document may take to confirm before its frame is masked whole or the gate gives up. */
  confirmTimeoutMs?: number;
  log?: (event: string, details: Record<string, unknown>) => void;
}

interface FrameStatus {
  version: string;
  url: string;
  errors: string[];
  ready: boolean;
}

const timeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);

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
  readonly #iframes: 'mask' | 'block';
  #openSince = 0;
  #reason: string | null = 'the policy has not been confirmed yet';
  #epoch = 0;
  #running = false;
  #closed = false;
  #cdp: CDPSession | null = null;
  #preloadId: string | null = null;
  readonly #covered = new WeakSet<Frame>();
  readonly #listeners = new Set<() => void>();
  readonly #cleanups: (() => void)[] = [];

  constructor(page: Page, compiled: CompiledPolicy, opts: RedactionOptions = {}) {
    this.#page = page;
    this.policy = { name: compiled.name, version: compiled.version };
    this.#confirmMs = opts.confirmTimeoutMs ?? 5000;
    this.#log = opts.log ?? (() => undefined);
    this.#iframes = compiled.sections[0]?.iframes ?? 'mask';
    const cfg = { key: this.#key, compiled, colour: MASK_COLOUR, token: this.#token, binding: this.#binding, digitZeros: DIGIT_ZEROS };
    this.#script = `${INPAGE}(${JSON.stringify(cfg)}, ${mergeSections.toString()}, ${luhnValid.toString()}, ${ibanValid.toString()});`;
  }

  /** Installs the policy in the page; call on a blank page before its first navigation. */
  async attach(): Promise<this> {
    const page = this.#page;
    this.#preloadId = (await page.evaluateOnNewDocument(this.#script)).identifier;
    const onFrame = () => this.#invalidate('a frame navigated');
    const onDetached = () => this.#invalidate('a frame was removed');
    page.on('frameattached', onFrame);
    page.on('framenavigated', onFrame);
    page.on('framedetached', onDetached);
    this.#cleanups.push(() => page.off('frameattached', onFrame), () => page.off('framenavigated', onFrame), () => page.off('framedetached', onDetached));
    // Close before the new document commits, not only after: loading starts earlier than commit.
    this.#cdp = await page.createCDPSession();
    this.#cdp.on('Page.frameStartedLoading', () => this.#invalidate('a frame started loading'));
    this.#cdp.on('Page.frameRequestedNavigation', () => this.#invalidate('a navigation was requested'));
    await this.#cdp.send('Page.enable');
    this.#invalidate('the policy was installed');
    return this;
  }

  allows(capturedAt: number): boolean {
    return this.#openSince > 0 && capturedAt >= this.#openSince;
  }

  closedReason(): string | null {
    return this.#reason;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #setState(reason: string | null): void {
    const wasOpen = this.#reason === null;
    this.#reason = reason;
    this.#openSince = reason === null ? Date.now() : 0;
    if (wasOpen !== (reason === null) || reason !== null) for (const l of this.#listeners) l();
  }

  /** Closes the gate at once and starts confirming every frame again. */
  #invalidate(why: string): void {
    if (this.#closed) return;
    this.#epoch++;
    if (this.#reason === null) this.#log('gate closed', { why });
    const reason = `confirming the privacy policy (${why})`;
    if (this.#reason !== reason) this.#setState(reason);
    if (!this.#running) void this.#run();
  }

  /**
   * One confirmation run at a time. `#running` is set and cleared inside this one async
   * function, with no await between the last epoch check and the reset, so an invalidation
   * either lands while it runs (and is seen by the epoch check) or starts a new run.
   */
  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#closed) {
        const epoch = this.#epoch;
        await new Promise((r) => setTimeout(r, 15));
        await this.#verify(epoch);
        if (epoch === this.#epoch) break;
      }
    } catch (e) {
      this.#log('confirmation failed', { error: String(e) });
      this.#setState('protected content: the policy could not be confirmed');
    } finally {
      this.#running = false;
    }
  }

  async #status(frame: Frame): Promise<FrameStatus | null | undefined> {
    try {
      return (await timeout(frame.evaluate((key: string) => (window as unknown as Record<string, { status(): unknown } | undefined>)[key]?.status() ?? null, this.#key), 1000)) as FrameStatus | null | undefined;
    } catch {
      return undefined;
    }
  }

  async #verify(epoch: number): Promise<void> {
    const deadline = Date.now() + this.#confirmMs;
    let pending = this.#page.frames();
    let lastProblem = 'waiting for the page';
    while (pending.length && Date.now() < deadline && !this.#closed) {
      const next: Frame[] = [];
      for (const frame of pending) {
        if (frame.detached || this.#covered.has(frame)) continue;
        const url = frame.url();
        // Chromium's own error pages hold no site content and run no preload script.
        if (url.startsWith('chrome-error://')) continue;
        let s = await this.#status(frame);
        if (s === null && (url === 'about:blank' || url === 'about:srcdoc' || url === '')) {
          // Initial and script-written documents never get preload scripts: install directly.
          await timeout(frame.evaluate(this.#script).catch(() => undefined), 1000);
          s = await this.#status(frame);
        }
        if (s && s.version === this.policy.version && s.ready) continue;
        this.#log('frame unconfirmed', { url: url.slice(0, 80), status: s === undefined ? 'no answer' : s === null ? 'no script' : s.errors.join('; ') || 'not ready', epoch });
        lastProblem = s ? `a frame reported: ${s.errors[0] ?? 'policy not ready'}` : 'a frame has not confirmed the policy';
        next.push(frame);
      }
      if (epoch !== this.#epoch) return;
      pending = next;
      if (pending.length) await new Promise((r) => setTimeout(r, 50));
    }
    if (epoch !== this.#epoch || this.#closed) return;
    for (const frame of pending.filter((f) => !f.detached)) {
      const covered = frame.parentFrame() !== null && this.#iframes === 'mask' && (await this.#maskFrameElement(frame));
      if (!covered) {
        this.#log('policy not confirmed', { problem: lastProblem, main: frame.parentFrame() === null });
        this.#setState(`protected content: ${lastProblem}`);
        return;
      }
      this.#log('frame masked whole', { reason: lastProblem });
    }
    if (epoch === this.#epoch) this.#setState(null);
  }

  /** Covers a subframe the policy cannot reach with the mask, from its parent document. */
  async #maskFrameElement(frame: Frame): Promise<boolean> {
    try {
      const el = await frame.frameElement();
      if (!el) return false;
      await el.evaluate((node) => node.setAttribute('data-vitrine-masked', ''));
      this.#covered.add(frame);
      return true;
    } catch {
      return false;
    }
  }

  async focusIsMasked(): Promise<boolean> {
    for (const frame of this.#page.frames()) {
      if (frame.detached) continue;
      try {
        const r = await timeout(frame.evaluate((key: string) => {
          const api = (window as unknown as Record<string, { focusMasked(): boolean | null } | undefined>)[key];
          return api && document.hasFocus() ? api.focusMasked() : false;
        }, this.#key), 500);
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
    this.#openSince = 0;
    this.#reason = 'closed';
    for (const c of this.#cleanups.splice(0)) c();
    this.#listeners.clear();
    if (this.#preloadId) await this.#page.removeScriptToEvaluateOnNewDocument(this.#preloadId).catch(() => undefined);
    await this.#cdp?.detach().catch(() => undefined);
  }
}
