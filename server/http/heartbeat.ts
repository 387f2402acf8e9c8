/**
 * WebSocket heartbeat: a protocol-level ping to every watched socket each interval; a socket that
 * has left `misses` pings in a row without a pong is terminated. Only a pong counts: it proves the
 * peer read everything sent before the ping (a peer that sends but never reads is not alive), and
 * browsers answer pings in their network stack even while the page's script is busy. Without it a
 * half-open connection (a phone that changed networks, a cut without FIN) would look present for
 * as long as the kernel keeps the socket, and its customer could not come back (4409).
 *
 * A dead socket is detected between misses × interval and (misses + 1) × interval after it went
 * silent. terminate() (not close()) because a close handshake cannot finish on a dead link; the
 * socket's 'close' event then fires at once and the usual leave path runs.
 */
import type { WebSocket } from 'ws';

export interface HeartbeatOptions {
  intervalMs: number;
  /** Unanswered pings in a row after which the socket is terminated. */
  misses: number;
}

export class Heartbeat {
  readonly intervalMs: number;
  readonly misses: number;
  /** Each watched socket and the pings it has left unanswered. */
  readonly #sockets = new Map<WebSocket, { unanswered: number; onDead: () => void }>();
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: HeartbeatOptions) {
    this.intervalMs = opts.intervalMs;
    this.misses = opts.misses;
  }

  /** The longest a silent socket stays before it is terminated. */
  get boundMs(): number {
    return (this.misses + 1) * this.intervalMs;
  }

  /** Watches a socket until it closes; onDead runs just before a silent one is terminated. */
  watch(socket: WebSocket, onDead: () => void = () => undefined): void {
    const entry = { unanswered: 0, onDead };
    this.#sockets.set(socket, entry);
    socket.on('pong', () => {
      entry.unanswered = 0;
    });
    socket.once('close', () => this.#sockets.delete(socket));
    // One timer for all sockets: a thousand participants cost one wake-up per interval.
    this.#timer ??= setInterval(() => this.#tick(), this.intervalMs).unref();
  }

  get watching(): number {
    return this.#sockets.size;
  }

  #tick(): void {
    for (const [socket, entry] of this.#sockets) {
      if (socket.readyState === socket.CLOSED) {
        this.#sockets.delete(socket);
        continue;
      }
      if (socket.readyState !== socket.OPEN) continue; // still connecting, or closing on its own
      if (entry.unanswered >= this.misses) {
        this.#sockets.delete(socket);
        entry.onDead();
        socket.terminate();
        continue;
      }
      entry.unanswered++;
      try {
        socket.ping();
      } catch {
        // The socket broke between the state check and the write; its 'close' follows.
      }
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#sockets.clear();
  }
}
