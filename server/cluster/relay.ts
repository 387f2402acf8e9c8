/**
 * A participant attached through a node that does not own its session: bytes pass between the
 * participant's socket and a socket to the owner without being decoded. The owner validates,
 * rate-limits and answers as if the participant were its own; frames towards the participant
 * go latest-frame-wins here too, so a slow reader never makes this node buffer without bound.
 */
import type { RawData, WebSocket } from 'ws';
import { CloseCodes } from '../errors.ts';
import type { Heartbeat } from '../http/heartbeat.ts';
import type { EndReason, ServerMessage } from '../protocol.ts';
import { END_MESSAGES } from '../session/end-messages.ts';
import { LatestFrameSender } from '../session/latest-frame.ts';

/** Messages a participant may send before the owner's socket is open. */
const MAX_EARLY_MESSAGES = 64;
/** Input the owner has not read yet; beyond it the participant is flooding. */
const MAX_UPSTREAM_BUFFER = 1024 * 1024;

export class Relay {
  readonly session: string;
  readonly #client: WebSocket;
  readonly #frames: LatestFrameSender;
  #upstream: WebSocket | null = null;
  #early: { data: RawData; binary: boolean }[] = [];
  #done = false;
  readonly #onLost: (relay: Relay) => void;
  readonly #onClosed: (relay: Relay) => void;

  /**
   * onLost: the owner's socket broke without a close from the owner (node gone or network cut);
   * the cluster decides whether the session ended. onClosed: this relay is finished.
   */
  constructor(opts: { session: string; client: WebSocket; onLost(relay: Relay): void; onClosed(relay: Relay): void }) {
    this.session = opts.session;
    this.#client = opts.client;
    this.#frames = new LatestFrameSender(opts.client);
    this.#onLost = opts.onLost;
    this.#onClosed = opts.onClosed;
    opts.client.on('close', () => {
      this.#upstream?.close(CloseCodes.NORMAL, 'participant left');
      this.#finish();
    });
  }

  /** Starts piping; `join` is the participant's join message, sent first. */
  attach(upstream: WebSocket, join: string): void {
    if (this.#done) {
      upstream.terminate();
      return;
    }
    this.#upstream = upstream;
    upstream.on('open', () => {
      upstream.send(join);
      for (const m of this.#early.splice(0)) upstream.send(m.data, { binary: m.binary });
    });
    upstream.on('message', (data: RawData, binary: boolean) => {
      if (binary) this.#frames.send(toBuffer(data));
      else if (this.#client.readyState === this.#client.OPEN) this.#client.send(toBuffer(data), { binary: false });
    });
    upstream.on('error', () => undefined);
    upstream.on('close', (code: number, reason: Buffer) => {
      if (this.#done) return;
      // The owner closed on purpose (session ended, refusal, abuse): pass its code on.
      if (code === 1000 || (code >= 4000 && code < 5000)) this.close(code, reason.toString('utf8'));
      else this.#onLost(this);
    });
  }

  /**
   * Pings the owner's socket: a node that is gone without a FIN (network cut, frozen VM) is
   * noticed within the heartbeat bound and handled as lost (onLost), like a broken socket.
   */
  keepAlive(heartbeat: Heartbeat): void {
    if (this.#upstream && !this.#done) heartbeat.watch(this.#upstream);
  }

  /** A message from the participant. */
  fromClient(data: RawData, binary: boolean): void {
    const up = this.#upstream;
    if (!up || up.readyState === up.CONNECTING) {
      if (this.#early.length >= MAX_EARLY_MESSAGES) this.close(CloseCodes.ABUSE, 'too many messages before the session answered');
      else this.#early.push({ data, binary });
      return;
    }
    if (up.readyState !== up.OPEN) return;
    if (up.bufferedAmount > MAX_UPSTREAM_BUFFER) {
      this.close(CloseCodes.ABUSE, 'too many messages');
      return;
    }
    up.send(data, { binary });
  }

  /** Tells the participant the session ended (the owner could not), then closes. */
  end(reason: EndReason): void {
    if (this.#done) return;
    if (this.#client.readyState === this.#client.OPEN) this.#client.send(JSON.stringify({ type: 'ended', reason, message: END_MESSAGES[reason] } satisfies ServerMessage));
    this.close(CloseCodes.NORMAL, 'session ended');
  }

  close(code: number, reason: string): void {
    this.#frames.drop();
    this.#upstream?.terminate();
    if (this.#client.readyState === this.#client.OPEN || this.#client.readyState === this.#client.CONNECTING) this.#client.close(code, reason.slice(0, 120));
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#early = [];
    this.#onClosed(this);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}
