/**
 * Latest-frame-wins delivery on one socket: at most one frame is in flight and at most one waits
 * behind it, replaced by each newer frame, so a slow reader skips frames, its buffered bytes stay
 * bounded, and nobody else waits for it. Used for participants and for the cluster relay.
 */
import { SocketState, type ParticipantSocket } from '../core/ports.ts';

/** Buffered bytes above which a socket is considered behind even with no frame in flight. */
export const MAX_BUFFERED_BYTES = 2 * 1024 * 1024;

export type FrameOutcome = 'sent' | 'queued' | 'skipped' | 'closed';

export class LatestFrameSender {
  readonly #socket: ParticipantSocket;
  #inFlight = false;
  #pending: Uint8Array | null = null;
  framesSent = 0;
  framesSkipped = 0;
  bytesSent = 0;

  constructor(socket: ParticipantSocket) {
    this.#socket = socket;
  }

  /** Queues a frame; 'skipped' means it replaced one this reader never got. */
  send(frame: Uint8Array): FrameOutcome {
    if (this.#socket.readyState !== SocketState.OPEN) return 'closed';
    if (this.#inFlight || this.#socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      const skipped = this.#pending !== null;
      if (skipped) this.framesSkipped++;
      this.#pending = frame;
      return skipped ? 'skipped' : 'queued';
    }
    this.#write(frame);
    return 'sent';
  }

  #write(frame: Uint8Array): void {
    this.#inFlight = true;
    this.framesSent++;
    this.bytesSent += frame.byteLength;
    this.#socket.send(frame, { binary: true }, () => {
      this.#inFlight = false;
      const next = this.#pending;
      this.#pending = null;
      if (next && this.#socket.readyState === SocketState.OPEN) this.#write(next);
    });
  }

  drop(): void {
    this.#pending = null;
  }
}
