/**
 * One participant's connection: frames go out latest-frame-wins (latest-frame.ts), incoming
 * messages pass a token bucket, and refusals are counted towards the abuse limit.
 */
import { SocketState, type ParticipantSocket } from '../core/ports.ts';
import { VitrineError, toWire, type ErrorCode, type WireErrorCode } from '../errors.ts';
import type { ParticipantInfo, Role, ServerMessage } from '../protocol.ts';
import { LatestFrameSender, type FrameOutcome } from './latest-frame.ts';

export interface ParticipantStats {
  framesSent: number;
  framesSkipped: number;
  bytesSent: number;
}

export class Participant {
  readonly id: string;
  readonly role: Role;
  readonly sub: string;
  readonly name: string;
  readonly socket: ParticipantSocket;
  readonly #frames: LatestFrameSender;
  #refusals: number[] = [];
  #tokens: number;
  #tokensAt = Date.now();

  static readonly RATE_PER_SECOND = 120;
  static readonly BURST = 240;
  static readonly ABUSE_REFUSALS = 50;
  static readonly ABUSE_WINDOW_MS = 10_000;

  readonly #onRefusal: (code: ErrorCode) => void;

  constructor(opts: { id: string; role: Role; sub: string; name: string; socket: ParticipantSocket; onRefusal?: (code: ErrorCode) => void }) {
    this.#onRefusal = opts.onRefusal ?? (() => undefined);
    this.id = opts.id;
    this.role = opts.role;
    this.sub = opts.sub;
    this.name = opts.name;
    this.socket = opts.socket;
    this.#frames = new LatestFrameSender(opts.socket);
    this.#tokens = Participant.BURST;
  }

  get info(): ParticipantInfo {
    return { id: this.id, role: this.role, name: this.name };
  }

  get open(): boolean {
    return this.socket.readyState === SocketState.OPEN;
  }

  send(message: ServerMessage): void {
    if (!this.open) return;
    this.socket.send(JSON.stringify(message));
  }

  /** Refuses one message (`ref`: its type) with a code; the message defaults to the catalogue's. */
  refuse(code: WireErrorCode, message?: string, ref?: string): void {
    this.refuseWith(new VitrineError(code, message), ref);
  }

  /** Refuses with whatever was thrown, in its wire form (INTERNAL unless coded); returns that. */
  refuseWith(e: unknown, ref?: string): VitrineError {
    const { message, error } = toWire(e, ref);
    this.#onRefusal(message.code);
    this.send(message);
    return error;
  }

  get stats(): ParticipantStats {
    return { framesSent: this.#frames.framesSent, framesSkipped: this.#frames.framesSkipped, bytesSent: this.#frames.bytesSent };
  }

  /** Queues a frame; returns 'skipped' when it replaced one this participant never got. */
  sendFrame(frame: Uint8Array): FrameOutcome {
    return this.#frames.send(frame);
  }

  /** Token bucket for incoming messages; false means refuse this one. */
  takeToken(now = Date.now()): boolean {
    this.#tokens = Math.min(Participant.BURST, this.#tokens + ((now - this.#tokensAt) / 1000) * Participant.RATE_PER_SECOND);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Counts a refusal; true when the participant has crossed the abuse threshold. */
  noteRefusal(now = Date.now()): boolean {
    this.#refusals.push(now);
    while (this.#refusals.length && this.#refusals[0]! < now - Participant.ABUSE_WINDOW_MS) this.#refusals.shift();
    return this.#refusals.length >= Participant.ABUSE_REFUSALS;
  }

  dropFrames(): void {
    this.#frames.drop();
  }

  close(code: number, reason: string): void {
    this.dropFrames();
    if (this.socket.readyState === SocketState.OPEN || this.socket.readyState === SocketState.CONNECTING) {
      this.socket.close(code, reason.slice(0, 120));
    }
  }
}
