/**
 * One session's page over puppeteer and CDP: the implementation of the core's page port
 * (SessionPage in server/core/ports.ts); nothing outside server/browser/ sees puppeteer. It
 * captures the page for each audience (capture-loop.ts), replays authorized input, navigates, and
 * keeps the page from doing anything participants cannot see (dialogs, popups, downloads, file
 * choosers). Everything it learns is reported through the PageEvents given at open.
 */
import type { CDPSession, Page } from 'puppeteer-core';
import { VitrineError } from '../errors.ts';
import { inputAsksForPicture, type Device, type FocusMessage, type Input, type Viewport } from '../protocol.ts';
import { AdaptiveQuality, type AdaptiveOptions } from './adaptive-quality.ts';
import type { CapturedFrame, CaptureStats, LostReason, PageEvents, PageFiles, PolicyStamp, SessionPage } from '../core/ports.ts';
import { CaptureLoop, UNRESPONSIVE_MS } from './capture-loop.ts';
import type { CpuSampler } from './cpu-load.ts';
import { DeviceEmulation } from './device-emulation.ts';
import type { FrameGate } from './frame-gate.ts';
import { GuardCheck, type GuardFacts, type GuardWhere } from './guard-check.ts';
import { PageInput } from './page-input.ts';
import { frameTurn } from './launch.ts';
import { MemoryWatch } from './memory-watch.ts';
import { QUIET } from './redaction/redaction-gate.ts';
import { NoticeThrottle } from './notice-throttle.ts';
import type { PageLease } from './pool.ts';
import { guardTargets } from './target-guard.ts';

export type { CapturedFrame, LostReason, PageFiles } from '../core/ports.ts';

export interface SessionPageOptions {
  viewport: Viewport;
  jpegQuality: number;
  /** VITRINE_ADAPTIVE_QUALITY: lower quality and a slower tick under sustained CPU saturation. */
  adaptiveQuality: boolean;
  /** Adaptive quality's thresholds, over its defaults (tests force reduced levels). */
  adaptiveTuning?: Partial<AdaptiveOptions>;
  /** The machine's CPU load, which adaptive quality follows (one sampler per server). */
  cpu: CpuSampler;
  /** VITRINE_SESSION_MEMORY_MB: what the page may hold before the session ends (memory-watch.ts). */
  memoryBudgetMb?: number;
  /** Decides whether a document request may proceed; throws a VitrineError to refuse it. */
  checkUrl(url: string): Promise<unknown>;
  /** When set, every subresource request is checked too (policy allow/deny lists). */
  subresourceFilter?: ((url: string) => boolean) | null;
  /** Builds the frame gate for the page before anything is loaded into it. */
  createGate(page: Page): Promise<FrameGate>;
  /** Document handoff (server/files/handoff.ts): choosers and downloads when the policy allows them. */
  files?: PageFiles;
}

export class CdpSessionPage implements SessionPage {
  readonly #lease: PageLease;
  readonly #page: Page;
  readonly #cdp: CDPSession;
  readonly #gate: FrameGate;
  readonly #handlers: PageEvents;
  readonly #opts: SessionPageOptions;
  #closed = false;
  #lastUrl = 'about:blank';
  readonly #cleanups: (() => void)[] = [];
  readonly #adaptive: AdaptiveQuality | null;
  readonly #loop: CaptureLoop;
  readonly #pageInput: PageInput;
  #audiences = { customer: false, staff: false };
  /** Page events, coalesced: a page that loops on dialogs or popups floods nobody. */
  readonly #notices: NoticeThrottle;

  private constructor(lease: PageLease, cdp: CDPSession, gate: FrameGate, handlers: PageEvents, opts: SessionPageOptions) {
    this.#lease = lease;
    this.#page = lease.page;
    this.#cdp = cdp;
    this.#gate = gate;
    this.#handlers = handlers;
    this.#opts = opts;
    this.#notices = new NoticeThrottle((code, message) => handlers.notice({ code, message }));
    this.#adaptive = opts.adaptiveQuality ? new AdaptiveQuality({ ...opts.adaptiveTuning, quality: opts.jpegQuality, width: opts.viewport.width, height: opts.viewport.height }) : null;
    this.#loop = new CaptureLoop(
      cdp,
      gate,
      { frame: (f, to) => handlers.frame(f, to), withheld: (r) => handlers.withheld(r), unresponsive: () => this.#lost('page_unresponsive') },
      {
        viewport: opts.viewport,
        quality: opts.jpegQuality,
        wants: () => this.#audiences,
        adaptive: this.#adaptive,
        turn: frameTurn(lease.page.browser()),
      },
    );
    this.#pageInput = new PageInput(cdp, this.#loop);
  }

