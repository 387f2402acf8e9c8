/**
 * A co-browsing session: its state machine (waiting → live → ended), its participants, who
 * holds control, and the frame fan-out. Every participant message passes the permissions table
 * (permissions.ts) and then goes to the handler of its family (handlers/); one bad message is
 * refused with a code and never takes the session down. What happens is emitted as typed events
 * (events.ts) that the audit trail and the recording subscribe to. The page, the audit trail,
 * the recording and time reach it only through the ports of server/core/ports.ts.
 */
import type { SessionClaims } from '../auth/session-tokens.ts';
import {
  realClock,
  type Audience,
  type AuditTrail,
  type CapturedFrame,
  type Clock,
  type PageNotice,
  type PolicyStamp,
  type SessionPage,
  type SessionRecorder,
  type TimerHandle,
  type UrlCheck,
} from '../core/ports.ts';
import { CloseCodes, VitrineError, isVitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ConsentInfo, EndReason, NavigationProposal, NoticeCode, ServerMessage, SessionSnapshot, SessionState, Viewport } from '../protocol.ts';
import type { SessionMetrics } from '../metrics.ts';
import type { ClipboardPolicy, GuardRule } from '../policy/schema.ts';
import { CustomerAccess } from './customer-access.ts';
import { END_MESSAGES } from './end-messages.ts';
import { SessionEvents, recordEvents, refusalEvents } from './events.ts';
import { FrameFanout, laneOf } from './frame-fanout.ts';
import { consentHandlers } from './handlers/consent.ts';
import type { ControlState, Message, MessageHandlers } from './handlers/context.ts';
import { controlHandlers } from './handlers/control.ts';
import { inputFamily, type InputFamily } from './handlers/input.ts';
import { join, leave, type MembershipContext } from './handlers/membership.ts';
import { navigationHandlers } from './handlers/navigation.ts';
import { presenceHandlers } from './handlers/presence.ts';
import { sharingHandlers } from './handlers/sharing.ts';
import { Notices } from './notices.ts';
import type { Participant } from './participant.ts';
import { authorize } from './permissions.ts';
import { DEFAULT_WATERMARK, StaffWatermark, type WatermarkMode, type WatermarkStats } from './watermark.ts';
import { Shield } from './shield.ts';
import { StateBroadcast } from './state-broadcast.ts';
import { staffLabel } from './views.ts';

export interface SessionInit {
  id: string;
  url: string;
  createdBy: { sub: string; name: string };
  viewport: Viewport;
  page: SessionPage;
  log: Logger;
  company: string;
  inviteExpiresAt: number;
  inviteJti: string;
  maxDurationMs: number;
  idleMs: number;
  customerGraceMs: number;
  verificationCode: boolean;
  masked: string[];
  recorded: boolean;
  /** Forensic marks in staff frames (policy `watermark`; default corner). */
  watermark?: WatermarkMode;
  /** Opens the encrypted recording when the customer has accepted a recorded session. */
  startRecording(): SessionRecorder;
  audit: AuditTrail;
  metrics: SessionMetrics;
  checkUrl: UrlCheck;
  /** Mints the customer's next reconnect token. */
  mintReconnect(): Promise<{ token: string; jti: string }>;
  onEnded(session: Session): void;
  /** The policy's guarded actions for an address (server/session/guards.ts); none when absent. */
  guards?: (url: string) => GuardRule[];
  /** Who may paste, and where copies go (server/session/clipboard.ts); defaults when absent. */
  clipboard?: ClipboardPolicy;
  /** Every timer and time stamp of the session; the real clock unless a test gives a fake one. */
  clock?: Clock;
}

/** Warnings go out this long before an idle or duration limit ends the session. */
export const END_WARNING_MS = 60_000;

