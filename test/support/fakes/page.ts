/**
 * A session page without a browser (the SessionPage port of server/core/ports.ts): it records
 * what the session asked of it, and the test plays the page's side through `events` (frames,
 * notices, navigations, a lost renderer) exactly as the CDP page would.
 */
import jpeg from 'jpeg-js';
import type { CapturedFrame, CaptureStats, GuardFacts, PageEvents, PageOpenOptions, PolicyStamp, SessionPage, SessionPageFactory } from '../../../server/core/ports.ts';
import type { Device, FocusMessage, Input, Viewport } from '../../../server/protocol.ts';

export class FakePage implements SessionPage {
  policy: PolicyStamp = { name: 'default', version: 'test-1' };
  url = 'about:blank';
  viewport: Viewport;
  touchEmulated = false;
  focus: FocusMessage = { type: 'focus', editable: false };
  readonly captureStats: CaptureStats = { ticks: 0, idleTicks: 0, customerFrames: 0, staffFrames: 0, sharedFrames: 0, staffWithheld: 0, captures: 0, blankFrames: 0 };
  /** Set by the factory: the session's side of the page's reports. */
  events: PageEvents | null = null;
  /** Why the redaction gate is closed, or null when it is open. */
  gateReason: string | null = null;
  /** Whether the focused element is masked (agents may not type then). */
  focusMasked = false;
  guardFactsResult: GuardFacts = { paths: [] };

  audiences = { customer: false, staff: false };
  readonly audienceLog: { customer: boolean; staff: boolean }[] = [];
  readonly navigations: string[] = [];
  readonly history_: string[] = [];
  readonly inputs: Input[] = [];
  readonly emulated: Device[] = [];
  refreshes = 0;
  inputsApplied = 0;
  closed = false;
  readonly #focusListeners = new Set<(f: FocusMessage) => void>();

  constructor(viewport: Viewport = { width: 800, height: 600 }) {
    this.viewport = viewport;
  }

  closedReason(): string | null {
    return this.gateReason;
  }

  async focusIsMasked(): Promise<boolean> {
    return this.focusMasked;
  }

  onFocus(listener: (f: FocusMessage) => void): () => void {
    this.#focusListeners.add(listener);
    return () => this.#focusListeners.delete(listener);
  }

  /** The page's focus changed (a touch client opens or closes its keyboard). */
  focusChanged(f: FocusMessage): void {
    this.focus = f;
    for (const l of this.#focusListeners) l(f);
  }

  setAudiences(a: { customer: boolean; staff: boolean }): void {
    this.audiences = { ...a };
    this.audienceLog.push({ ...a });
  }

  refresh(): void {
    this.refreshes++;
  }

  inputApplied(): void {
    this.inputsApplied++;
  }

  async navigate(url: string): Promise<void> {
    this.navigations.push(url);
  }

  async history(action: 'back' | 'forward' | 'reload'): Promise<void> {
    this.history_.push(action);
  }

  async input(input: Input): Promise<void> {
    this.inputs.push(input);
  }

  async emulate(d: Device): Promise<{ viewport: Viewport; userAgentChanged: boolean }> {
    this.emulated.push(d);
    this.viewport = { width: d.width, height: d.height };
    return { viewport: this.viewport, userAgentChanged: false };
  }

  async guardFacts(): Promise<GuardFacts> {
    return this.guardFactsResult;
  }

  async finalStaffFrame(): Promise<CapturedFrame | null> {
    return null;
  }

  async setInputFiles(): Promise<void> {}

  async cancelDownload(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Hands out FakePages and keeps them, with what the session opened them with. */
export class FakePageFactory implements SessionPageFactory {
  readonly opened: { page: FakePage; opts: PageOpenOptions }[] = [];
  /** When set, the next open fails with it (a browser that could not give a page). */
  failNext: Error | null = null;

  async open(events: PageEvents, opts: PageOpenOptions): Promise<SessionPage> {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    const page = new FakePage();
    page.events = events;
    this.opened.push({ page, opts });
    return page;
  }

  get last(): FakePage {
    const o = this.opened.at(-1);
    if (!o) throw new Error('no page was opened');
    return o.page;
  }
}

/** A real (tiny, solid grey) JPEG, as a capture of the page would carry. */
export function capturedFrame(at: number, viewport: Viewport = { width: 800, height: 600 }): CapturedFrame {
  const width = 16;
  const height = 12;
  const data = Buffer.alloc(width * height * 4, 128);
  const bytes = jpeg.encode({ data, width, height }, 80).data;
  return { jpeg: Buffer.from(bytes), capturedAt: at, width, height, quality: 80, viewport };
}
