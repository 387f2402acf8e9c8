/**
 * A co-browsing session: its state machine (waiting → live → ended), its participants, who
 * holds control, the pending navigation proposal, and the frame fan-out. Every participant
 * message is authorized here through the permissions table; one bad message is refused with
 * a code and never takes the session down. The page, the audit trail, the recording and time
 * reach it only through the ports of server/core/ports.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AuditEvent } from '../audit/audit.ts';
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
import { CloseCodes, ErrorCodes, VitrineError, isVitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import {
  type ClientMessage,
  type Device,
  type ConsentInfo,
  type EndReason,
  type NavigationProposal,
  type NoticeCode,
  type NoticeParams,
  type Presence,
  type ServerMessage,
  type SessionSnapshot,
  type SessionState,
  type Viewport,
} from '../protocol.ts';
import type { SessionMetrics } from '../metrics.ts';
import { CustomerAccess } from './customer-access.ts';
import { END_MESSAGES } from './end-messages.ts';
import { FrameFanout, laneOf } from './frame-fanout.ts';
import { DEFAULT_WATERMARK, StaffWatermark, type WatermarkMode, type WatermarkStats } from './watermark.ts';
import type { Participant } from './participant.ts';
import { authorize, authorizeInputKind } from './permissions.ts';
import { ClipboardRules } from './clipboard.ts';
import { GuardKeeper, type GuardActor } from './guards.ts';
import type { ClipboardPolicy, GuardRule } from '../policy/schema.ts';
import { CUSTOMER_WORDING, noticeParams, PAGE_NOTICES, presenceNotice, staffLabel, staffView } from './views.ts';

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

/** Presence messages a participant may send per second (sustained), and in one burst. */
export const PRESENCE_RATE = 40;
export const PRESENCE_BURST = 80;

/** Warnings go out this long before an idle or duration limit ends the session. */
export const END_WARNING_MS = 60_000;

/** The customer's device is emulated at most this often (ms); the latest one wins. */
export const DEVICE_GAP_MS = 250;

/** Page notices a participant who joins is still told: those of the last RECENT_NOTICE_MS, at most RECENT_NOTICES. */
const RECENT_NOTICE_MS = 5000;
const RECENT_NOTICES = 5;