export class Session {
  readonly id: string;
  readonly createdBy: { sub: string; name: string };
  readonly createdAt: number;
  readonly inviteExpiresAt: number;
  /** What happens in the session; the audit trail and the recording listen (events.ts). */
  readonly events = new SessionEvents();
  #state: SessionState = 'waiting';
  #endReason: EndReason | null = null;
  readonly #participants = new Map<string, Participant>();
  readonly #access: CustomerAccess;
  #paused = false;
  #lastActivity: number;
  #idleWarned = false;
  readonly #control: ControlState = { holder: null, requests: new Set() };
  #url: string;
  #title = '';
  readonly #page: SessionPage;
  readonly #log: Logger;
  readonly #init: SessionInit;
  readonly #clock: Clock;
  readonly #timers = new Set<TimerHandle>();
  #customerGrace: TimerHandle | null = null;
  #ending: Promise<void> | null = null;
  readonly #frames: FrameFanout;
  readonly #watermark: StaffWatermark | null = null;
  #recorder: SessionRecorder | null = null;
  readonly #notices: Notices;
  readonly #input: InputFamily;
  readonly #handlers: MessageHandlers;
  readonly #navigation: { proposal: NavigationProposal | null } = { proposal: null };
  readonly #shield: Shield;
  readonly #broadcast: StateBroadcast;
  readonly #membership: MembershipContext;

