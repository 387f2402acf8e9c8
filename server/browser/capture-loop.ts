/**
 * Two audiences from one live page. The session's page runs under begin-frame control: it
 * paints only when this loop asks (HeadlessExperimental.beginFrame), so the loop knows exactly
 * what state of the page each picture shows. Every tick:
 *
 *   probe   every document: did anything change, is anything masked in view? and one frame
 *           without a picture, whose damage flag says whether the masked view changed;
 *   unmask  every document switches its masks off → capture: the customer's frame;
 *   mask    every document switches them on and confirms → capture: the staff frame, kept only
 *           if every document still confirms afterwards and no frame came or went meanwhile.
 *
 * When nothing masked is in view one capture, with the masks on, serves both. When nothing
 * changed there is no capture at all: an idle tick costs one picture-less frame. The masks
 * are on between ticks, so whatever goes wrong leaves the page masked. Staff frames come only
 * from a sealed capture; the customer's frames go only to the customer's handler.
 */
import type { CDPSession } from 'puppeteer-core';
import type { Audience, CapturedFrame, CaptureStats } from '../core/ports.ts';
import type { Viewport } from '../protocol.ts';
import type { AdaptiveQuality } from './adaptive-quality.ts';
import type { FrameGate } from './frame-gate.ts';

export type { Audience, CapturedFrame, CaptureStats };

export interface CaptureHandlers {
  /**
   * `to` says who may see it. The loop hands a picture that serves both audiences to each in
   * turn, the customer first; a 'both' frame (captured with the masks on and confirmed) is what
   * other producers may send in one call.
   */
  frame(frame: CapturedFrame, to: Audience | 'both'): void;
  /** A staff capture was dropped, and why. */
  withheld(reason: string): void;
  /** The page has not drawn a frame asked of it for UNRESPONSIVE_MS: its renderer is stuck. */
  unresponsive?(): void;
}

/** A begin-frame unanswered this long means the page's renderer is stuck (ms). */
export const UNRESPONSIVE_MS = 10_000;

export interface CaptureOptions {
  viewport: Viewport;
  quality: number;
  /** Tick period while the page changes (ms). */
  intervalMs?: number;
  /** Tick period once the page is still (ms): anything that starts moving by itself is seen within it. */
  idleIntervalMs?: number;
  /** Who is watching now; nobody watching means no captures, only picture-less frames. */
  wants(): { customer: boolean; staff: boolean };
  /** Optional load adaptation: lower quality and a slower tick under sustained saturation. */
  adaptive?: AdaptiveQuality | null;
  /** Serialises begin-frames with the other pages of the same browser (launch.ts frameTurn). */
  turn?: <T>(run: () => Promise<T>) => Promise<T>;
}

interface BeginFrameResult {
  hasDamage: boolean;
  screenshotData?: string;
}

/**
 * After this long still (ms) the idle tick slows down with the stillness: every tick costs a
 * frame of the whole page (3–4 ms of CPU in the browser and the server, measured), and a page
 * left open on a form is still for minutes. Almost every change is announced (an input, the
 * doorbell of a document, a finished request, a started animation) and kicks the loop at once;
 * the idle tick only catches what nothing announces (a canvas drawn from a timer), within
 * MAX_IDLE_MS.
 */
const LONG_STILL_MS = 2000;
const MAX_IDLE_MS = 5000;

/** The idle tick period (ms) of a page still for `stillMs`: half of it, from 1 s to MAX_IDLE_MS. */
export function idlePeriod(stillMs: number, baseMs: number): number {
  return stillMs <= LONG_STILL_MS ? baseMs : Math.min(MAX_IDLE_MS, Math.max(baseMs, stillMs / 2));
}

/** A change seen while an input is in flight waits at most this long for the input's own picture (ms). */
const DEFER_MS = 100;

/** The closest two ticks may start after an input (ms). */
const MIN_GAP_MS = 4;

/** The page counts as still, and ticks slow to the idle period, this long after its last change (ms). */
const STILL_AFTER_MS = 150;

/**
 * At most this long between two full looks at a page with masked content in view (ms), growing
 * with the stillness up to MAX_BACKSTOP_MS: what it catches (a change made while the masks were
 * being switched, which the settle frame absorbed) can only have happened at the last capture.
 */
const BACKSTOP_MS = 10_000;
const MAX_BACKSTOP_MS = 60_000;

