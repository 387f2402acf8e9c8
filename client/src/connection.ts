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
  4401: 'The link or token is not valid (it may have been used already or expired).',
  4404: 'This session does not exist or has ended.',
  4409: 'This session is already open in another window.',
  4408: 'The connection timed out.',
  4429: 'Too many refused messages; the connection was closed.',
  1009: 'A message was too large.',
};

export class Connection {
  readonly #ws: WebSocket;

  constructor(session: string, token: string, handlers: ConnectionHandlers) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', session, token } satisfies ClientMessage));
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') {
        handlers.onMessage(JSON.parse(e.data) as ServerMessage);
        return;
      }
      try {
        handlers.onFrame(decodeFrame(new Uint8Array(e.data as ArrayBuffer)));
      } catch {
        // A malformed frame is dropped; the next one replaces it.
      }
    };
    ws.onclose = (e) => handlers.onClose(e.reason || CLOSE_TEXT[e.code] || 'The connection was lost.', e.code);
    this.#ws = ws;
  }

  send(message: ClientMessage): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  close(): void {
    this.#ws.close();
  }
}
