/**
 * A participant's socket without a network (the ParticipantSocket port): it keeps what the
 * session sent, decoded, and how it was closed.
 */
import { SocketState, type ParticipantSocket } from '../../../server/core/ports.ts';
import { decodeFrame, type FrameHeader, type ServerMessage } from '../../../server/protocol.ts';

export class FakeSocket implements ParticipantSocket {
  readyState: number = SocketState.OPEN;
  bufferedAmount = 0;
  readonly messages: ServerMessage[] = [];
  readonly frames: { header: FrameHeader; jpeg: Uint8Array }[] = [];
  closedWith: { code: number; reason: string } | null = null;

  send(data: string | Uint8Array, _options?: { binary?: boolean }, done?: (err?: Error) => void): void {
    if (typeof data === 'string') this.messages.push(JSON.parse(data) as ServerMessage);
    else this.frames.push(decodeFrame(data));
    // A real socket calls back once the bytes are written; the next frame may go then.
    if (done) queueMicrotask(() => done());
  }

  close(code: number, reason: string): void {
    if (this.readyState === SocketState.CLOSED) return;
    this.readyState = SocketState.CLOSED;
    this.closedWith = { code, reason };
  }

  /** The messages of one type, in order. */
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  last<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }> | undefined {
    return this.of(type).at(-1);
  }
}
