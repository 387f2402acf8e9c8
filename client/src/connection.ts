/**
 * One participant's WebSocket to the server: joins, passes text messages to `onMessage`,
 * frames to `onFrame`, and reports why it closed in words a person understands.
 */
import { decodeFrame, type ClientMessage, type DecodedFrame, type ServerMessage } from '../../server/protocol.ts';

export interface ConnectionHandlers {
  onMessage(m: ServerMessage): void;
  onFrame(f: DecodedFrame): void;
  onClose(reason: string, code: number): void;
}

const CLOSE_TEXT: Record<number, string> = {
  4400: 'The server did not accept the request to join.',
  4401: 'The link or token is not valid (it may have been used already or expired).',
  4404: 'This session does not exist or has ended.',
  4408: 'Joining took too long.',
  4409: 'This session is already open in another window.',
  4410: 'This session was opened in another window or tab.',
  4429: 'Too many refused messages; the server closed the connection.',
  1001: 'The server went away.',
  1012: 'The server in between is restarting.',
  1009: 'A message was too large.',
};

/** The node relaying this connection is going away: join again at once, through another node. */
export const RECONNECT_CLOSE_CODE = 1012;

/** The customer joined again elsewhere (a reload, another tab) and that newer connection won. */
export const REPLACED_CLOSE_CODE = 4410;

/** Close codes after which trying the same token again cannot help. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4400, 4401, 4404, REPLACED_CLOSE_CODE]);

export class Connection {
  readonly #ws: WebSocket;
  #handlers: ConnectionHandlers | null;

  constructor(session: string, token: string, handlers: ConnectionHandlers) {
    this.#handlers = handlers;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', session, token } satisfies ClientMessage));
    ws.onmessage = (e) => {
      const h = this.#handlers;
      if (!h) return;
      if (typeof e.data === 'string') {
        let m: ServerMessage;
        try {
          m = JSON.parse(e.data) as ServerMessage;
        } catch {
          return;
        }
        h.onMessage(m);
        return;
      }
      let frame: DecodedFrame;
      try {
        frame = decodeFrame(new Uint8Array(e.data as ArrayBuffer));
      } catch {
        return; // a malformed frame is dropped; the next one replaces it
      }
      h.onFrame(frame);
    };
    ws.onclose = (e) => {
      const h = this.#handlers;
      this.#handlers = null;
      h?.onClose(e.reason || CLOSE_TEXT[e.code] || 'The connection to the server was lost.', e.code);
    };
    this.#ws = ws;
  }

  send(message: ClientMessage): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  /** Closes without reporting back: the caller already knows why. */
  close(): void {
    this.#handlers = null;
    this.#ws.close(1000);
  }
}
