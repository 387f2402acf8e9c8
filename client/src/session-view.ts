/**
 * What the customer view and the agent console share: the connection, the canvas, notices and
 * errors, the input gate, and the two ways a session stops showing: it ended (for good), or the
 * connection was lost (a Reconnect button may bring it back). Either way the pixels are wiped.
 */
import type { ClientMessage, EndReason, Input, NoticeCode, Role, ServerMessage, SessionSnapshot } from '../../server/protocol.ts';
import { CloseCodes, type WireErrorCode } from '../../server/contract/errors.ts';
import { Connection, FINAL_CLOSE_CODES } from './connection.ts';
import { dismissConfirm } from './confirm.ts';
import { $, note, setState, show } from './dom.ts';
import { Viewer } from './viewer.ts';
import type { CloseInfo } from './words.ts';

export type Joined = Extract<ServerMessage, { type: 'joined' }>;
export type CloseKind = 'ended' | 'refused' | 'lost' | 'replaced';

export interface SessionViewHooks {
  onJoined?(m: Joined): void;
  onSnapshot(s: SessionSnapshot): void;
  onMessage?(m: ServerMessage): void;
  /**
   * `ended`: the session is over. `refused`: the server would not let this token join.
   * `lost`: the connection is gone, the session may not be. `replaced`: this customer opened
   * the session again elsewhere (CloseCodes.REPLACED, 4410); the newer window has it, this one is done.
   */
  onClosed(kind: CloseKind, text: string, info: CloseInfo | null): void;
  /**
   * The words a page shows (the customer's are plain, see words.ts); without them the server's
   * own messages are shown, which suit agents.
   */
  words?: {
    close(c: CloseInfo): { text: string; final: boolean };
    /** The whole sentence, "Session ended: …" included. */
    ended(reason: EndReason): string;
    notice(code: NoticeCode, message: string, params?: unknown): string;
    /** The overlay's own words ("Connecting…", "Waiting for the page…"). */
    text?(english: string): string;
    error(code: WireErrorCode, message: string): string;
  };
  /** Whether the policy in force is shown (staff care; to a customer it is jargon). */
  showPolicy?: boolean;
}

/** A refusal with the same code is shown again only after this long. */
const REPEAT_ERROR_MS = 5000;

export class SessionView {
  readonly viewer: Viewer;
  readonly #hooks: SessionViewHooks;
  #conn: Connection | null = null;
  #target: { session: string; token: () => string } | null = null;
  #snapshot: SessionSnapshot | null = null;
  #you = '';
  #role: Role | null = null;
  #joined = false;
  #ended = false;
  #lastError = { code: '', at: 0 };
  /** Whether the one input that may be refused under the current snapshot has gone out. */
  #probed = false;
  /** Keys are held back after the server refused typing into a masked field, until a click. */
  #keysHeld = false;
  /** When this view reconnected by itself lately (bounded, so a loop cannot form). */
  #autoReconnects: number[] = [];
  /** The error that refused the join, kept to say why the socket then closed. */
  #refusal: CloseInfo['refusal'] = null;

