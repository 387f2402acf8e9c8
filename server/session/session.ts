/**
 * A co-browsing session: its state machine (waiting → live → ended), its participants, who
 * holds control, the pending navigation proposal, and the frame fan-out. Every participant
 * message is authorized here through the permissions table; one bad message is refused with
 * a code and never takes the session down.
 */
import { randomBytes } from 'node:crypto';
import type { SessionPage, CapturedFrame } from '../browser/session-page.ts';
import { CloseCodes, ErrorCodes, VitrineError, isVitrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import {
  encodeFrame,
  type ClientMessage,
  type EndReason,
  type NavigationProposal,
  type NoticeCode,
  type ServerMessage,
  type SessionSnapshot,
  type SessionState,
  type Viewport,
} from '../protocol.ts';
import type { Participant } from './participant.ts';
import { authorize } from './permissions.ts';

export const END_MESSAGES: Record<EndReason, string> = {
  ended_by_customer: 'The customer ended the session.',
  ended_by_agent: 'The agent ended the session.',
  declined: 'The customer declined the session.',
  deleted: 'The session was ended through the API.',
  expired: 'The session expired.',
  customer_left: 'The customer left and did not come back.',
  browser_crashed: 'The session browser stopped unexpectedly; the session was ended.',
  page_crashed: 'The page crashed; the session was ended.',
  server_shutdown: 'The server is shutting down.',
  error: 'The session failed and was ended.',
};

export interface SessionInit {
  id: string;
  url: string;
  createdBy: { sub: string; name: string };
  viewport: Viewport;
  page: SessionPage;
  log: Logger;
  company: string;
  inviteExpiresAt: number;
  maxDurationMs: number;
  customerGraceMs: number;
  checkUrl(url: string): Promise<URL>;
  onEnded(session: Session): void;
}

export class Session {
  readonly id: string;
  readonly createdBy: { sub: string; name: string };
  readonly viewport: Viewport;
  readonly createdAt = Date.now();
  readonly inviteExpiresAt: number;
  #state: SessionState = 'waiting';
  #endReason: EndReason | null = null;
  readonly #participants = new Map<string, Participant>();
  #customerJti: string | null = null;
  #control: string | null = null;
  readonly #controlRequests = new Set<string>();
  #proposal: NavigationProposal | null = null;
  #url: string;
  #title = '';
  #seq = 0;
  #lastFrame: Uint8Array | null = null;
  readonly #page: SessionPage;
  readonly #log: Logger;
  readonly #init: SessionInit;
  readonly #timers = new Set<NodeJS.Timeout>();
  #customerGrace: NodeJS.Timeout | null = null;
  #ending: Promise<void> | null = null;
  readonly counters = { framesCaptured: 0, framesWithheld: 0, framesSent: 0 };

  constructor(init: SessionInit) {
    this.id = init.id;
    this.createdBy = init.createdBy;
    this.viewport = init.viewport;
    this.inviteExpiresAt = init.inviteExpiresAt;
    this.#url = init.url;
    this.#page = init.page;
    this.#log = init.log.child({ session: init.id });
    this.#init = init;
    this.#timer(init.inviteExpiresAt - Date.now(), () => {
      if (this.#state === 'waiting') void this.end('expired');
    });
    this.#timer(init.maxDurationMs, () => void this.end('expired'));
  }

  get state(): SessionState {
    return this.#state;
  }
  get endReason(): EndReason | null {
    return this.#endReason;
  }
  get participants(): Participant[] {
    return [...this.#participants.values()];
  }
  get page(): SessionPage {
    return this.#page;
  }

  #timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, Math.max(0, ms));
    t.unref();
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
      policy: this.#page.gate.policy,
    };
  }

  // ---- page events -------------------------------------------------------------------------

  /** Handlers for the session page; bound before the page exists, so they look the session up late. */
  onFrame(frame: CapturedFrame): void {
    if (this.#state === 'ended') return;
    this.counters.framesCaptured++;
    const policy = this.#page.gate.policy;
    const encoded = encodeFrame(
      { seq: ++this.#seq, ts: frame.capturedAt, width: frame.width, height: frame.height, viewport: this.viewport, policy: policy.name, policyVersion: policy.version },
      frame.jpeg,
    );
    this.#lastFrame = encoded;
    if (this.#state !== 'live') return;
    for (const p of this.#participants.values()) {
      p.sendFrame(encoded);
      this.counters.framesSent++;
    }
  }

  onWithheld(reason: string): void {
    this.counters.framesWithheld++;
    this.#log.debug({ reason }, 'frame withheld by the redaction gate');
  }

  onNavigated(info: { url: string; title: string }): void {
    if (info.url === 'about:blank' && this.#url !== 'about:blank') return;
    this.#url = info.url;
    this.#title = info.title;
    // A frame of the previous document must not be handed to someone who joins now.
    this.#broadcastState();
  }

  onNotice(code: NoticeCode, message: string): void {
    this.#broadcast({ type: 'notice', code, message });
  }

  // ---- participants ------------------------------------------------------------------------

  /** Adds a verified participant. A customer invite is single-connection at a time. */
  join(p: Participant, tokenId: string): void {
    if (this.#state === 'ended') throw new VitrineError('NO_SUCH_SESSION', 'the session has ended');
    if (p.role === 'customer') {
      const present = this.participants.find((q) => q.role === 'customer');
      if (present) throw new VitrineError('CUSTOMER_PRESENT');
      if (this.#customerJti && this.#customerJti !== tokenId) throw new VitrineError('BAD_TOKEN');
      this.#customerJti = tokenId;
      if (this.#customerGrace) {
        clearTimeout(this.#customerGrace);
        this.#timers.delete(this.#customerGrace);
        this.#customerGrace = null;
      }
    }
    this.#participants.set(p.id, p);
    p.send({ type: 'joined', protocol: 1, role: p.role, you: p.id, session: this.id, viewport: this.viewport, snapshot: this.snapshot(), company: this.#init.company });
    this.#log.info({ participant: p.id, role: p.role, sub: p.sub }, 'participant joined');
    this.#broadcastState(p.id);
    this.onNotice('PARTICIPANT_JOINED', `${p.name} (${p.role}) joined.`);
    if (this.#state === 'live') this.#sendCurrentFrame(p);
  }

  leave(p: Participant): void {
    if (!this.#participants.delete(p.id)) return;
    this.#controlRequests.delete(p.id);
    if (this.#control === p.id) this.#control = null;
    if (this.#state === 'ended') return;
    this.#log.info({ participant: p.id, role: p.role }, 'participant left');
    if (p.role === 'customer') {
      // Without the customer watching, nobody keeps control of their page.
      this.#control = null;
      this.#controlRequests.clear();
      this.#customerGrace = this.#timer(this.#init.customerGraceMs, () => void this.end('customer_left'));
    }
    this.onNotice('PARTICIPANT_LEFT', `${p.name} (${p.role}) left.`);
    this.#broadcastState();
  }

  #sendCurrentFrame(p: Participant): void {
    if (this.#lastFrame) p.sendFrame(this.#lastFrame);
    // Chromium sends nothing while the page does not repaint; a fresh capture covers that.
    void this.#page.captureNow();
  }

  // ---- messages ----------------------------------------------------------------------------

  async handle(p: Participant, msg: Exclude<ClientMessage, { type: 'join' }>): Promise<void> {
    if (this.#state === 'ended') return;
    const decision = authorize(p.role, msg.type, { live: this.#state === 'live', hasControl: this.#control === p.id });
    if (!decision.ok) {
      p.refuse(decision.code, ErrorCodes[decision.code].message, msg.type);
      if (p.noteRefusal()) this.#kick(p);
      return;
    }
    try {
      await this.#apply(p, msg);
    } catch (e) {
      const err = isVitrineError(e) ? e : new VitrineError('INTERNAL', undefined, { cause: e });
      if (!isVitrineError(e)) this.#log.error({ err: String(e), type: msg.type }, 'message handling failed');
      p.refuse(err.code, err.message, msg.type);
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
        p.send({ type: 'pong', t: msg.t, serverTime: Date.now() });
        return;
      case 'consent':
        if (this.#state !== 'waiting') throw new VitrineError('ALREADY_DECIDED');
        if (!msg.accept) {
          this.#log.info('customer declined');
          await this.end('declined');
          return;
        }
        this.#state = 'live';
        this.#log.info('customer consented; session is live');
        this.#broadcastState();
        for (const q of this.#participants.values()) if (this.#lastFrame) q.sendFrame(this.#lastFrame);
        void this.#page.captureNow();
        return;
      case 'input': {
        const i = msg.input;
        if (i.kind === 'pointer' || i.kind === 'wheel') {
          if (i.x < 0 || i.y < 0 || i.x >= this.viewport.width || i.y >= this.viewport.height) throw new VitrineError('OUT_OF_VIEWPORT');
        }
        if (p.role !== 'customer' && (i.kind === 'key' || i.kind === 'text') && this.#page.gate.focusIsMasked()) {
          throw new VitrineError('FORBIDDEN', 'agents may not type into a protected field');
        }
        await this.#page.input(i).catch((e) => {
          throw new VitrineError('INPUT_FAILED', undefined, { cause: e });
        });
        return;
      }
      case 'control/request':
        if (this.#control === p.id) return;
        this.#controlRequests.add(p.id);
        for (const q of this.#participants.values()) if (q.role === 'customer') q.send({ type: 'control/requested', by: p.info });
        this.#broadcastState();
        return;
      case 'control/grant': {
        const agent = [...this.#controlRequests].find((id) => this.#participants.has(id)) ?? this.participants.find((q) => q.role === 'agent')?.id;
        if (!agent) throw new VitrineError('NOT_AGENT', 'no agent is connected to receive control');
        this.#control = agent;
        this.#controlRequests.clear();
        this.#log.info({ participant: agent }, 'control granted');
        this.#broadcastState();
        return;
      }
      case 'control/revoke':
        this.#control = null;
        this.#controlRequests.clear();
        this.#log.info('control revoked');
        this.#broadcastState();
        return;
      case 'navigate/propose': {
        const url = (await this.#init.checkUrl(msg.url)).href;
        this.#proposal = { id: randomBytes(6).toString('base64url'), url, by: p.id };
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
        this.#broadcast({ type: 'navigate/answered', id: proposal.id, approved, url: proposal.url });
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
    }
  }

  // ---- fan-out helpers ---------------------------------------------------------------------

  #broadcast(message: ServerMessage): void {
    for (const p of this.#participants.values()) p.send(message);
  }

  #broadcastState(except?: string): void {
    const snapshot = this.snapshot();
    for (const p of this.#participants.values()) if (p.id !== except) p.send({ type: 'state', snapshot });
  }

  // ---- end ---------------------------------------------------------------------------------

  /** Ends the session the one way every cause shares; idempotent. */
  end(reason: EndReason): Promise<void> {
    this.#ending ??= this.#end(reason);
    return this.#ending;
  }

  async #end(reason: EndReason): Promise<void> {
    this.#state = 'ended';
    this.#endReason = reason;
    this.#log.info({ reason }, 'session ended');
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#lastFrame = null;
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