export class CaptureLoop {
  readonly stats: CaptureStats = { ticks: 0, idleTicks: 0, customerFrames: 0, staffFrames: 0, sharedFrames: 0, staffWithheld: 0, captures: 0, blankFrames: 0 };
  readonly #cdp: CDPSession;
  readonly #gate: FrameGate;
  readonly #handlers: CaptureHandlers;
  readonly #opts: Required<Omit<CaptureOptions, 'adaptive' | 'turn'>> & { adaptive: AdaptiveQuality | null; turn: <T>(run: () => Promise<T>) => Promise<T> };
  #closed = false;
  #running: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  /**
   * An input was applied (or a picture is needed now): tick at once and capture, per audience.
   * A tick takes the kicks there are when it starts; a kick that comes during a tick is covered
   * by a capture of that tick asked for after it (the kick's cause is older than the kick), else
   * it waits for the next tick (measured before: an input applied while a tick was under way got
   * that tick's picture and then one more, identical, of its own).
   */
  readonly #kickedFor = { customer: false, staff: false };
  get #kicked(): boolean {
    return this.#kickedFor.customer || this.#kickedFor.staff;
  }
  /** Deliver a fresh frame to both audiences at the next tick, changed or not. */
  #refresh = true;
  /** Staff missed the latest change (withheld, or not watching then): capture for them when possible. */
  #staffStale = true;
  #customerStale = true;
  #lastChange = Date.now();
  #lastStaff: Buffer | null = null;
  #lastCustomer: Buffer | null = null;
  #lastFull = 0;
  /** Whether the last probe saw anything masked in view (the backstop only matters then). */
  #lastMasked = true;

  constructor(cdp: CDPSession, gate: FrameGate, handlers: CaptureHandlers, opts: CaptureOptions) {
    this.#cdp = cdp;
    this.#gate = gate;
    this.#handlers = handlers;
    this.#opts = { intervalMs: 33, idleIntervalMs: 200, adaptive: null, turn: (run) => run(), ...opts };
  }

  start(): void {
    if (this.#running) return;
    this.#watch();
    this.#running = this.#loop();
  }

  /** Input was applied (or a frame is needed now): capture at once. */
  kick(): void {
    this.#kickedFor.customer = this.#kickedFor.staff = true;
    this.#wake?.();
  }

  /**
   * A document changed (the doorbell): capture soon, but at the active pace, never faster. A page
   * that changes all the time must not set the rate itself.
   */
  nudge(): void {
    this.#nudged.customer = this.#nudged.staff = true;
    this.#wake?.();
  }

  /**
   * A nudge not yet covered by a capture, per audience. What a nudge announces happened before
   * the nudge reached the server, so a capture begun after it shows it: each capture clears the
   * flag of the audience it is for, and a nudge counts only until then (the doorbell that follows
   * an input's own change usually arrives before the input's capture, which then serves both).
   */
  readonly #nudged = { customer: false, staff: false };

  /**
   * Frames at the active pace while `work` is pending (an input being dispatched): Chromium
   * delivers continuous input (mouse and touch moves, wheel) aligned to the page's next main
   * frame, and under begin-frame control nothing draws unless this loop asks, so a still page
   * slowed to its idle period would hold the input (and every input queued behind it) that long.
   * `kicks`: a kick follows once the input is applied (every input but a pointer move).
   */
  async during<T>(work: Promise<T>, kicks = true): Promise<T> {
    this.#inFlight++;
    if (kicks && this.#kickingInFlight++ === 0) this.#kickingSince = Date.now();
    // The active pace, not a capture: the input's own capture follows its kick.
    this.#wake?.();
    try {
      return await work;
    } finally {
      this.#inFlight--;
      if (kicks && --this.#kickingInFlight === 0 && this.#deferred) {
        // Owed whatever follows: the input's kick normally comes at once and the same tick
        // serves both; an input that failed sends none.
        this.#deferred = false;
        this.#pending = true;
        this.#wake?.();
      }
    }
  }

  #inFlight = 0;
  /** Inputs in flight whose kick will follow, and since when there have been any. */
  #kickingInFlight = 0;
  #kickingSince = 0;
  /** A tick saw a change while an input was in flight and left the picture to the input's end. */
  #deferred = false;
  /** A picture for both audiences is owed at the next tick (a change seen and deferred). */
  #pending = false;

  /**
   * Whether a tick that found a change leaves its picture to the input in flight: the input's
   * kick, once its dispatch returns, takes a picture that shows the change as well, and a
   * picture taken now would be taken again (measured on the benchmark's form: 1.9 captures a
   * second per session for one picture sent). Only for input that kicks: pointer moves, which
   * come in streams and never kick, are shown as the damage flag sees them (a drag would
   * otherwise show nothing until it stops); and not for input in flight longer than DEFER_MS (a
   * loaded browser). Input that keeps coming and kicks (wheel, keys held) gets a picture at
   * least every active tick from the input family's burst rule.
   */
  #mayDefer(kicked: boolean): boolean {
    return !kicked && this.#kickingInFlight > 0 && Date.now() - this.#kickingSince < DEFER_MS;
  }

  /** Someone needs a frame now (joined, resumed, consent given). */
  refresh(): void {
    this.#refresh = true;
    this.kick();
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      const started = Date.now();
      let active: boolean;
      try {
        if (this.#stills.length) await this.#takeStills();
        active = await this.#tick();
      } catch {
        // The page is navigating, crashed or closing: the next tick tries again, and the
        // session's own crash handling ends it if it is gone.
        active = true;
      }
      if (this.#closed) break;
      // Fast ticks only while the page keeps changing (an animation, a transition): a change that
      // comes later rings the doorbell or follows an input, and either kicks the loop at once.
      const still = Date.now() - this.#lastChange > STILL_AFTER_MS;
      const slow = this.#slowdown();
      const activePeriod = this.#opts.intervalMs * slow;
      // Still for long: slower still. Almost every change rings the doorbell or follows an input;
      // the idle tick is only the safety net for what none announces (a video, canvas pixels).
      const idle = idlePeriod(Date.now() - this.#lastChange, this.#opts.idleIntervalMs);
      const period = still && !active ? idle * slow : activePeriod;
      // When the next tick may start, measured from this one's start: at once for an input (a
      // few ms apart, so that an input storm cannot starve the browser), at the active pace for
      // a change the page rang about, else after the period.
      const due = (): number => (this.#kicked ? MIN_GAP_MS : this.#nudged.customer || this.#nudged.staff || this.#inFlight > 0 ? Math.min(activePeriod, period) : period);
      if (Date.now() - started >= due()) continue;
      await new Promise<void>((resolve) => {
        let t: NodeJS.Timeout;
        const arm = () => {
          clearTimeout(t);
          t = setTimeout(
            () => {
              this.#wake = null;
              resolve();
            },
            Math.max(0, due() - (Date.now() - started)),
          );
          t.unref();
        };
        arm();
        this.#wake = arm;
      });
    }
  }

  /** Under sustained load the adaptive level stretches the tick period (frames are still whole). */
  #slowdown(): number {
    const a = this.#opts.adaptive;
    if (!a || a.level === 0) return 1;
    const s = a.settings();
    return Math.min(4, this.#opts.viewport.width / Math.max(1, s.maxWidth));
  }

  #quality(): number {
    const a = this.#opts.adaptive;
    return a ? a.settings().quality : this.#opts.quality;
  }

  async #begin(quality: number | null, covers?: Audience | 'both'): Promise<BeginFrameResult> {
    this.#beginAt = Date.now();
    try {
      return await this.#beginFrame(quality, covers);
    } finally {
      this.#beginAt = 0;
    }
  }

  /** When the pending begin-frame was asked for (0: none pending); the watchdog reads it. */
  #beginAt = 0;
  #watchdog: NodeJS.Timeout | null = null;

  #watch(): void {
    this.#watchdog = setInterval(() => {
      if (this.#closed || !this.#beginAt || Date.now() - this.#beginAt < UNRESPONSIVE_MS) return;
      if (this.#watchdog) clearInterval(this.#watchdog);
      this.#watchdog = null;
      this.#handlers.unresponsive?.();
    }, 1000);
    this.#watchdog.unref();
  }

  /** `covers`: the audiences whose pending nudges this picture shows, once it is asked for. */
  async #beginFrame(quality: number | null, covers?: Audience | 'both'): Promise<BeginFrameResult> {
    // Waiters want a drawn picture: Chromium still drops input aimed at a new document after a
    // picture-less frame (measured), not after one with a picture.
    // Taken when the picture is asked for, as the kicks it covers are (a waiter kicks).
    let waiting: (() => void)[] = [];
    const seq = quality === null ? 0 : ++this.#asked;
    try {
      const r = (await this.#opts.turn(() => {
        if (quality !== null) waiting = this.#frameWaiters.splice(0);
        // Asked for now: it draws whatever was announced before this moment.
        if (covers === 'both' || covers === 'customer') this.#nudged.customer = false;
        if (covers === 'both' || covers === 'staff') this.#nudged.staff = false;
        if (covers === 'both' || covers === 'customer') this.#kickedFor.customer = false;
        if (covers === 'both' || covers === 'staff') this.#kickedFor.staff = false;
        this.stats[quality === null ? 'blankFrames' : 'captures']++;
        return this.#cdp.send('HeadlessExperimental.beginFrame', {
          interval: this.#opts.intervalMs,
          ...(quality === null ? {} : { screenshot: { format: 'jpeg', quality, optimizeForSpeed: true } }),
        });
      })) as BeginFrameResult;
      if (seq > this.#drawnUpTo) this.#drawnUpTo = seq;
      return r;
    } finally {
      for (const w of waiting) w();
    }
  }

  readonly #frameWaiters: (() => void)[] = [];
  /** Pictures asked for so far, and the newest of them drawn (sequence numbers). */
  #asked = 0;
  #drawnUpTo = 0;

  /** A mark for drawnSince(): pictures asked for up to now do not count. */
  pictureMark(): number {
    return this.#asked;
  }

  /** Whether a picture asked for after `mark` has been drawn. */
  drawnSince(mark: number): boolean {
    return this.#drawnUpTo > mark;
  }

  /**
   * Resolves after the next picture the page draws (begun after this call), when closed, or
   * after `boundMs` at most (nobody may be watching, so no picture may come).
   */
  nextPicture(boundMs = 500): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, boundMs);
      t.unref();
      this.#frameWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
      this.kick();
    });
  }

  /** Returns whether the tick captured anything. */
  async #tick(): Promise<boolean> {
    this.stats.ticks++;
    const kickedFor = { ...this.#kickedFor };
    this.#kickedFor.customer = this.#kickedFor.staff = false;
    const want = this.#opts.wants();
    // A nudge is for those watching now: whoever joins later gets a fresh picture anyway.
    if (!want.customer) this.#nudged.customer = false;
    if (!want.staff) this.#nudged.staff = false;
    const nudgedCustomer = this.#nudged.customer;
    const nudgedStaff = this.#nudged.staff;
    const nudged = nudgedCustomer || nudgedStaff;
    const kicked = (want.customer && kickedFor.customer) || (want.staff && kickedFor.staff);
    if (!want.customer && !want.staff) {
      // Nobody may see the page: it still runs (timers, animation frames, loading), unseen.
      const r = await this.#begin(null);
      if (r.hasDamage) this.#markChanged();
      this.stats.idleTicks++;
      return false;
    }
    // The masks are on between ticks: damage here means the masked view changed. An idle tick
    // ends here, with one picture-less frame: the documents are asked nothing (a change inside a
    // mask rings the doorbell, which kicks the loop). A kick (an input applied, someone who needs
    // a picture) captures anyway: it goes straight to the pictures, one frame sooner, and counts
    // as a change for both audiences.
    const damage = kicked || (await this.#begin(null)).hasDamage;
    const adaptive = this.#opts.adaptive;
    const now = Date.now();
    // Not on an input's tick: the page is about to change, it is not still.
    const sharpMaybe = adaptive !== null && adaptive.level > 0 && !kicked && !damage && adaptive.sharpDue(now);
    // The damage flag cannot see a change that happened while the masks were being switched
    // (the settle frame absorbs it): a fresh look now and then catches what it missed.
    const backstopDue = this.#lastMasked && now - this.#lastFull > this.#backstopGap;
    const pending = this.#pending;
    this.#pending = false;
    const due = damage || pending || kicked || nudged || this.#refresh || (want.staff && this.#staffStale) || (want.customer && this.#customerStale) || sharpMaybe || backstopDue;
    if (!due) {
      this.stats.idleTicks++;
      return false;
    }
    // A tick that captures for the customer whatever the probe says asks it to switch the masks
    // off where something masked is in view, in the same round trip (the customer's latency).
    // A change found while an input is in flight waits for the input's own picture; the probe
    // then must not switch the masks off, since no capture follows it this tick.
    const deferring = this.#mayDefer(kicked);
    const customerSure = !deferring && want.customer && (damage || pending || nudgedCustomer || kicked || this.#customerStale || this.#refresh || backstopDue);
    const probe = await this.#gate.probe(customerSure);
    this.#lastMasked = probe.masked;
    // An input's effects can take a frame or two to paint: tick fast for a moment after one.
    const changed = damage || probe.changed || kicked || nudged || pending;
    if (changed) this.#markChanged();
    if (changed && deferring) {
      this.#deferred = true;
      this.stats.idleTicks++;
      return true;
    }
    const sharp = sharpMaybe && !probe.changed;
    const backstop = probe.masked && backstopDue;
    // Each look that finds the page still doubles the wait for the next (a change resets it).
    if (backstop && !changed) this.#backstopGap = Math.min(MAX_BACKSTOP_MS, this.#backstopGap * 2);
    // A nudge is a picture for both: what it announces (a finished load, an arrived image, a
    // document's doorbell) may have painted during the last settle frame, whose damage flag was
    // spent absorbing the capture's own damage; no later frame reports it, and without the nudge
    // both audiences would keep the older picture until the next change (a page without a
    // policy, whose probe sees nothing, kept a first picture lacking its last-parsed element).
    // An identical picture is not sent (#send): a nudge that changed nothing costs one capture.
    const forStaff = want.staff && (damage || pending || nudgedStaff || this.#staffStale || this.#refresh || sharp || backstop || (kicked && probe.changed));
    const forCustomer = want.customer && (damage || pending || nudgedCustomer || probe.changed || kicked || this.#customerStale || this.#refresh || sharp || backstop);
    if (!forStaff && !forCustomer) {
      this.stats.idleTicks++;
      return false;
    }
    this.#refresh = false;
    if (sharp) adaptive!.sharpSent();
    const quality = sharp ? this.#opts.quality : this.#quality();
    const level = adaptive?.level ?? 0;

    if (!probe.masked) {
      // Nothing masked in view: one capture, masks on, serves both. The customer gets it at once
      // (a masked picture never shows the customer more than their own page); staff only once
      // every document has confirmed that its masks held through the capture. The settle frame
      // comes after both: it only absorbs the capture's damage for the next tick.
      const seal = await this.#gate.mask();
      const at = Date.now();
      const shot = await this.#capture(quality, 'both');
      const frame = shot ? this.#frame(shot, at, quality) : null;
      const toCustomer = frame !== null && want.customer && this.#send(frame, 'customer');
      if (frame) this.#customerStale = false;
      const staffOk = seal !== null && (await this.#gate.confirm(seal));
      let toStaff = false;
      if (frame && want.staff) {
        if (staffOk) {
          toStaff = this.#send(frame, 'staff');
          this.#staffStale = false;
        } else this.#withhold(this.#gate.closedReason() ?? 'a document did not confirm its masks during the capture');
      }
      // One capture is one picture, whoever it went to.
      if (toCustomer && toStaff) this.stats.sharedFrames++;
      else if (toCustomer) this.stats.customerFrames++;
      else if (toStaff) this.stats.staffFrames++;
      await this.#settle();
      if (frame) adaptive?.frame(Date.now(), at, level);
      return true;
    }

    if (forCustomer) {
      // Whatever this returns, the picture is the customer's: a document that did not switch
      // off only leaves the customer a masked field for a moment.
      if (!probe.unmasked) await this.#gate.unmask();
      const at = Date.now();
      const shot = await this.#capture(quality, 'customer');
      if (shot) {
        adaptive?.frame(Date.now(), at, level);
        this.#emit(this.#frame(shot, at, quality), 'customer');
        this.#customerStale = false;
      }
    }
    const seal = await this.#gate.mask();
    if (!forStaff) {
      await this.#settle();
      if (want.staff) this.#staffStale = true;
      return true;
    }
    const at = Date.now();
    const shot = await this.#capture(quality, 'staff');
    if (forCustomer) this.#lastFull = Date.now();
    if (!seal) {
      await this.#settle();
      return this.#withhold(this.#gate.closedReason() ?? 'a document did not confirm its masks');
    }
    const ok = await this.#gate.confirm(seal);
    // Staff get the picture before the settle frame, which only absorbs the capture's damage.
    if (ok && shot) {
      this.#emit(this.#frame(shot, at, quality), 'staff');
      this.#staffStale = false;
    }
    await this.#settle();
    if (!ok) return this.#withhold(this.#gate.closedReason() ?? 'a document changed during the capture');
    return true;
  }

  /**
   * After a picture, or after the masks were switched, the first frame always reports damage.
   * One picture-less frame with the masks on absorbs it, so that the next tick's damage flag
   * means a change.
   */
  async #settle(): Promise<void> {
    await this.#begin(null);
  }

  #markChanged(): void {
    this.#lastChange = Date.now();
    this.#backstopGap = BACKSTOP_MS;
  }

  #backstopGap = BACKSTOP_MS;

  #withhold(reason: string): true {
    this.stats.staffWithheld++;
    this.#staffStale = true;
    this.#handlers.withheld(reason);
    return true;
  }

  async #capture(quality: number, covers: Audience | 'both'): Promise<Buffer | null> {
    const r = await this.#begin(quality, covers);
    // No picture while the renderer starts up or navigates: nothing to send this tick.
    return r.screenshotData ? Buffer.from(r.screenshotData, 'base64') : null;
  }

  #frame(jpeg: Buffer, capturedAt: number, quality: number): CapturedFrame {
    // The picture's own size (one image pixel per CSS pixel): a capture begun just before the
    // viewport changed shows the old size, and its header must say so.
    const { width, height } = jpegSize(jpeg) ?? this.#opts.viewport;
    return { jpeg, capturedAt, width, height, quality, viewport: { width, height } };
  }

  /**
   * The page now has another viewport (device emulation, session-page.ts): frames say so from the
   * next capture on, and that capture goes out to everyone even if it looks the same.
   */
  setViewport(v: Viewport): void {
    this.#opts.viewport = { width: v.width, height: v.height };
    this.resend();
  }

  /** Sends a picture of its own to one audience. */
  #emit(frame: CapturedFrame, to: Audience): void {
    if (this.#send(frame, to)) this.stats[to === 'customer' ? 'customerFrames' : 'staffFrames']++;
  }

  /** Hands the picture to one audience; false when it is the same as their last (or the loop closed). */
  #send(frame: CapturedFrame, to: Audience): boolean {
    if (this.#closed) return false;
    // An identical picture tells nobody anything: keep the socket quiet.
    const last = to === 'customer' ? this.#lastCustomer : this.#lastStaff;
    if (to === 'customer') this.#lastCustomer = frame.jpeg;
    else this.#lastStaff = frame.jpeg;
    if (last && last.equals(frame.jpeg)) return false;
    this.#handlers.frame(frame, to);
    return true;
  }

  /** Forget the last pictures: the next capture goes out even if it looks the same (a new joiner). */
  resend(): void {
    this.#lastStaff = null;
    this.#lastCustomer = null;
    this.refresh();
  }

  /**
   * One staff picture at the loop's next turn (policy preview), sealed like every staff frame:
   * null if it could not be. Taken inside the loop so that no two begin-frames overlap.
   */
  staffStill(format: 'png' | 'jpeg', quality?: number): Promise<Buffer | null> {
    return new Promise((resolve) => {
      this.#stills.push({ format, quality, resolve });
      this.kick();
    });
  }

  readonly #stills: { format: 'png' | 'jpeg'; quality?: number; resolve: (b: Buffer | null) => void }[] = [];

  async #takeStills(): Promise<void> {
    for (const still of this.#stills.splice(0)) {
      try {
        const seal = await this.#gate.mask();
        const r = (await this.#opts.turn(() =>
          this.#cdp.send('HeadlessExperimental.beginFrame', {
            interval: this.#opts.intervalMs,
            screenshot: { format: still.format, ...(still.format === 'jpeg' && still.quality ? { quality: still.quality } : {}) },
          }),
        )) as BeginFrameResult;
        still.resolve(seal && (await this.#gate.confirm(seal)) && r.screenshotData ? Buffer.from(r.screenshotData, 'base64') : null);
      } catch {
        still.resolve(null);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const still of this.#stills.splice(0)) still.resolve(null);
    for (const w of this.#frameWaiters.splice(0)) w();
    this.#wake?.();
    await this.#running?.catch(() => undefined);
  }
}

/** Width and height from a JPEG's start-of-frame marker; null when it has none. */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | null {
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) return null;
    const marker = jpeg[i + 1]!;
    const length = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (jpeg[i + 5]! << 8) | jpeg[i + 6]!, width: (jpeg[i + 7]! << 8) | jpeg[i + 8]! };
    }
    i += 2 + length;
  }
  return null;
}