export class Session {
  readonly id: string;
  readonly createdBy: { sub: string; name: string };
  /** The page's CSS viewport now: the configured one, or the customer's device once emulated. */
  get viewport(): Viewport {
    return this.#page.viewport ?? this.#init.viewport;
  }
  readonly createdAt: number;
  readonly inviteExpiresAt: number;
  #state: SessionState = 'waiting';
  #endReason: EndReason | null = null;
  readonly #participants = new Map<string, Participant>();
  readonly #access: CustomerAccess;
  #paused = false;
  #lastActivity: number;
  #idleWarned = false;
  #control: string | null = null;
  readonly #controlRequests = new Set<string>();
  #proposal: NavigationProposal | null = null;
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
  #watermark: StaffWatermark | null = null;
  /** What marking staff frames cost so far; null when the policy turns marks off. */
  get watermarkStats(): WatermarkStats | null {
    return this.#watermark?.stats ?? null;
  }

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
    this.#timer(init.inviteExpiresAt - this.#clock.now(), () => {
      if (this.#state === 'waiting') void this.end('expired');
    });
    this.#timer(init.maxDurationMs - END_WARNING_MS, () => this.onNotice('ENDING_SOON', 'The session reaches its time limit in one minute.'));
    this.#timer(init.maxDurationMs, () => void this.end('expired'));
    this.#access = new CustomerAccess({ inviteJti: init.inviteJti, graceMs: init.customerGraceMs, verificationCode: init.verificationCode });
    const idleCheck = this.#clock.setInterval(() => this.#checkIdle(), Math.min(5000, Math.max(250, init.idleMs / 20)));
    this.#cleanupIdle = () => this.#clock.clear(idleCheck);
    // The customer's client opens its keyboard when an editable element has focus: only it is told.
    this.#page.onFocus?.((f) => {
      for (const p of this.#participants.values()) if (p.role === 'customer') p.send(f);
    });
    this.#guards = this.#guardKeeper();
    this.#clipboard = new ClipboardRules(init.clipboard, () => this.#clock.now());
  }

  // ---- clipboard (clipboard.ts) --------------------------------------------------------------

  readonly #clipboard: ClipboardRules;

  /** Text copied or cut in the page: to the customer alone, when the customer's input made it. */
  onPageCopy(text: string): void {
    if (this.#state === 'ended') return;
    const d = this.#clipboard.copied();
    if (d.notice) this.#participants.get(d.notice.participant)?.send({ type: 'notice', code: d.notice.code, message: d.notice.message });
    if (!d.deliver) {
      this.#log.info({ dropped: d.dropped, chars: text.length }, 'a copy in the page was not passed on');
      return;
    }
    for (const q of this.#participants.values()) if (q.role === 'customer') q.send({ type: 'clipboard', text });
    this.#audit('clipboard.copied', null, { chars: text.length });
  }

  // ---- guarded actions (guards.ts) ---------------------------------------------------------

  readonly #guards: GuardKeeper;

  #guardKeeper(): GuardKeeper {
    const to = (customer: boolean) => (m: ServerMessage) => {
      for (const q of this.#participants.values()) if ((q.role === 'customer') === customer && this.#maySee(q)) q.send(m);
    };
    return new GuardKeeper({
      rules: () => this.#init.guards?.(this.#page.url) ?? [],
      facts: (where, selectors, names) => this.#page.guardFacts(where, selectors, names),
      replay: (inputs) =>
        this.#inTurn(async () => {
          for (const i of inputs) await this.#page.input(i);
          this.#frames.inputApplied({ customer: true, staff: this.#staffMaySee() });
          this.#page.inputApplied();
        }),
      mayAct: (id) => this.#participants.has(id) && this.#control === id && !this.#paused,
      toCustomer: to(true),
      toStaff: to(false),
      refusedNotice: (label) => this.#notify('GUARDED_ACTION', `Your agent tried to use "${label}"; only you can do that. It was blocked.`, null),
      audit: (type, actor, details) => this.#audit(type, actor ? (this.#participants.get(actor.id) ?? null) : null, details),
      clock: this.#clock,
    });
  }

  static #actor(p: Participant): GuardActor {
    return { id: p.id, sub: p.sub, role: p.role, info: p.info };
  }

  /** Runs `fn` in the input queue (after the inputs before it). */
  async #inTurn(fn: () => Promise<void>): Promise<void> {
    const turn = this.#inputs;
    let done!: () => void;
    this.#inputs = new Promise<void>((r) => (done = r));
    try {
      await turn;
      await fn();
    } finally {
      done();
    }
  }

  readonly #cleanupIdle: () => void;

  #audit(type: AuditEvent['type'], p?: Participant | null, details?: AuditEvent['details']): void {
    this.#recorder?.event({ type, ...(p ? { role: p.role, name: p.name } : {}), ...(details ?? {}) });
    this.#init.audit.record({ type, session: this.id, ...(p ? { actor: { sub: p.sub, role: p.role } } : {}), policy: this.#page.policy, ...(details ? { details } : {}) });
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

  snapshot(): SessionSnapshot {
    return {
      state: this.#state,
      url: this.#url,
      title: this.#title,
      control: this.#control,
      controlRequests: [...this.#controlRequests],
      participants: this.participants.map((p) => p.info),
      pendingNavigation: this.#proposal,
      policy: this.#page.policy,
      paused: this.#paused,
      verified: this.#access.verified,
      consent: this.consentInfo(),
      shielded: this.#shielded,
    };
  }

  /** The snapshot one participant may see: all of it for the customer, staffView() for staff. */
  #snapshotFor(p: Participant, full = this.snapshot()): SessionSnapshot {
    return p.role === 'customer' ? full : staffView(full);
  }

  consentInfo(): ConsentInfo {
    const staff = new Set([this.createdBy.name, ...this.participants.filter((p) => p.role !== 'customer').map((p) => staffLabel(p))]);
    return { company: this.#init.company, agents: [...staff], masked: this.#init.masked, recorded: this.#init.recorded };
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

  #recorder: SessionRecorder | null = null;

  onWithheld(reason: string): void {
    this.#frames.withheld();
    // One audit record per run of withheld frames, not one per frame.
    if (this.#withheldReason !== reason) {
      this.#withheldReason = reason;
      this.#audit('frame.withheld', null, { reason });
    }
    this.#log.debug({ reason }, 'frame withheld by the redaction gate');
  }

  #withheldReason: string | null = null;
  #shielded: string | null = null;
  #shieldTimer: TimerHandle | null = null;

  /**
   * The redaction gate opened or closed. Brief closures (every navigation) are not worth a
   * banner; one that lasts tells participants why they see the placeholder.
   */
  onGateChange(reason: string | null): void {
    if (reason === null) {
      this.#clock.clear(this.#shieldTimer);
      this.#shieldTimer = null;
      if (this.#shielded !== null) {
        this.#shielded = null;
        this.#broadcastState();
      }
      return;
    }
    this.#shieldTimer ??= this.#clock.setTimeout(() => {
      this.#shieldTimer = null;
      const now = this.#page.closedReason();
      if (now === null || this.#state === 'ended') return;
      this.#shielded = now;
      this.#log.warn({ reason: now }, 'frames withheld: showing the protected-content placeholder');
      this.#broadcastState();
    }, 750);
  }

  onNavigated(info: { url: string; title: string }): void {
    if (info.url === 'about:blank' && this.#url !== 'about:blank') return;
    if (info.url !== this.#url) this.#guards.drop('the page navigated');
    this.#url = info.url;
    this.#title = info.title;
    // A frame of the previous document must not be handed to someone who joins now.
    this.#broadcastState();
  }

  /** Something the page did; a navigation the address checks refused is audited as well. */
  onPageNotice(n: PageNotice): void {
    if (n.refused === 'navigation') this.#audit('navigation.refused', null, { message: n.message.slice(0, 200) });
    this.onNotice(n.code, n.message);
  }

  onNotice(code: NoticeCode, message: string): void {
    const forCustomer = CUSTOMER_WORDING[code] ?? message;
    // What the page did while paused is the customer's alone; staff are not told afterwards either.
    const forStaff = this.#paused && PAGE_NOTICES.has(code) ? null : message;
    this.#notify(code, forCustomer, forStaff);
    if (PAGE_NOTICES.has(code)) {
      const now = this.#clock.now();
      this.#recentPageNotices = [...this.#recentPageNotices.filter((n) => now - n.at < RECENT_NOTICE_MS), { code, forCustomer, forStaff, at: now }].slice(-RECENT_NOTICES);
    }
  }

  /**
   * What the page did in the last seconds (a request refused, a dialog dismissed while it loaded):
   * someone who joins a moment after it happened is told too, since the page runs from the
   * session's start and a refusal at load would otherwise reach only whoever was there first.
   */
  #recentPageNotices: { code: NoticeCode; forCustomer: string; forStaff: string | null; at: number }[] = [];

  #tellRecent(p: Participant): void {
    const now = this.#clock.now();
    for (const n of this.#recentPageNotices) {
      if (now - n.at >= RECENT_NOTICE_MS) continue;
      const message = p.role === 'customer' ? n.forCustomer : n.forStaff;
      if (message !== null) p.send({ type: 'notice', code: n.code, message });
    }
  }

  #notify(code: NoticeCode, forCustomer: string | null, forStaff: string | null, except?: string, params?: NoticeParams): void {
    for (const p of this.#participants.values()) {
      if (p.id === except) continue;
      const message = p.role === 'customer' ? forCustomer : forStaff;
      if (message !== null) p.send({ type: 'notice', code, message, ...(params ? { params } : {}) });
    }
  }

  // ---- participants ------------------------------------------------------------------------

  /**
   * Adds a participant whose token is verified. A customer invite works once; after that the
   * customer rejoins only with the reconnect token of its last join, within the grace period.
   */
  async join(p: Participant, claims: SessionClaims): Promise<void> {
    if (this.#state === 'ended') throw new VitrineError('NO_SUCH_SESSION', 'the session has ended');
    let reconnectToken: string | undefined;
    let replaced: Participant | undefined;
    if (p.role === 'customer') {
      this.#access.check(claims);
      // The customer's current reconnect token brings them back even while their old connection
      // is still here (half-open after a network switch, or simply older): the newest wins.
      // Anything else (a spent token, another tab's) still finds the customer present.
      replaced = this.participants.find((q) => q.role === 'customer');
      this.#access.admit(claims, this.#clock.now(), replaced !== undefined);
      const next = await this.#init.mintReconnect();
      if ((this.#state as SessionState) === 'ended') throw new VitrineError('NO_SUCH_SESSION', 'the session has ended');
      this.#access.issued(next.jti);
      reconnectToken = next.token;
      if (this.#customerGrace) {
        this.#clock.clear(this.#customerGrace);
        this.#timers.delete(this.#customerGrace);
        this.#customerGrace = null;
      }
    }
    if (!p.open) throw new VitrineError('NOT_JOINED', 'the connection closed while joining');
    if (replaced && this.#participants.has(replaced.id)) this.#replace(replaced);
    else replaced = undefined;
    this.#participants.set(p.id, p);
    this.#updateAudiences();
    const snapshot = this.#snapshotFor(p);
    if (p.role !== 'customer') this.#sentToStaff.set(p, JSON.stringify(snapshot));
    p.send({
      type: 'joined',
      protocol: 1,
      role: p.role,
      you: p.id,
      session: this.id,
      viewport: this.viewport,
      snapshot,
      company: this.#init.company,
      ...(reconnectToken ? { reconnectToken } : {}),
      ...(p.role === 'customer' && this.#access.code ? { verificationCode: this.#access.code } : {}),
    });
    this.#log.info({ participant: p.id, role: p.role, sub: p.sub }, 'participant joined');
    this.#audit('participant.joined', p, { via: claims.kind });
    this.#broadcastState(p.id);
    // Everyone else hears who came in; the newcomer knows.
    if (replaced) this.#notify('PARTICIPANT_REPLACED', null, 'The customer reconnected; their previous connection was closed.', p.id);
    else this.#notify('PARTICIPANT_JOINED', presenceNotice(p.info, 'joined', 'customer'), presenceNotice(p.info, 'joined', 'staff'), p.id, noticeParams(p.info));
    if (this.#maySee(p)) this.#sendCurrentFrame(p);
    if (p.role === 'customer' && this.#page.focus?.editable) p.send(this.#page.focus);
    this.#tellRecent(p);
  }

  /**
   * Takes the customer's older connection out without a departure: no grace period, control
   * stays as granted (the same customer is watching again at once), and its close, when it
   * comes, finds nothing to leave. The old socket hears why, with its own close code.
   */
  #replace(old: Participant): void {
    this.#participants.delete(old.id);
    this.#log.info({ participant: old.id, role: old.role }, 'customer connection replaced by its reconnect');
    this.#audit('participant.replaced', old);
    old.close(CloseCodes.REPLACED, 'this session was opened again on another connection');
  }

  leave(p: Participant): void {
    if (!this.#participants.delete(p.id)) return;
    this.#updateAudiences();
    this.#controlRequests.delete(p.id);
    if (this.#control === p.id) this.#control = null;
    if (this.#state === 'ended') return;
    this.#log.info({ participant: p.id, role: p.role }, 'participant left');
    this.#audit('participant.left', p);
    if (p.role === 'customer') {
      this.#access.left(this.#clock.now());
      // Without the customer watching, nobody keeps control of their page.
      this.#control = null;
      this.#controlRequests.clear();
      this.#customerGrace = this.#timer(this.#init.customerGraceMs, () => void this.end('customer_left'));
    }
    this.#notify('PARTICIPANT_LEFT', presenceNotice(p.info, 'left', 'customer'), presenceNotice(p.info, 'left', 'staff'), undefined, noticeParams(p.info));
    this.#broadcastState();
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

  // ---- messages ----------------------------------------------------------------------------

  async handle(p: Participant, msg: Exclude<ClientMessage, { type: 'join' }>): Promise<void> {
    if (this.#state === 'ended') return;
    const decision = authorize(p.role, msg.type, { live: this.#state === 'live', hasControl: this.#control === p.id });
    if (!decision.ok) {
      p.refuse(decision.code, ErrorCodes[decision.code].message, msg.type);
      if (msg.type === 'input') this.#audit('input.refused', p, { code: decision.code });
      if (p.noteRefusal()) this.#kick(p);
      return;
    }
    if (p.role !== 'customer' && !this.#access.verified && !['verify', 'ping', 'end'].includes(msg.type)) {
      p.refuse('VERIFICATION_REQUIRED', ErrorCodes.VERIFICATION_REQUIRED.message, msg.type);
      if (p.noteRefusal()) this.#kick(p);
      return;
    }
    // Measured round trips are not activity: they would keep an abandoned session open.
    if (msg.type !== 'ping' && !(msg.type === 'presence' && msg.presence.kind === 'rtt')) {
      this.#lastActivity = this.#clock.now();
      this.#idleWarned = false;
    }
    try {
      await this.#apply(p, msg);
    } catch (e) {
      if (!isVitrineError(e)) this.#log.error({ err: String(e), type: msg.type }, 'message handling failed');
      const err = p.refuseWith(e, msg.type);
      if (msg.type === 'input') this.#audit('input.refused', p, { code: err.code });
      if (err.code === 'URL_REFUSED' || err.code === 'BAD_URL') this.#audit('navigation.refused', p, { code: err.code });
      if (p.noteRefusal()) this.#kick(p);
    }
  }

  #kick(p: Participant): void {
    this.#log.warn({ participant: p.id, role: p.role }, 'closing a participant socket after repeated refusals');
    p.close(CloseCodes.ABUSE, 'too many refused messages');
  }

  async #apply(p: Participant, msg: Exclude<ClientMessage, { type: 'join' }>): Promise<void> {
    switch (msg.type) {
      case 'ping':
        p.send({ type: 'pong', t: msg.t, serverTime: this.#clock.now() });
        return;
      case 'consent':
        if (this.#state !== 'waiting') throw new VitrineError('ALREADY_DECIDED');
        if (!msg.accept) {
          this.#log.info('customer declined');
          this.#audit('consent.declined', p, consentShown(msg.shown));
          await this.end('declined');
          return;
        }
        this.#state = 'live';
        this.#log.info('customer consented; session is live');
        // The recording opens first so that it holds the consent it was made under.
        if (this.#init.recorded) this.#recorder = this.#init.startRecording();
        this.#audit('consent.given', p, {
          agents: this.consentInfo().agents.join(', '),
          recorded: this.#init.recorded,
          masked: this.consentInfo().masked.join(', '),
          company: this.consentInfo().company,
          ...consentShown(msg.shown),
        });
        if (this.#recorder) this.#audit('recording.started', p, { recording: this.#recorder.header.id, keyId: this.#recorder.header.keyId });
        this.#broadcastState();
        this.#sendCurrentFrameToAll();
        return;
      case 'verify': {
        if (this.#access.verified) return;
        const r = this.#access.verify(msg.code);
        if (!r.ok) {
          this.#audit('verification.failed', p, { attempt: r.attempts });
          if (r.exhausted) await this.end('verification_failed');
          throw new VitrineError('BAD_CODE');
        }
        this.#audit('verification.passed', p);
        this.onNotice('VERIFIED', 'The agent confirmed the verification code.');
        this.#broadcastState();
        this.#sendCurrentFrameToAll();
        return;
      }
      case 'pause':
      case 'resume':
        if (this.#paused === (msg.type === 'pause')) return;
        this.#paused = msg.type === 'pause';
        this.#updateAudiences();
        this.#audit(this.#paused ? 'sharing.paused' : 'sharing.resumed', p);
        this.onNotice(this.#paused ? 'PAUSED' : 'RESUMED', this.#paused ? 'The customer paused sharing.' : 'The customer resumed sharing.');
        this.#broadcastState();
        if (!this.#paused) this.#sendCurrentFrameToAll();
        return;
      case 'input': {
        const i = msg.input;
        if (i.kind === 'pointer' || i.kind === 'wheel') {
          if (i.x < 0 || i.y < 0 || i.x >= this.viewport.width || i.y >= this.viewport.height) throw new VitrineError('OUT_OF_VIEWPORT');
        }
        if (i.kind === 'touch') {
          const kind = authorizeInputKind(i.kind, { touchEmulated: this.#page.touchEmulated });
          if (!kind.ok) throw new VitrineError(kind.code, kind.message);
          if (i.points.some((t) => t.x < 0 || t.y < 0 || t.x >= this.viewport.width || t.y >= this.viewport.height)) throw new VitrineError('OUT_OF_VIEWPORT');
        }
        if (p.role !== 'customer' && this.#paused) throw new VitrineError('PAUSED');
        // Inputs apply one after another, in the order they came: a key must be checked against
        // the focus the click before it gave, not against the focus before that click landed.
        const turn = this.#inputs;
        let done!: () => void;
        this.#inputs = new Promise<void>((r) => (done = r));
        try {
          await turn;
          await this.#applyInput(p, i);
        } finally {
          done();
        }
        return;
      }
      case 'control/request':
        if (this.#control === p.id) return;
        this.#controlRequests.add(p.id);
        this.#audit('control.requested', p);
        for (const q of this.#participants.values()) if (q.role === 'customer') q.send({ type: 'control/requested', by: p.info });
        this.#broadcastState();
        return;
      case 'control/grant': {
        const agent = [...this.#controlRequests].find((id) => this.#participants.has(id)) ?? this.participants.find((q) => q.role === 'agent')?.id;
        if (!agent) throw new VitrineError('NOT_AGENT', 'no agent is connected to receive control');
        this.#control = agent;
        this.#controlRequests.clear();
        this.#log.info({ participant: agent }, 'control granted');
        this.#audit('control.granted', p, { to: this.#participants.get(agent)?.sub ?? agent });
        this.#broadcastState();
        return;
      }
      case 'control/revoke':
        this.#guards.drop('control was revoked');
        this.#control = null;
        this.#controlRequests.clear();
        this.#log.info('control revoked');
        this.#audit('control.revoked', p);
        this.#broadcastState();
        return;
      case 'navigate/propose': {
        const url = (await this.#init.checkUrl(msg.url)).href;
        this.#proposal = { id: randomBytes(6).toString('base64url'), url, by: p.id };
        this.#audit('navigation.proposed', p, { host: new URL(url).host, proposal: this.#proposal.id });
        for (const q of this.#participants.values()) if (q.role === 'customer') q.send({ type: 'navigate/proposed', proposal: this.#proposal });
        this.#broadcastState();
        return;
      }
      case 'navigate/approve':
      case 'navigate/decline': {
        const proposal = this.#proposal;
        if (!proposal || proposal.id !== msg.id) throw new VitrineError('NO_SUCH_PROPOSAL');
        this.#proposal = null;
        const approved = msg.type === 'navigate/approve';
        // The proposal id and proposer tie the answer to its proposal (evidence packs, server/audit/evidence.ts).
        this.#audit(approved ? 'navigation.approved' : 'navigation.declined', p, {
          host: new URL(proposal.url).host,
          proposal: proposal.id,
          proposedBy: this.#participants.get(proposal.by)?.sub ?? proposal.by,
        });
        const answered: ServerMessage = { type: 'navigate/answered', id: proposal.id, approved, url: proposal.url };
        // While paused only the proposer learns the answer (to their own proposal).
        for (const q of this.#participants.values()) if (!this.#paused || q.role === 'customer' || q.id === proposal.by) q.send(answered);
        this.#broadcastState();
        if (approved) await this.#page.navigate(proposal.url);
        return;
      }
      case 'navigate':
        await this.#page.navigate((await this.#init.checkUrl(msg.url)).href);
        return;
      case 'history':
        await this.#page.history(msg.action);
        return;
      case 'end':
        await this.end(p.role === 'customer' ? 'ended_by_customer' : 'ended_by_agent');
        return;
      case 'presence':
        this.#relayPresence(p, msg.presence);
        return;
      case 'device':
        await this.#emulateDevice(msg.device);
        return;
      case 'guard/confirm':
      case 'guard/decline':
        await this.#guards.answer(Session.#actor(p), msg.id, msg.type === 'guard/confirm');
        return;
    }
  }

  // ---- the customer's device ---------------------------------------------------------------

  #devicePending: Device | null = null;
  #deviceRunning = false;
  #deviceAt = 0;

  /**
   * Emulates the customer's device (only the customer sends it, see permissions.ts). A phone
   * turning around sends a few of these at once: the latest wins, at most one every
   * DEVICE_GAP_MS. Before consent the page is reloaded when the user agent changed, so that a
   * site which picks its layout by user agent shows its mobile one; later it keeps its state.
   */
  async #emulateDevice(d: Device): Promise<void> {
    this.#devicePending = d;
    if (this.#deviceRunning) return;
    this.#deviceRunning = true;
    try {
      while (this.#devicePending && this.#state !== 'ended') {
        const wait = this.#deviceAt + DEVICE_GAP_MS - this.#clock.now();
        if (wait > 0) await this.#clock.sleep(wait);
        const next = this.#devicePending;
        this.#devicePending = null;
        if (!next || (this.#state as SessionState) === 'ended') break;
        this.#deviceAt = this.#clock.now();
        const r = await this.#page.emulate(next);
        this.#log.info({ width: r.viewport.width, height: r.viewport.height, mobile: next.mobile, touch: next.touch }, 'customer device emulated');
        if (r.userAgentChanged && this.#state === 'waiting') await this.#page.history('reload');
        // Nobody keeps a picture of the old size: the next capture goes to everyone.
        this.#page.refresh();
      }
    } finally {
      this.#deviceRunning = false;
    }
  }

  /** Presence messages per participant: a bucket of PRESENCE_BURST refilled at PRESENCE_RATE/s. */
  readonly #presenceBudget = new WeakMap<Participant, { tokens: number; at: number }>();

  /**
   * Relays a pointer, laser spot, stroke or round trip to the other participants. It never
   * reaches the page. While the customer pauses, nothing of the customer's goes to staff.
   */
  #relayPresence(p: Participant, presence: Presence): void {
    const now = this.#clock.now();
    const b = this.#presenceBudget.get(p) ?? { tokens: PRESENCE_BURST, at: now };
    b.tokens = Math.min(PRESENCE_BURST, b.tokens + ((now - b.at) / 1000) * PRESENCE_RATE);
    b.at = now;
    this.#presenceBudget.set(p, b);
    if (b.tokens < 1) throw new VitrineError('RATE_LIMITED', `presence is limited to ${PRESENCE_RATE} messages a second`);
    b.tokens -= 1;
    const points = presence.kind === 'pointer' || presence.kind === 'laser' ? [[presence.x, presence.y]] : presence.kind === 'stroke' ? presence.points : [];
    for (const [x, y] of points) {
      if (x! < 0 || y! < 0 || x! >= this.viewport.width || y! >= this.viewport.height) throw new VitrineError('OUT_OF_VIEWPORT');
    }
    const out: ServerMessage = { type: 'presence', from: p.id, presence };
    for (const q of this.#participants.values()) {
      if (q === p) continue;
      if (this.#paused && p.role === 'customer' && q.role !== 'customer') continue;
      q.send(out);
    }
  }

  /** Input applied after the one before it (see the queue in #apply). */
  #inputs: Promise<void> = Promise.resolve();

  async #applyInput(p: Participant, i: Extract<ClientMessage, { type: 'input' }>['input']): Promise<void> {
    if (i.kind === 'paste' && !this.#clipboard.mayPaste(p.role)) throw new VitrineError('PASTE_REFUSED');
    if (p.role !== 'customer' && (i.kind === 'key' || i.kind === 'text' || i.kind === 'paste') && (await this.#page.focusIsMasked())) {
      throw new VitrineError('MASKED_FIELD');
    }
    // Guarded actions: checked at the hit-tested target or the focus, before anything is replayed.
    if (p.role !== 'customer' && (await this.#guards.check(Session.#actor(p), i)) === 'held') return;
    this.#clipboard.inputFrom(p.id, p.role);
    await this.#page.input(i).catch((e) => {
      // A refusal the page layer makes itself (a paste shortcut) keeps its code.
      throw e instanceof VitrineError ? e : new VitrineError('INPUT_FAILED', undefined, { cause: e });
    });
    if (i.kind === 'paste') this.#audit('clipboard.pasted', p, { chars: i.text.length });
    if (i.kind !== 'pointer' || i.action !== 'move') {
      this.#frames.inputApplied({ customer: true, staff: this.#staffMaySee() });
      this.#page.inputApplied();
    }
  }

  // ---- fan-out helpers ---------------------------------------------------------------------

  /** Staff views last sent, by participant: while paused, an unchanged view is not sent again. */
  readonly #sentToStaff = new WeakMap<Participant, string>();

  #broadcastState(except?: string): void {
    const full = this.snapshot();
    for (const p of this.#participants.values()) {
      if (p.id === except) continue;
      const snapshot = this.#snapshotFor(p, full);
      if (p.role !== 'customer') {
        // Even a blank update would tell staff that the customer moved: send only real changes.
        const text = JSON.stringify(snapshot);
        if (this.#paused && this.#sentToStaff.get(p) === text) continue;
        this.#sentToStaff.set(p, text);
      }
      p.send({ type: 'state', snapshot });
    }
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
    this.#audit('session.ended', null, { reason });
    if (this.#recorder) {
      const r = this.#recorder;
      this.#recorder = null;
      const last = lastLook ? await lastLook : null;
      const recorded = last ? this.#frames.forRecording(this.#frames.encode(last, this.#page.policy, 'staff'), this.participants) : null;
      if (recorded) r.frame(recorded);
      r.close();
      this.#audit('recording.stopped', null, { recording: r.header.id, frames: r.frames });
    }
    this.#cleanupIdle();
    this.#guards.drop('the session ended');
    this.#clock.clear(this.#shieldTimer);
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
    this.#proposal = null;
    this.#control = null;
    this.#init.onEnded(this);
    await this.#page.close();
  }
}

/**
 * The consent text the customer's view reports it showed (client/src/customer.ts), for the
 * audit and the evidence pack: language, the text, and its SHA-256. The address line is already
 * without query and fragment, and the verification code is blanked, before it is sent.
 */
function consentShown(shown: { lang: string; text: string } | undefined): Record<string, string> {
  if (!shown) return {};
  return { lang: shown.lang, consentText: shown.text, consentTextSha256: createHash('sha256').update(shown.text).digest('hex') };
}