  constructor(hooks: SessionViewHooks) {
    this.#hooks = hooks;
    this.viewer = new Viewer({
      canvas: $<HTMLCanvasElement>('screen'),
      overlay: $('overlay'),
      overlayText: $('overlay-text'),
      send: (input) => this.#sendInput(input),
      say: (english) => this.#say(english),
      onPolicy: (t) => {
        const el = document.getElementById('policy');
        if (el && hooks.showPolicy !== false) el.textContent = t;
      },
    });
    $('reconnect').addEventListener('click', () => {
      if (this.#target) this.connect(this.#target.session, this.#target.token);
    });
  }

  get snapshot(): SessionSnapshot | null {
    return this.#snapshot;
  }
  get you(): string {
    return this.#you;
  }

  /** `token` is read at each (re)connection: a customer's changes after every join. */
  connect(session: string, token: () => string): void {
    this.#conn?.close();
    this.#target = { session, token };
    this.#ended = false;
    this.#joined = false;
    this.#refusal = null;
    document.body.dataset.connection = 'connecting';
    show($('reconnect'), false);
    this.viewer.showMessage(this.#say('Connecting…'));
    this.#conn = new Connection(session, token(), {
      onFrame: (f) => {
        if (this.#joined && !this.#ended) this.viewer.frame(f);
      },
      onMessage: (m) => this.#onMessage(m),
      onClose: (reason, code) => this.#onClose(reason, code),
    });
  }

  send(m: ClientMessage): void {
    this.#conn?.send(m);
  }

  /** Input from elsewhere than the canvas (touch, the phone's keyboard), under the same rules. */
  input(i: Input): void {
    this.#sendInput(i);
  }

  /** Leaves the session quietly (signing out, starting another one). */
  disconnect(message = 'No session'): void {
    this.#conn?.close();
    this.#conn = null;
    this.#target = null;
    document.body.dataset.connection = 'closed';
    this.#forget();
    this.viewer.wipe(message);
    show($('reconnect'), false);
  }

  #sendInput(input: Input): void {
    const s = this.#snapshot;
    if (!s || s.state !== 'live') return;
    if ((input.kind === 'pointer' && input.action === 'down') || (input.kind === 'touch' && input.action === 'start')) this.#keysHeld = false;
    if (this.#keysHeld && (input.kind === 'key' || input.kind === 'text' || input.kind === 'paste')) return;
    const drives = this.#role === 'customer' || (s.control === this.#you && !s.paused && s.verified);
    if (!drives) {
      // The server refuses all of it, and enough refusals close the socket: let one deliberate
      // action through so its refusal is shown, and hold the rest until the snapshot changes.
      const deliberate = input.kind === 'text' || input.kind === 'paste' || (input.kind !== 'wheel' && (input.action === 'down' || input.action === 'start'));
      if (!deliberate || this.#probed) return;
      this.#probed = true;
    }
    this.send({ type: 'input', input });
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'joined':
        this.#joined = true;
        document.body.dataset.connection = 'open';
        this.#you = m.you;
        this.#role = m.role;
        this.viewer.setViewport(m.viewport);
        this.viewer.showMessage(this.#say('Waiting for the page…'));
        this.#hooks.onJoined?.(m);
        this.#setSnapshot(m.snapshot);
        break;
      case 'state':
        this.#setSnapshot(m.snapshot);
        break;
      case 'notice':
        note(this.#hooks.words ? this.#hooks.words.notice(m.code, m.message, m.params) : m.message);
        break;
      case 'error': {
        if (m.ref === 'join' && !this.#joined) {
          // Said once the socket closes, in words that fit why.
          this.#refusal = { code: m.code, ...(m.reason ? { reason: m.reason } : {}) };
          break;
        }
        if (m.code === 'MASKED_FIELD') this.#keysHeld = true;
        // Refusals repeat while someone keeps clicking or typing; say each once in a while.
        const now = Date.now();
        const text = this.#hooks.words ? this.#hooks.words.error(m.code, m.message) : `Refused: ${m.message}`;
        if (this.#lastError.code !== m.code || now - this.#lastError.at > REPEAT_ERROR_MS) note(text, 'error');
        this.#lastError = { code: m.code, at: now };
        break;
      }
      case 'ended':
        this.#close('ended', this.#hooks.words ? this.#hooks.words.ended(m.reason) : `Session ended: ${m.message}`);
        break;
      default:
        break;
    }
    this.#hooks.onMessage?.(m);
  }

  #onClose(reason: string, code: number): void {
    this.#conn = null;
    if (this.#ended) return;
    // A cluster node relaying this connection is draining: rejoin through another one, a few
    // times at most, spread out so that many participants do not arrive at once.
    const now = Date.now();
    this.#autoReconnects = this.#autoReconnects.filter((t) => t > now - 60_000);
    if (code === CloseCodes.RECONNECT && this.#joined && this.#target && this.#autoReconnects.length < 3) {
      this.#autoReconnects.push(now);
      const target = this.#target;
      this.viewer.showMessage(this.#say('Reconnecting…', 'view.reconnecting'));
      setTimeout(
        () => {
          if (this.#target === target && !this.#conn) this.connect(target.session, target.token);
        },
        200 + Math.random() * 800,
      );
      return;
    }
    // A session that is gone cannot be rejoined; anything else is worth another try.
    const info: CloseInfo = { code, joined: this.#joined, refusal: this.#refusal };
    const worded = this.#hooks.words?.close(info);
    const final = worded ? worded.final : FINAL_CLOSE_CODES.has(code);
    const text = worded ? worded.text : this.#joined ? `Connection lost: ${reason}` : `Could not join the session: ${reason}`;
    $('reconnect').textContent = this.#say(this.#joined ? 'Reconnect' : 'Try again');
    // Replaced by the same customer's newer connection: final, and nothing to retry here.
    const kind: CloseKind = code === CloseCodes.REPLACED ? 'replaced' : final && !this.#joined ? 'refused' : 'lost';
    this.#close(kind, text, info);
    show($('reconnect'), !final && this.#target !== null);
  }

  #setSnapshot(s: SessionSnapshot): void {
    this.#snapshot = s;
    this.#probed = false;
    setState(s.state);
    this.viewer.enable(s.state === 'live');
    if (s.state === 'waiting') this.viewer.showMessage(this.#role === 'customer' ? this.#say('Waiting for your answer…') : 'Waiting for the customer to accept…');
    // Pausing hides the page from staff only; the customer keeps using it.
    else if (s.state === 'live' && s.paused && this.#role !== 'customer') this.viewer.showMessage('The customer paused sharing.');
    else if (s.state === 'live' && s.shielded)
      this.viewer.showMessage(
        this.#role === 'customer' && this.#hooks.words?.text ? this.#say('', 'view.protected') : `Protected content: the page is hidden until its privacy policy is confirmed (${s.shielded}).`,
      );
    else if (s.state === 'live' && !s.verified && this.#role !== 'customer') this.viewer.showMessage('Confirm the code the customer reads out to see the page.');
    else if (s.state === 'live') this.viewer.reveal();
    this.#hooks.onSnapshot(s);
  }

  #close(kind: CloseKind, text: string, info: CloseInfo | null = null): void {
    this.#ended = kind !== 'lost';
    dismissConfirm();
    this.#conn?.close();
    this.#conn = null;
    this.#forget();
    this.viewer.wipe(text);
    setState('ended');
    document.body.dataset.connection = kind;
    $('status').textContent = text;
    this.#hooks.onClosed(kind, text, info);
  }

  /** The page's words for one of the view's own texts (the customer's catalogue), else as given. */
  #say(english: string, key = english): string {
    return this.#hooks.words?.text?.(key) ?? english;
  }

  #forget(): void {
    this.#snapshot = null;
    this.#you = '';
    this.#role = null;
    this.#joined = false;
    this.#probed = false;
    this.#keysHeld = false;
  }
}