  constructor(init: SessionInit) {
    this.#clock = init.clock ?? realClock;
    this.createdAt = this.#clock.now();
    this.#lastActivity = this.createdAt;
    this.id = init.id;
    this.createdBy = init.createdBy;
    this.inviteExpiresAt = init.inviteExpiresAt;
    this.#url = init.url;
    this.#page = init.page;
    this.#log = init.log.child({ session: init.id });
    this.#init = init;
    this.#frames = new FrameFanout(init.viewport, init.metrics);
    const watermark = init.watermark ?? DEFAULT_WATERMARK;
    if (watermark !== 'off') {
      this.#watermark = new StaffWatermark(watermark, init.id);
      this.#watermark.onError = (e) => this.#log.error({ err: String(e) }, 'a staff frame could not be watermarked; not sent');
      this.#frames.setStaffMarker(this.#watermark);
    }
    recordEvents(this.events, { session: init.id, audit: init.audit, policy: () => this.#page.policy, recorder: () => this.#recorder });
    this.#timer(init.inviteExpiresAt - this.#clock.now(), () => {
      if (this.#state === 'waiting') void this.end('expired');
    });
    this.#timer(init.maxDurationMs - END_WARNING_MS, () => this.onNotice('ENDING_SOON', 'The session reaches its time limit in one minute.'));
    this.#timer(init.maxDurationMs, () => void this.end('expired'));
    this.#access = new CustomerAccess({ inviteJti: init.inviteJti, graceMs: init.customerGraceMs, verificationCode: init.verificationCode });
    const idleCheck = this.#clock.setInterval(() => this.#checkIdle(), Math.min(5000, Math.max(250, init.idleMs / 20)));
    this.#timers.add(idleCheck);
    // The customer's client opens its keyboard when an editable element has focus: only it is told.
    this.#page.onFocus?.((f) => {
      for (const p of this.#participants.values()) if (p.role === 'customer') p.send(f);
    });
    this.#notices = new Notices({ participants: () => this.#participants.values(), paused: () => this.#paused, clock: this.#clock });
    this.#shield = new Shield({ clock: this.#clock, log: this.#log, closedReason: () => this.#page.closedReason(), ended: () => this.#state === 'ended', changed: () => this.#broadcastState() });
    this.#broadcast = new StateBroadcast({ snapshot: () => this.snapshot(), participants: () => this.#participants.values(), paused: () => this.#paused });
    const ctx = this.#context();
    this.#membership = ctx;
    this.#input = inputFamily(ctx);
    this.#handlers = {
      ...consentHandlers(ctx),
      ...controlHandlers(ctx),
      ...navigationHandlers(ctx),
      ...sharingHandlers(ctx),
      ...presenceHandlers(ctx),
      ...this.#input.handlers,
    };
  }

  /** What the handlers may read and change (handlers/context.ts): one object for every family. */
  #context() {
    const s = this;
    const init = this.#init;
    return {
      log: this.#log,
      clock: this.#clock,
      page: this.#page,
      events: this.events,
      participants: this.#participants,
      get viewport() {
        return s.viewport;
      },
      get state() {
        return s.#state;
      },
      get paused() {
        return s.#paused;
      },
      id: this.id,
      company: init.company,
      members: this.#participants,
      notices: this.#notices,
      mintReconnect: () => init.mintReconnect(),
      customerGrace: (running: boolean) => this.#customerGraceTimer(running),
      joiningSnapshot: (p: Participant) => this.#broadcast.forJoining(p),
      updateAudiences: () => this.#updateAudiences(),
      showCurrentFrameTo: (p: Participant) => this.#sendCurrentFrame(p),
      broadcastState: (except?: string) => this.#broadcastState(except),
      notice: (code: NoticeCode, message: string) => this.onNotice(code, message),
      notify: (code: NoticeCode, forCustomer: string | null, forStaff: string | null) => this.#notices.notify(code, forCustomer, forStaff),
      end: (reason: EndReason) => this.end(reason),
      recorded: init.recorded,
      access: this.#access,
      consentInfo: () => this.consentInfo(),
      goLive: () => void (this.#state = 'live'),
      startRecording: () => (this.#recorder = init.startRecording()),
      showCurrentFrame: () => this.#sendCurrentFrameToAll(),
      setPaused: (paused: boolean) => {
        this.#paused = paused;
        this.#updateAudiences();
      },
      control: this.#control,
      dropGuarded: (reason: string) => this.#input.dropGuarded(reason),
      checkUrl: init.checkUrl,
      get proposal() {
        return s.#navigation.proposal;
      },
      set proposal(p) {
        s.#navigation.proposal = p;
      },
      frames: this.#frames,
      ...(init.guards ? { guards: init.guards } : {}),
      ...(init.clipboard ? { clipboard: init.clipboard } : {}),
      staffMaySee: () => this.#staffMaySee(),
      maySee: (p: Participant) => this.#maySee(p),
    };
  }

  /** The page's CSS viewport now: the configured one, or the customer's device once emulated. */
  get viewport(): Viewport {
    return this.#page.viewport ?? this.#init.viewport;
  }
  get state(): SessionState {
    return this.#state;
  }
  get maxDurationMs(): number {
    return this.#init.maxDurationMs;
  }
  get endReason(): EndReason | null {
    return this.#endReason;
  }
  get participants(): Participant[] {
    return [...this.#participants.values()];
  }
  get counters(): FrameFanout['counters'] {
    return this.#frames.counters;
  }
  get page(): SessionPage {
    return this.#page;
  }
  /** The policy the session runs under (stamped into its frames and audit records). */
  get policy(): PolicyStamp {
    return this.#page.policy;
  }
  /** What marking staff frames cost so far; null when the policy turns marks off. */
  get watermarkStats(): WatermarkStats | null {
    return this.#watermark?.stats ?? null;
  }

  snapshot(): SessionSnapshot {
    return {
      state: this.#state,
      url: this.#url,
      title: this.#title,
      control: this.#control.holder,
      controlRequests: [...this.#control.requests],
      participants: this.participants.map((p) => p.info),
      pendingNavigation: this.#navigation.proposal,
      policy: this.#page.policy,
      paused: this.#paused,
      verified: this.#access.verified,
      consent: this.consentInfo(),
      shielded: this.#shield.reason,
    };
  }

  consentInfo(): ConsentInfo {
    const staff = new Set([this.createdBy.name, ...this.participants.filter((p) => p.role !== 'customer').map((p) => staffLabel(p))]);
    return { company: this.#init.company, agents: [...staff], masked: this.#init.masked, recorded: this.#init.recorded };
  }

  #timer(ms: number, fn: () => void): TimerHandle {
    const t = this.#clock.setTimeout(
      () => {
        this.#timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    this.#timers.add(t);
    return t;
  }

  #customerGraceTimer(running: boolean): void {
    this.#clock.clear(this.#customerGrace);
    if (this.#customerGrace) this.#timers.delete(this.#customerGrace);
    this.#customerGrace = running ? this.#timer(this.#init.customerGraceMs, () => void this.end('customer_left')) : null;
  }

  #checkIdle(): void {
    if (this.#state !== 'live') return;
    const idle = this.#clock.now() - this.#lastActivity;
    if (idle >= this.#init.idleMs) void this.end('idle');
    else if (idle >= this.#init.idleMs - Math.min(END_WARNING_MS, this.#init.idleMs / 2) && !this.#idleWarned) {
      this.#idleWarned = true;
      this.onNotice('IDLE_WARNING', 'The session will end soon without activity.');
    }
  }

  /** Staff see frames only when the customer accepted, is sharing, and the code was confirmed. */
  #staffMaySee(): boolean {
    return this.#state === 'live' && !this.#paused && this.#access.verified;
  }

  #maySee(p: Participant): boolean {
    return p.role === 'customer' ? this.#state === 'live' : this.#staffMaySee();
  }

  // ---- page events -------------------------------------------------------------------------

  /**
   * A frame from the page for one audience. Customer frames (unmasked) go to the customer's
   * socket and nowhere else; staff frames (captured with every mask confirmed) go to staff and
   * to the recording. `both` was captured masked with nothing masked in view.
   */
  onFrame(frame: CapturedFrame, to: Audience | 'both'): void {
    if (this.#state !== 'live') return;
    const policy = this.#page.policy;
    if (to !== 'staff') {
      const encoded = this.#frames.encode(frame, policy, 'customer');
      for (const p of this.#participants.values()) if (p.role === 'customer') this.#frames.deliver(p, encoded);
    }
    if (to !== 'customer' && this.#staffMaySee()) {
      const encoded = this.#frames.encode(frame, policy, 'staff');
      for (const p of this.#participants.values()) if (p.role !== 'customer') this.#frames.deliver(p, encoded);
      // The recording holds exactly what staff were shown: masked frames, never while paused,
      // with the mark of whoever was viewing (frame-fanout.ts forRecording).
      const recorded = this.#recorder ? this.#frames.forRecording(encoded, this.participants) : null;
      if (recorded) this.#recorder?.frame(recorded);
    }
  }

  /**
   * Tells the page whom to capture for: nothing before consent; the customer's view while the
   * customer is connected; the staff view only while staff may see and someone takes it (a staff
   * participant, or the recording). Called after every change of who may see what.
   */
  #updateAudiences(): void {
    const live = this.#state === 'live';
    const customer = live && this.participants.some((p) => p.role === 'customer');
    const staff = this.#staffMaySee() && (this.#recorder !== null || this.participants.some((p) => p.role !== 'customer'));
    this.#page.setAudiences({ customer, staff });
  }

  #withheldReason: string | null = null;

  onWithheld(reason: string): void {
    this.#frames.withheld();
    // One audit record per run of withheld frames, not one per frame.
    if (this.#withheldReason !== reason) {
      this.#withheldReason = reason;
      this.events.emit('frame.withheld', null, { reason });
    }
    this.#log.debug({ reason }, 'frame withheld by the redaction gate');
  }

  /** The redaction gate opened (null) or closed; one that stays closed shows a banner (shield.ts). */
  onGateChange(reason: string | null): void {
    this.#shield.gate(reason);
  }

  onNavigated(info: { url: string; title: string }): void {
    if (info.url === 'about:blank' && this.#url !== 'about:blank') return;
    if (info.url !== this.#url) this.#input.dropGuarded('the page navigated');
    this.#url = info.url;
    this.#title = info.title;
    // A frame of the previous document must not be handed to someone who joins now.
    this.#broadcastState();
  }

  /** Something the page did; a navigation the address checks refused is audited as well. */
  onPageNotice(n: PageNotice): void {
    if (n.refused === 'navigation') this.events.emit('navigation.refused', null, { message: n.message.slice(0, 200) });
    this.onNotice(n.code, n.message);
  }

  onNotice(code: NoticeCode, message: string): void {
    this.#notices.notice(code, message);
  }

  /** Text copied or cut in the page (clipboard rules: handlers/input.ts). */
  onPageCopy(text: string): void {
    this.#input.copied(text);
  }

  // ---- participants (handlers/membership.ts) ----------------------------------------------

  /** Adds a participant whose token is verified (the customer: see membership.ts for who may). */
  join(p: Participant, claims: SessionClaims): Promise<void> {
    return join(this.#membership, p, claims);
  }

  leave(p: Participant): void {
    leave(this.#membership, p);
  }

  // ---- messages ----------------------------------------------------------------------------

  /** Checks a message against the permissions table, then hands it to its family's handler. */
  async handle(p: Participant, msg: Message): Promise<void> {
    if (this.#state === 'ended') return;
    const facts = { state: this.#state, hasControl: this.#control.holder === p.id, verified: this.#access.verified, paused: this.#paused, touchEmulated: this.#page.touchEmulated };
    const decision = authorize(p.role, msg.type, facts, msg.type === 'input' ? msg.input.kind : undefined);
    if (!decision.ok) return this.#refuse(p, msg.type, new VitrineError(decision.code, decision.message));
    // Measured round trips are not activity: they would keep an abandoned session open.
    if (msg.type !== 'ping' && !(msg.type === 'presence' && msg.presence.kind === 'rtt')) {
      this.#lastActivity = this.#clock.now();
      this.#idleWarned = false;
    }
    try {
      await (this.#handlers[msg.type] as (p: Participant, msg: Message) => Promise<void> | void)(p, msg);
    } catch (e) {
      if (!isVitrineError(e)) this.#log.error({ err: String(e), type: msg.type }, 'message handling failed');
      this.#refuse(p, msg.type, e);
    }
  }

  /** Refuses one message in its wire form, leaves the events the refusal makes, counts it towards the abuse limit. */
  #refuse(p: Participant, type: Message['type'], e: unknown): void {
    const err = p.refuseWith(e, type);
    for (const event of refusalEvents(type, err.code)) this.events.emit(event, p, { code: err.code });
    if (!p.noteRefusal()) return;
    this.#log.warn({ participant: p.id, role: p.role }, 'closing a participant socket after repeated refusals');
    p.close(CloseCodes.ABUSE, 'too many refused messages');
  }

  // ---- fan-out helpers ---------------------------------------------------------------------

  #broadcastState(except?: string): void {
    this.#broadcast.send(except);
  }

  #sendCurrentFrameToAll(): void {
    this.#updateAudiences();
    for (const q of this.#participants.values()) {
      const last = this.#frames.last(laneOf(q));
      if (last && this.#maySee(q)) this.#frames.deliver(q, last);
    }
    this.#page.refresh();
  }

  #sendCurrentFrame(p: Participant): void {
    const last = this.#frames.last(laneOf(p));
    if (last) this.#frames.deliver(p, last);
    // A still page sends nothing new; a fresh capture for everyone covers that.
    this.#page.refresh();
  }

  // ---- end ---------------------------------------------------------------------------------

  /** Ends the session the one way every cause shares; idempotent. */
  end(reason: EndReason): Promise<void> {
    this.#ending ??= this.#end(reason);
    return this.#ending;
  }

  async #end(reason: EndReason): Promise<void> {
    // A recorded session that ends before any staff frame was made (the customer alone, ending at
    // once) still leaves a recording of the page: one sealed staff capture of it as it is now.
    // Otherwise the recording holds exactly the frames staff were shown, nothing added.
    const lastLook = this.#recorder && this.#recorder.frames === 0 && this.#staffMaySee() ? this.#page.finalStaffFrame() : null;
    this.#state = 'ended';
    this.#page.setAudiences({ customer: false, staff: false });
    this.#endReason = reason;
    this.#log.info({ reason }, 'session ended');
    this.events.emit('session.ended', null, { reason });
    if (this.#recorder) {
      const r = this.#recorder;
      this.#recorder = null;
      const last = lastLook ? await lastLook : null;
      const recorded = last ? this.#frames.forRecording(this.#frames.encode(last, this.#page.policy, 'staff'), this.participants) : null;
      if (recorded) r.frame(recorded);
      r.close();
      this.events.emit('recording.stopped', null, { recording: r.header.id, frames: r.frames });
    }
    this.#input.dropGuarded('the session ended');
    this.#shield.stop();
    for (const t of this.#timers) this.#clock.clear(t);
    this.#timers.clear();
    this.#frames.clear();
    const message: ServerMessage = { type: 'ended', reason, message: END_MESSAGES[reason] };
    for (const p of this.#participants.values()) {
      p.dropFrames();
      p.send(message);
      p.close(CloseCodes.NORMAL, 'session ended');
    }
    this.#participants.clear();
    this.#navigation.proposal = null;
    this.#control.holder = null;
    this.#init.onEnded(this);
    await this.#page.close();
  }
}
