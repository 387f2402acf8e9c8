/**
 * A co-browsing session: its state machine (waiting → live → ended), its participants, who
 * holds control, and the frame fan-out. Every participant message passes the permissions table
 * (permissions.ts) and then goes to the handler of its family (handlers/); one bad message is
 * refused with a code and never takes the session down. What happens is emitted as typed events
 * (events.ts) that the audit trail and the recording subscribe to. The page, the audit trail,
 * the recording and time reach it only through the ports of server/core/ports.ts.
 */
import type { SessionClaims } from '../auth/session-tokens.ts';
import { realClock, type Audience, type AuditTrail, type CapturedFrame, type Clock, type PageNotice, type PolicyStamp, type SessionPage, type SessionRecorder, type UrlCheck } from '../core/ports.ts';
import { CloseCodes } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ConsentInfo, EndReason, NavigationProposal, NoticeCode, ServerMessage, SessionSnapshot, SessionState, Viewport } from '../protocol.ts';
import type { SessionMetrics } from '../metrics.ts';
import type { ClipboardPolicy, GuardRule } from '../policy/schema.ts';
import { CustomerAccess } from './customer-access.ts';
import { Deadlines } from './deadlines.ts';
import { END_MESSAGES } from './end-messages.ts';
import { SessionEvents, recordEvents } from './events.ts';
import type { FrameFanout } from './frame-fanout.ts';
import type { ControlState, Message } from './handlers/context.ts';
import { dispatcher, type DispatchContext } from './handlers/dispatch.ts';
import { inputFamily, type InputContext, type InputFamily } from './handlers/input.ts';
import { join, leave, type MembershipContext } from './handlers/membership.ts';
import { Notices } from './notices.ts';
import type { Participant } from './participant.ts';
import { Screens } from './screens.ts';
import type { WatermarkMode, WatermarkStats } from './watermark.ts';
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
  readonly #control: ControlState = { holder: null, requests: new Set() };
  #url: string;
  #title = '';
  readonly #page: SessionPage;
  readonly #log: Logger;
  readonly #init: SessionInit;
  readonly #clock: Clock;
  #ending: Promise<void> | null = null;
  readonly #screens: Screens;
  readonly #notices: Notices;
  readonly #input: InputFamily;
  readonly #dispatch: (p: Participant, msg: Message) => Promise<void>;
  readonly #navigation: { proposal: NavigationProposal | null } = { proposal: null };
  readonly #shield: Shield;
  readonly #broadcast: StateBroadcast;
  readonly #membership: MembershipContext;
  readonly #deadlines: Deadlines;

  constructor(init: SessionInit) {
    this.#clock = init.clock ?? realClock;
    this.createdAt = this.#clock.now();
    this.id = init.id;
    this.createdBy = init.createdBy;
    this.inviteExpiresAt = init.inviteExpiresAt;
    this.#url = init.url;
    this.#page = init.page;
    this.#log = init.log.child({ session: init.id });
    this.#init = init;
    this.#screens = new Screens({
      id: init.id,
      viewport: init.viewport,
      metrics: init.metrics,
      page: init.page,
      log: this.#log,
      ...(init.watermark ? { watermark: init.watermark } : {}),
      participants: () => this.participants,
      state: () => this.#state,
      paused: () => this.#paused,
      verified: () => this.#access.verified,
    });
    recordEvents(this.events, { session: init.id, audit: init.audit, policy: () => this.#page.policy, recorder: () => this.#screens.recorder });
    this.#access = new CustomerAccess({ inviteJti: init.inviteJti, graceMs: init.customerGraceMs, verificationCode: init.verificationCode });
    this.#deadlines = new Deadlines({
      clock: this.#clock,
      inviteExpiresAt: init.inviteExpiresAt,
      maxDurationMs: init.maxDurationMs,
      idleMs: init.idleMs,
      customerGraceMs: init.customerGraceMs,
      state: () => this.#state,
      end: (reason) => void this.end(reason),
      notice: (code, message) => this.onNotice(code, message),
    });
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
    this.#dispatch = dispatcher(ctx, this.#input.handlers);
  }

  /** What the handlers may read and change (handlers/context.ts): one object for every family. */
  #context(): MembershipContext & InputContext & DispatchContext {
    const init = this.#init;
    // The getters below are the object's own; these arrows read the session's private state.
    const now = { viewport: () => this.viewport, state: () => this.#state, paused: () => this.#paused };
    return {
      log: this.#log,
      clock: this.#clock,
      page: this.#page,
      events: this.events,
      participants: this.#participants,
      get viewport() {
        return now.viewport();
      },
      get state() {
        return now.state();
      },
      get paused() {
        return now.paused();
      },
      id: this.id,
      company: init.company,
      members: this.#participants,
      notices: this.#notices,
      mintReconnect: () => init.mintReconnect(),
      customerGrace: (running: boolean) => this.#deadlines.customerGrace(running),
      joiningSnapshot: (p: Participant) => this.#broadcast.forJoining(p),
      updateAudiences: () => this.#screens.updateAudiences(),
      showCurrentFrameTo: (p: Participant) => this.#screens.showCurrentTo(p),
      broadcastState: (except?: string) => this.#broadcastState(except),
      notice: (code: NoticeCode, message: string) => this.onNotice(code, message),
      notify: (code: NoticeCode, forCustomer: string | null, forStaff: string | null) => this.#notices.notify(code, forCustomer, forStaff),
      end: (reason: EndReason) => this.end(reason),
      activity: () => this.#deadlines.activity(),
      recorded: init.recorded,
      access: this.#access,
      consentInfo: () => this.consentInfo(),
      goLive: () => void (this.#state = 'live'),
      startRecording: () => this.#screens.record(init.startRecording()),
      showCurrentFrame: () => this.#screens.showCurrentToAll(),
      setPaused: (paused: boolean) => {
        this.#paused = paused;
        this.#screens.updateAudiences();
      },
      control: this.#control,
      dropGuarded: (reason: string) => this.#input.dropGuarded(reason),
      checkUrl: init.checkUrl,
      navigation: this.#navigation,
      frames: this.#screens.frames,
      ...(init.guards ? { guards: init.guards } : {}),
      ...(init.clipboard ? { clipboard: init.clipboard } : {}),
      staffMaySee: () => this.#screens.staffMaySee(),
      maySee: (p: Participant) => this.#screens.maySee(p),
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
    return this.#screens.frames.counters;
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
    return this.#screens.watermarkStats;
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

  // ---- page events -------------------------------------------------------------------------

  /** A frame from the page for one audience (screens.ts). */
  onFrame(frame: CapturedFrame, to: Audience | 'both'): void {
    this.#screens.frame(frame, to);
  }

  #withheldReason: string | null = null;

  onWithheld(reason: string): void {
    this.#screens.frames.withheld();
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

  /** Checks a message against the permissions table, then hands it to its family's handler (handlers/dispatch.ts). */
  handle(p: Participant, msg: Message): Promise<void> {
    return this.#dispatch(p, msg);
  }

  // ---- fan-out helpers ---------------------------------------------------------------------

  #broadcastState(except?: string): void {
    this.#broadcast.send(except);
  }

  // ---- end ---------------------------------------------------------------------------------

  /** Ends the session the one way every cause shares; idempotent. */
  end(reason: EndReason): Promise<void> {
    this.#ending ??= this.#end(reason);
    return this.#ending;
  }

  async #end(reason: EndReason): Promise<void> {
    // Asked for before the end: it is taken only while staff may still see (screens.ts).
    const lastLook = this.#screens.lastLook();
    this.#state = 'ended';
    this.#page.setAudiences({ customer: false, staff: false });
    this.#endReason = reason;
    this.#log.info({ reason }, 'session ended');
    this.events.emit('session.ended', null, { reason });
    // Without a recording the end runs through at once, with nothing awaited before the participants hear it.
    if (this.#screens.recorder) {
      const r = await this.#screens.closeRecording(lastLook);
      if (r) this.events.emit('recording.stopped', null, { recording: r.header.id, frames: r.frames });
    }
    this.#input.dropGuarded('the session ended');
    this.#shield.stop();
    this.#deadlines.clear();
    this.#screens.frames.clear();
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
