/**
 * One participant's WebSocket to the server: joins, passes text messages to `onMessage`,
 * frames to `onFrame`, and reports why it closed in words a person understands.
 */
import { CloseCodes } from '../../server/contract/errors.ts';
import { decodeFrame, type ClientMessage, type DecodedFrame, type ServerMessage } from '../../server/protocol.ts';

export interface ConnectionHandlers {
  onMessage(m: ServerMessage): void;
  onFrame(f: DecodedFrame): void;
  onClose(reason: string, code: number): void;
}

const CLOSE_TEXT: Record<number, string> = {
  [CloseCodes.BAD_REQUEST]: 'The server did not accept the request to join.',
  [CloseCodes.BAD_TOKEN]: 'The link or token is not valid (it may have been used already or expired).',
  [CloseCodes.NO_SUCH_SESSION]: 'This session does not exist or has ended.',
  [CloseCodes.JOIN_TIMEOUT]: 'Joining took too long.',
  [CloseCodes.CONFLICT]: 'This session is already open in another window.',
  [CloseCodes.REPLACED]: 'This session was opened in another window or tab.',
  [CloseCodes.ABUSE]: 'Too many refused messages; the server closed the connection.',
  [CloseCodes.GOING_AWAY]: 'The server went away.',
  [CloseCodes.RECONNECT]: 'The server in between is restarting.',
  [CloseCodes.TOO_BIG]: 'A message was too large.',
};

/**
 * Close codes after which trying the same token again cannot help. (RECONNECT: the node relaying
 * the connection is going away, join again at once; REPLACED: the customer joined again
 * elsewhere, a reload or another tab, and that newer connection won.)
 */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCodes.BAD_REQUEST, CloseCodes.BAD_TOKEN, CloseCodes.NO_SUCH_SESSION, CloseCodes.REPLACED]);

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
