/**
 * A session's frames: each captured frame is encoded once (header + JPEG) into one buffer that
 * every participant's socket shares, and counted; the newest is kept for whoever needs a frame
 * at once (a late joiner, a static page). Also times input-to-frame latency.
 */
import type { PolicyStamp } from '../browser/frame-gate.ts';
import type { CapturedFrame } from '../browser/session-page.ts';
import type { SessionMetrics } from '../metrics.ts';
import { encodeFrame, type Viewport } from '../protocol.ts';
import type { Participant } from './participant.ts';

export class FrameFanout {
  readonly counters = { framesCaptured: 0, framesWithheld: 0, framesSent: 0 };
  readonly #viewport: Viewport;
  readonly #metrics: SessionMetrics;
  #seq = 0;
  #last: Uint8Array | null = null;
  #inputAt = 0;

  constructor(viewport: Viewport, metrics: SessionMetrics) {
    this.#viewport = viewport;
    this.#metrics = metrics;
  }

  get last(): Uint8Array | null {
    return this.#last;
  }

  /** Encodes a frame that passed the redaction gate; the result goes to every participant as is. */
  encode(frame: CapturedFrame, policy: PolicyStamp): Uint8Array {
    this.counters.framesCaptured++;
    this.#metrics.framesCaptured.inc();
    // The next frame to arrive after an input. Not filtered on the frame's capture time:
    // Chromium stamps a frame with its begin time, which can precede an input it already shows,
    // and a page whose caret does not blink may send no frame after that one.
    if (this.#inputAt) {
      this.#metrics.inputToFrame.observe((Date.now() - this.#inputAt) / 1000);
      this.#inputAt = 0;
    }
    const encoded = encodeFrame(
      { seq: ++this.#seq, ts: frame.capturedAt, width: frame.width, height: frame.height, viewport: this.#viewport, policy: policy.name, policyVersion: policy.version },
      frame.jpeg,
    );
    this.#last = encoded;
    this.#metrics.frameBytes.observe(encoded.byteLength);
    return encoded;
  }

  deliver(p: Participant, frame: Uint8Array): void {
    const r = p.sendFrame(frame);
    if (r === 'closed') return;
    this.counters.framesSent++;
    this.#metrics.framesSent.inc({ role: p.role });
    if (r === 'skipped') this.#metrics.framesDropped.inc({ role: p.role });
  }

  withheld(): void {
    this.counters.framesWithheld++;
    this.#metrics.framesWithheld.inc();
  }

  /** Starts an input-to-frame measurement unless one is running. */
  inputApplied(): void {
    if (!this.#inputAt) this.#inputAt = Date.now();
  }

  clear(): void {
    this.#last = null;
  }
}