  /** Wires the leased page up and starts capturing; the page is still blank. */
  static async open(lease: PageLease, handlers: PageEvents, opts: SessionPageOptions): Promise<CdpSessionPage> {
    const cdp = await lease.page.createCDPSession();
    let gate: FrameGate | undefined;
    try {
      gate = await opts.createGate(lease.page);
      const sp = new CdpSessionPage(lease, cdp, gate, handlers, opts);
      await sp.#wire();
      return sp;
    } catch (e) {
      await gate?.close().catch(() => undefined);
      await cdp.detach().catch(() => undefined);
      throw e;
    }
  }

  get policy(): PolicyStamp {
    return this.#gate.policy;
  }

  closedReason(): string | null {
    return this.#gate.closedReason();
  }

  focusIsMasked(): Promise<boolean> {
    return this.#gate.focusIsMasked();
  }

  get url(): string {
    return this.#lastUrl;
  }

  get captureStats(): CaptureStats {
    return this.#loop.stats;
  }

  /**
   * Who may see frames now. Nobody: no captures at all. Customer only: unmasked captures. Staff:
   * masked, sealed captures too. The session calls this whenever consent, pause or presence change.
   */
  setAudiences(a: { customer: boolean; staff: boolean }): void {
    const grew = (a.customer && !this.#audiences.customer) || (a.staff && !this.#audiences.staff);
    this.#audiences = { ...a };
    if (grew) this.#loop.resend();
  }

  // ---- the customer's device (device-emulation.ts) -------------------------------------------

  #device: DeviceEmulation | null = null;
  #viewport: Viewport | null = null;
  #focus: FocusMessage = { type: 'focus', editable: false };
  #focusKey = '';
  readonly #focusListeners = new Set<(f: FocusMessage) => void>();
  #focusTimer: NodeJS.Timeout | null = null;

  /** The page's CSS viewport now (the configured one until a device is emulated). */
  get viewport(): Viewport {
    return this.#viewport ?? this.#opts.viewport;
  }

  /**
   * Emulates the customer's device: its viewport, mobile layout, touch and user agent. Frames
   * carry the new viewport from the next capture on (it works under begin-frame control: the
   * capture loop is told the size, and the compositor draws the emulated view).
   */
  async emulate(d: Device): Promise<{ viewport: Viewport; userAgentChanged: boolean }> {
    this.#device ??= new DeviceEmulation(this.#cdp, () => this.#page.browser().userAgent());
    const r = await this.#device.apply(d, (v) => {
      this.#viewport = v;
      this.#loop.setViewport(v);
    });
    this.#armFocusWatch();
    return r;
  }

  /** Whether the page emulates a touch device now (touch input is accepted only then). */
  get touchEmulated(): boolean {
    return this.#device?.touch ?? false;
  }

  /** Whether an editable element has focus (for a touch client's keyboard); told on change only. */
  onFocus(listener: (f: FocusMessage) => void): () => void {
    this.#focusListeners.add(listener);
    return () => this.#focusListeners.delete(listener);
  }

  get focus(): FocusMessage {
    return this.#focus;
  }

  /** Looks at the focus now (after an input, a navigation) and once a second while touch is emulated. */
  #armFocusWatch(): void {
    if (this.#focusTimer || !this.#device?.touch) return;
    this.#focusTimer = setInterval(() => void this.#checkFocus(), 1000);
    this.#focusTimer.unref();
    this.#cleanups.push(() => {
      if (this.#focusTimer) clearInterval(this.#focusTimer);
    });
    void this.#checkFocus();
  }

  async #checkFocus(): Promise<void> {
    if (this.#closed || !this.#device?.touch) return;
    const f = await this.#device.focus();
    const key = JSON.stringify(f);
    if (this.#closed || key === this.#focusKey) return;
    this.#focusKey = key;
    this.#focus = f;
    for (const l of this.#focusListeners) l(f);
  }

  /** Fresh frames for everyone watching, even if nothing changed (a participant joined). */
  refresh(): void {
    this.#loop.resend();
  }

  async #wire(): Promise<void> {
    const page = this.#page;
    const cdp = this.#cdp;

    this.#lease.onBrowserLost(() => this.#lost('browser_crashed'));
    const onPageError = (e: Error) => {
      // A renderer that dies just after it reported a heap near its budget ran out of memory.
      if (/crash/i.test(e.message)) this.#lost(this.#memory?.suspect() ? 'page_memory' : 'page_crashed');
    };
    page.on('error', onPageError);
    this.#cleanups.push(() => page.off('error', onPageError));

    const onDialog = (dialog: { type(): string; dismiss(): Promise<void>; accept(): Promise<void> }) => {
      const type = dialog.type();
      // The dialog's text may carry page data, so participants learn only that one appeared.
      if (type === 'beforeunload') {
        // Dismissing "leave this page?" would mean "stay": the page would cancel the navigation a
        // participant asked for. Every navigation in a session comes from a participant or from the
        // page itself, so leaving always proceeds.
        dialog.accept().catch(() => undefined);
        this.#notices.notice('DIALOG_DISMISSED', 'The page asked to confirm leaving it; the navigation went ahead.');
        return;
      }
      dialog.dismiss().catch(() => undefined);
      this.#notices.notice('DIALOG_DISMISSED', `The page opened ${type === 'alert' ? 'an alert' : `a ${type}`} dialog; it was dismissed.`);
    };
    page.on('dialog', onDialog);
    this.#cleanups.push(() => page.off('dialog', onDialog));
    this.#unsubscribeUnused(page);

    const onFrameNavigated = (frame: { parentFrame(): unknown; url(): string }) => {
      if (frame.parentFrame() !== null) return;
      this.#lastUrl = frame.url();
      this.#pageInput.documentChanged();
      // A new document is news even if it looks the same as the last one: send it.
      this.#loop.resend();
      void this.#reportNavigation();
    };
    page.on('framenavigated', onFrameNavigated);
    this.#cleanups.push(() => page.off('framenavigated', onFrameNavigated));
    const onLoad = () => {
      // The parsed document is drawn only at the next picture; input waits for it (see input()).
      this.#pageInput.documentChanged();
      void this.#reportNavigation();
    };
    page.on('domcontentloaded', onLoad);
    this.#cleanups.push(() => page.off('domcontentloaded', onLoad));
    // What a new document paints after its first picture without changing the DOM (system fonts
    // becoming ready, images decoding, layout settling) rings no doorbell, and a still page is
    // looked at again only seconds later: look again shortly after it loaded, so nobody keeps a
    // first picture that was not yet complete.
    const onFullLoad = () => {
      for (const ms of [100, 400, 1200]) {
        const t = setTimeout(() => this.#loop.nudge(), ms);
        t.unref();
      }
    };
    page.on('load', onFullLoad);
    this.#cleanups.push(() => page.off('load', onFullLoad));

    // Titles change without navigation (single-page apps, scripts); look for that now and then,
    // but only after a document changed (a new title is a DOM change, which rings the doorbell):
    // a still page is asked nothing.
    let changed = true;
    let polls = 0;
    this.#cleanups.push(this.#gate.onActivity(() => (changed = true)));
    const titlePoll = setInterval(() => {
      // Every 10 s anyway: a gate without a doorbell (no policy) says nothing.
      if (!changed && ++polls % 10 !== 0) return;
      changed = false;
      void this.#reportNavigation();
    }, 1000);
    titlePoll.unref();
    this.#cleanups.push(() => clearInterval(titlePoll));

    // Workers, service workers, prerenders and popups are confined before they run, and the
    // context's egress route applies the same lists to everything else (target-guard.ts, egress-proxy.ts).
    const filter = this.#opts.subresourceFilter ?? null;
    this.#cleanups.push(
      await guardTargets(page, {
        filter,
        // Chromium's flags keep both off browser-wide (chromium-args.ts); no policy turns them on.
        serviceWorkers: false,
        speculation: false,
        refused: () => this.#refusedRequest(),
        stopped: (kind) =>
          this.#notices.notice(
            'NAVIGATION_FAILED',
            kind === 'service_worker' ? 'The page tried to start a service worker; service workers are off in sessions.' : 'The page tried to prerender a page; prerendering is off in sessions.',
          ),
        popup: (url) => this.#onPopup(url),
      }),
    );
    this.#lease.bindEgress({ filter, refuseSpeculative: true, onRefused: () => this.#refusedRequest() });

    const files = this.#opts.files;
    cdp.on('Page.fileChooserOpened', (e) => {
      if (!files?.chooserOpened(e)) this.#notices.notice('FILE_CHOOSER_REFUSED', 'The page asked for a file; uploads are not allowed.');
    });
    const downloadDir = (await files?.downloadDir()) ?? null;
    if (downloadDir) await this.#allowDownloads(downloadDir, files!);
    else cdp.on('Page.downloadWillBegin', () => this.#notices.notice('DOWNLOAD_REFUSED', 'The page started a download; downloads are not allowed.'));
    this.#cleanups.push(() => this.#notices.close());
    cdp.on('Fetch.requestPaused', (e) => void this.#onDocumentRequest(e));
    // A new main document (not a same-document navigation, not one restored whole from the
    // back-forward cache) is being parsed until its DOMContentLoaded.
    cdp.on('Page.frameNavigated', (e) => {
      if (!e.frame.parentId && e.type !== 'BackForwardCacheRestore') this.#pageInput.parsing();
    });
    cdp.on('Page.domContentEventFired', () => this.#pageInput.parsed());
    this.#cleanups.push(() => this.#pageInput.parsed());
    const unsubscribe = this.#gate.onChange(() => {
      const reason = this.#gate.closedReason();
      this.#handlers.gate(reason);
      // A huge document takes seconds to scan (staff see the placeholder meanwhile): say so.
      if (reason?.includes('being prepared')) this.#notices.notice('PAGE_PREPARING', 'The page is large; it is being checked for private data before staff can see it.');
      // Staff were kept waiting: capture for them as soon as the gate opens.
      if (reason === null) this.#loop.resend();
    });
    this.#cleanups.push(unsubscribe);
    // A document that changed (even only inside its masks) may change the customer's picture.
    this.#cleanups.push(this.#gate.onActivity(() => this.#loop.nudge()));
    this.#cleanups.push(this.#gate.onCopy((text) => this.#handlers.copied(text)));
    // What paints without changing the DOM is announced too, so that a still page can tick
    // slowly (capture-loop.ts idlePeriod): a response that arrived (an image, a font, data a
    // script draws) and an animation or transition that started.
    const nudge = () => this.#loop.nudge();
    page.on('requestfinished', nudge);
    page.on('requestfailed', nudge);
    cdp.on('Animation.animationStarted', nudge);
    this.#cleanups.push(() => {
      page.off('requestfinished', nudge);
      page.off('requestfailed', nudge);
      cdp.off('Animation.animationStarted', nudge);
    });

    await Promise.all([
      cdp.send('Page.enable'),
      cdp.send('Page.setInterceptFileChooserDialog', { enabled: true }),
      cdp.send('Animation.enable'),
      // Many sessions share a browser and only one page can have real focus; every session's
      // page must behave as focused (autofocus, caret, focus events) for its participants.
      cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true }),
      cdp.send('Fetch.enable', {
        patterns: this.#opts.subresourceFilter ? [{ urlPattern: '*', requestStage: 'Request' }] : [{ urlPattern: '*', resourceType: 'Document', requestStage: 'Request' }],
      }),
    ]);
    this.#loop.start();
    this.#watchLiveness();
    this.#watchMemory();
    if (this.#adaptive) {
      const adaptive = this.#adaptive;
      const unsubscribeCpu = this.#opts.cpu.onSample((busy) => {
        adaptive.cpu(busy);
        adaptive.evaluate(Date.now());
      });
      this.#cleanups.push(unsubscribeCpu);
    }
  }

  /**
   * A bounded liveness probe: the page's renderer is asked to evaluate nothing every 2 s. A
   * renderer stuck in a script never answers; after UNRESPONSIVE_MS the session ends with
   * `page_unresponsive` and closing it frees the renderer. Any answer counts, an error too (a
   * page between documents has no context to evaluate in, but its renderer answered).
   */
  #watchLiveness(): void {
    let askedAt = 0;
    const timer = setInterval(() => {
      if (this.#closed) return;
      if (askedAt) {
        if (Date.now() - askedAt >= UNRESPONSIVE_MS) {
          clearInterval(timer);
          this.#lost('page_unresponsive');
        }
        return;
      }
      // The memory watch's probe is answered by the same renderer thread: a fresh answer from it
      // is proof enough, and an idle session sends one question less (each crosses the pipe).
      const heard = this.#memory?.last?.at ?? 0;
      if (Date.now() - heard < 2000) return;
      askedAt = Date.now();
      this.#cdp.send('Runtime.evaluate', { expression: '0', returnByValue: true }).then(
        () => (askedAt = 0),
        () => (askedAt = 0),
      );
    }, 2000);
    timer.unref();
    this.#cleanups.push(() => clearInterval(timer));
  }

  #memory: MemoryWatch | null = null;
  #browserCdp: CDPSession | null = null;

  /**
   * Downloads of this context (only) land in the session's directory under their guid
   * (allowAndName), reported on a browser-level session; the pool's default stays "deny".
   */
  async #allowDownloads(dir: string, files: PageFiles): Promise<void> {
    const b = await this.#page.browser().target().createCDPSession();
    this.#browserCdp = b;
    const contextId = this.#lease.context.id;
    // Chromium reports to this session the downloads of the context it set the behaviour for.
    b.on('Browser.downloadWillBegin', (e) => files.downloadWillBegin(e));
    b.on('Browser.downloadProgress', (e) => files.downloadProgress(e));
    await b.send('Browser.setDownloadBehavior', { behavior: 'allowAndName', browserContextId: contextId, downloadPath: dir, eventsEnabled: true });
    this.#cleanups.push(() => void b.detach().catch(() => undefined));
  }

  /** Sets the file the customer chose (scanned) on the page's file input (document handoff). */
  async setInputFiles(backendNodeId: number, paths: string[]): Promise<void> {
    await this.#cdp.send('DOM.setFileInputFiles', { files: paths, backendNodeId });
    this.inputApplied();
  }

  /** Stops a download the handoff refused (type, size). */
  async cancelDownload(guid: string): Promise<void> {
    await this.#browserCdp?.send('Browser.cancelDownload', { guid, browserContextId: this.#lease.context.id });
  }

  /**
   * Never subscribe to what is not used: every event a page can cause crosses the CDP pipe that
   * all sessions of the browser share. Documents' consoles are silenced in the page (quiet.js);
   * workers get no preload script, so their Runtime domain (console events, enabled by
   * puppeteer for workers' evaluate, which Vitrine never calls) is switched off; and the page's
   * Log and Performance domains (browser log entries, one per failed request of a flood; the
   * metrics of page.metrics()) are switched off on puppeteer's session.
   */
  #unsubscribeUnused(page: Page): void {
    const primary = (page as unknown as { _client?: () => CDPSession })._client?.();
    if (primary) {
      void primary.send('Log.disable').catch(() => undefined);
      void primary.send('Performance.disable').catch(() => undefined);
    }
    // A worker's console messages are posted to its document and on to the browser process, one
    // by one, whatever CDP listens: silence its console as it starts (a worker that never yields
    // runs its flood until the session ends; see docs/reliability.md).
    const onWorker = (worker: { client: CDPSession }) => {
      void worker.client.send('Runtime.evaluate', { expression: QUIET }).catch(() => undefined);
      void worker.client.send('Runtime.disable').catch(() => undefined);
    };
    page.on('workercreated', onWorker);
    this.#cleanups.push(() => page.off('workercreated', onWorker));
  }

  /** The session's memory budget, watched once a second (memory-watch.ts); past it the session ends. */
  #watchMemory(): void {
    const mb = this.#opts.memoryBudgetMb;
    if (!mb) return;
    const watch = new MemoryWatch(this.#cdp, { budgetBytes: mb * 1024 * 1024, exceeded: () => this.#lost('page_memory') });
    this.#memory = watch;
    watch.start();
    this.#cleanups.push(() => watch.close());
  }

  /** One staff picture of the page as it is (policy preview); null when it could not be sealed. */
  staffStill(format: 'png' | 'jpeg'): Promise<Buffer | null> {
    return this.#loop.staffStill(format);
  }

  /** One sealed staff frame of the page as it is now, within `boundMs`, or null (the recording's last frame). */
  async finalStaffFrame(boundMs = 1000): Promise<CapturedFrame | null> {
    const capturedAt = Date.now();
    const jpeg = await Promise.race([this.#loop.staffStill('jpeg', this.#opts.jpegQuality), new Promise<null>((r) => setTimeout(() => r(null), boundMs).unref())]);
    const { width, height } = this.viewport;
    return jpeg ? { jpeg, capturedAt, width, height, quality: this.#opts.jpegQuality, viewport: { width, height } } : null;
  }

  async #onDocumentRequest(e: { requestId: string; request: { url: string }; resourceType: string }): Promise<void> {
    if (e.resourceType !== 'Document') {
      // Subresources: the egress proxy checks addresses; here only the policy's lists apply.
      const ok = /^(data|blob):/.test(e.request.url) || (this.#opts.subresourceFilter?.(e.request.url) ?? true);
      await this.#cdp.send(ok ? 'Fetch.continueRequest' : 'Fetch.failRequest', ok ? { requestId: e.requestId } : { requestId: e.requestId, errorReason: 'BlockedByClient' }).catch(() => undefined);
      if (!ok) this.#refusedRequest();
      return;
    }
    try {
      await this.#opts.checkUrl(e.request.url);
      await this.#cdp.send('Fetch.continueRequest', { requestId: e.requestId });
    } catch (err) {
      const why = err instanceof VitrineError ? err.message : 'refused';
      // A 204 answer cancels a navigation without committing an error page: the frame stays
      // on the page it had (a failed request would replace it with Chromium's error page).
      await this.#cdp.send('Fetch.fulfillRequest', { requestId: e.requestId, responseCode: 204, responseHeaders: [{ name: 'Cache-Control', value: 'no-store' }] }).catch(() => undefined);
      if (!this.#closed) this.#handlers.notice({ code: 'NAVIGATION_FAILED', message: `Navigation refused: ${why}`, refused: 'navigation' });
    }
  }

  /** A request the session's lists refused, wherever it was caught; told once per window. */
  #refusedRequest(): void {
    // The address may carry page data (a query string): participants learn only that it happened.
    if (!this.#closed) this.#notices.notice('NAVIGATION_FAILED', "The page tried to reach an address the session's policy does not allow; it was refused.");
  }

  /** A popup was closed before it loaded anything (target-guard.ts); its address is loaded here. */
  #onPopup(url: string): void {
    if (this.#closed) return;
    const refused = () => this.#notices.notice('POPUP_REFUSED', 'The page opened a new window; it was closed.');
    if (!url) return refused();
    // Checked like any navigation before anyone is told it was loaded here.
    this.#opts.checkUrl(url).then(() => {
      if (this.#closed) return;
      this.#notices.notice('POPUP_REDIRECTED', 'The page opened a new window; it was loaded here instead.');
      this.navigate(url).catch(() => undefined);
    }, refused);
  }

  #reported = '';

  async #reportNavigation(): Promise<void> {
    if (this.#closed) return;
    const title = await this.#page.title().catch(() => '');
    const url = this.#page.url();
    const key = `${url}\n${title}`;
    if (this.#closed || key === this.#reported) return;
    this.#reported = key;
    this.#handlers.navigated({ url, title });
  }

  #lost(reason: LostReason): void {
    if (this.#closed) return;
    this.#handlers.lost(reason);
  }

  /** Loads a URL in the page. Resolves once the new document has committed or failed. */
  async navigate(url: string): Promise<void> {
    await this.#opts.checkUrl(url);
    this.#goto(() => this.#page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 }));
  }

  async history(action: 'back' | 'forward' | 'reload'): Promise<void> {
    const opts = { waitUntil: 'domcontentloaded' as const, timeout: 30_000 };
    this.#goto(() => (action === 'back' ? this.#page.goBack(opts) : action === 'forward' ? this.#page.goForward(opts) : this.#page.reload(opts)));
  }

  #goto(run: () => Promise<unknown>): void {
    run().catch(async (e: Error) => {
      if (this.#closed) return;
      // A navigation superseded by another is routine; only report real failures.
      if (/net::ERR_ABORTED|Navigating frame was detached|frame got detached/i.test(e.message)) return;
      this.#handlers.notice({ code: 'NAVIGATION_FAILED', message: `The page could not be loaded: ${navigationFailure(e.message)}` });
      // Chromium shows its own error page in place of the page the customer was on: take them
      // back to where they were rather than leave them on chrome-error://.
      if (this.#page.url().startsWith('chrome-error://')) await this.#page.goBack({ waitUntil: 'domcontentloaded', timeout: 10_000 }).catch(() => undefined);
    });
  }

  /** Replays one input event; coordinates are CSS pixels already checked against the viewport. */
  async input(input: Input): Promise<void> {
    await this.#pageInput.ready();
    await this.#loop.during(this.#pageInput.dispatch(input), inputAsksForPicture(input));
  }

  #guardCheck: GuardCheck | null = null;

  /**
   * What a click at a point or a key at the focus would activate, as the browser sees it
   * (guard-check.ts), for the guarded actions of server/session/guards.ts. Throws when unsure.
   */
  async guardFacts(where: GuardWhere, selectors: string[], names: boolean): Promise<GuardFacts> {
    if (this.#closed) throw new Error('the page is closed');
    this.#guardCheck ??= new GuardCheck(this.#cdp);
    return this.#guardCheck.facts(where, selectors, names);
  }

  /** An input was applied: capture at once rather than at the next tick. */
  inputApplied(): void {
    this.#loop.kick();
    // A tap or a key may have moved the focus: a touch client opens or closes its keyboard.
    if (this.#device?.touch) {
      setTimeout(() => void this.#checkFocus(), 30).unref();
      setTimeout(() => void this.#checkFocus(), 250).unref();
    }
  }

  /** Stops capturing and destroys the session's browser context with all its data. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#cleanups.splice(0)) c();
    // A crashed or hung target never answers: bound every step, then drop the context anyway.
    const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    await bounded(this.#loop.close());
    await bounded(this.#gate.close());
    await bounded(this.#cdp.detach());
    await this.#lease.release();
    // The context is gone, so nothing holds the session's files any more: remove them all.
    await this.#opts.files?.close().catch(() => undefined);
  }
}

/** Chromium's net:: error of a failed navigation, in the words of the person who asked for it. */
export function navigationFailure(message: string): string {
  const code = /net::(ERR_[A-Z_]+)/.exec(message)?.[1] ?? '';
  if (/SSL|CERT/.test(code)) return 'the site did not answer securely over HTTPS (check the address, and whether the site uses https://).';
  if (code === 'ERR_NAME_NOT_RESOLVED') return 'there is no site at that address.';
  if (code === 'ERR_CONNECTION_REFUSED' || code === 'ERR_CONNECTION_RESET' || code === 'ERR_EMPTY_RESPONSE') return 'the site refused the connection or closed it.';
  if (/TIMED_OUT/.test(code) || /Navigation timeout/i.test(message)) return 'the site did not answer in time.';
  if (code === 'ERR_BLOCKED_BY_CLIENT' || code === 'ERR_ACCESS_DENIED' || code === 'ERR_TUNNEL_CONNECTION_FAILED') return 'the address is not allowed in this session.';
  return code ? `the site could not be reached (${code}).` : 'the site could not be reached.';
}
