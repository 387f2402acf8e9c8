/**
 * What the customer view and the agent console share: the connection, the canvas, the state
 * banner data, notices and errors, and the end of a session (canvas wiped, state dropped).
 */
import type { ClientMessage, ServerMessage, SessionSnapshot } from '../../server/protocol.ts';
import { Connection } from './connection.ts';
import { $, note, setState } from './dom.ts';
import { Viewer } from './viewer.ts';

export interface SessionViewHooks {
  onJoined?(m: Extract<ServerMessage, { type: 'joined' }>): void;
  onSnapshot(s: SessionSnapshot): void;
  onMessage?(m: ServerMessage): void;
  onEnded(message: string): void;
}

export class SessionView {
  readonly viewer: Viewer;
  #conn: Connection | null = null;
  #snapshot: SessionSnapshot | null = null;
  #you = '';
  #ended = false;
  #lastError = '';
  readonly #hooks: SessionViewHooks;

  constructor(hooks: SessionViewHooks) {
    this.#hooks = hooks;
    this.viewer = new Viewer($<HTMLCanvasElement>('screen'), $('overlay'), (input) => this.send({ type: 'input', input }), (t) => ($('policy').textContent = t));
  }

  get snapshot(): SessionSnapshot | null {
    return this.#snapshot;
  }
  get you(): string {
    return this.#you;
  }
  get ended(): boolean {
    return this.#ended;
  }

  connect(session: string, token: string): void {
    this.#ended = false;
    this.viewer.showMessage('Connecting…');
    this.#conn = new Connection(session, token, {
      onFrame: (f) => {
        if (!this.#ended) this.viewer.frame(f);
      },
      onMessage: (m) => this.#onMessage(m),
      onClose: (reason) => {
        if (!this.#ended) this.#end(reason);
      },
    });
  }

  send(m: ClientMessage): void {
    this.#conn?.send(m);
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'joined':
        this.#you = m.you;
        this.viewer.setViewport(m.viewport);
        this.#hooks.onJoined?.(m);
        this.#setSnapshot(m.snapshot);
        break;
      case 'state':
        this.#setSnapshot(m.snapshot);
        break;
      case 'notice':
        note(m.message);
        break;
      case 'error':
        // Refusals repeat while someone keeps typing; say each one once in a row.
        if (this.#lastError !== m.code) note(`Refused: ${m.message}`);
        this.#lastError = m.code;
        break;
      case 'ended':
        this.#end(m.message);
        break;
      default:
        break;
    }
    this.#hooks.onMessage?.(m);
  }

  #setSnapshot(s: SessionSnapshot): void {
    this.#snapshot = s;
    setState(s.state);
    this.viewer.enable(s.state === 'live');
    if (s.state === 'waiting') this.viewer.showMessage('Waiting for the customer to accept…');
    if (s.state === 'live' && s.paused) this.viewer.showMessage('The customer paused sharing.');
    else if (s.state === 'live' && s.shielded) this.viewer.showMessage(`Protected content: the page is hidden until its privacy policy is confirmed (${s.shielded}).`);
    else if (s.state === 'live') this.viewer.showMessage(null);
    this.#hooks.onSnapshot(s);
  }

  #end(message: string): void {
    this.#ended = true;
    this.#snapshot = null;
    this.viewer.wipe(`Session ended: ${message}`);
    setState('ended');
    $('status').textContent = `Session ended: ${message}`;
    this.#conn?.close();
    this.#conn = null;
    this.#hooks.onEnded(message);
  }
}
