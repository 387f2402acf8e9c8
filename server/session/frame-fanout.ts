/**
 * A session's two frame streams. The customer's stream carries the page as it is and reaches
 * the customer only; the staff stream carries frames captured with every mask confirmed on and
 * reaches agents, supervisors and the recording. Each stream has its own sequence, its own
 * newest frame (for a late joiner) and its own input-to-frame timing; no customer frame is ever
 * stored where a staff frame is looked up. A frame captured masked and confirmed with nothing
 * masked in view is encoded once per stream (the header names the audience).
 */
import type { Audience, CapturedFrame, PolicyStamp } from '../core/ports.ts';
import type { SessionMetrics } from '../metrics.ts';
import { encodeFrame, type Viewport } from '../protocol.ts';
import type { Participant } from './participant.ts';

export type Lane = Audience;

export const laneOf = (p: Participant): Lane => (p.role === 'customer' ? 'customer' : 'staff');

/**
 * The staff lane's per-viewer forensic marks (server/session/watermark.ts, built by the session
 * and handed in; this module never imports it). Only staff deliveries and the recording call it;
 * a customer's frame never reaches it. Null result: the frame could not be marked, and that
 * viewer gets nothing this time rather than an unmarked frame.
 */
export interface StaffMarker {
  forViewer(encoded: Uint8Array, viewer: Participant): Uint8Array | null;
  forRecording(encoded: Uint8Array, viewers: Participant[]): Uint8Array | null;
}

export class FrameFanout {
  readonly counters = { framesCaptured: 0, framesWithheld: 0, framesSent: 0, customerFrames: 0, staffFrames: 0 };
  readonly #viewport: Viewport;
  readonly #metrics: SessionMetrics;
  readonly #seq: Record<Lane, number> = { customer: 0, staff: 0 };
  readonly #last: Record<Lane, Uint8Array | null> = { customer: null, staff: null };
  readonly #inputAt: Record<Lane, number> = { customer: 0, staff: 0 };
  #anyInputAt = 0;
  #marker: StaffMarker | null = null;

  constructor(viewport: Viewport, metrics: SessionMetrics) {
    this.#viewport = viewport;
    this.#metrics = metrics;
  }

  last(lane: Lane): Uint8Array | null {
    return this.#last[lane];
  }

  /** Encodes a frame for one stream; the result goes to every participant of that stream as is. */
  encode(frame: CapturedFrame, policy: PolicyStamp, lane: Lane): Uint8Array {
    this.counters.framesCaptured++;
    this.counters[lane === 'customer' ? 'customerFrames' : 'staffFrames']++;
    this.#metrics.framesCaptured.inc();
    // The next frame to arrive after an input. Not filtered on the frame's capture time: a
    // capture that began just before an input can already show it.
    const now = Date.now();
    if (this.#inputAt[lane]) {
      this.#metrics.inputToAudienceFrame.observe({ audience: lane }, (now - this.#inputAt[lane]) / 1000);
      this.#inputAt[lane] = 0;
    }
    if (this.#anyInputAt) {
      this.#metrics.inputToFrame.observe((now - this.#anyInputAt) / 1000);
      this.#anyInputAt = 0;
    }
    const encoded = encodeFrame(
      {
        seq: ++this.#seq[lane],
        ts: frame.capturedAt,
        width: frame.width,
        height: frame.height,
        viewport: frame.viewport ?? this.#viewport,
        policy: policy.name,
        policyVersion: policy.version,
        audience: lane,
        quality: frame.quality,
      },
      frame.jpeg,
    );
    this.#last[lane] = encoded;
    this.#metrics.frameBytes.observe(encoded.byteLength);
    return encoded;
  }

  /** Marks staff frames per viewer from now on (the policy's `watermark`, unless off). */
  setStaffMarker(marker: StaffMarker | null): void {
    this.#marker = marker;
  }

  deliver(p: Participant, frame: Uint8Array): void {
    if (this.#marker && laneOf(p) === 'staff') {
      const marked = this.#marker.forViewer(frame, p);
      if (!marked) return;
      frame = marked;
    }
    const r = p.sendFrame(frame);
    if (r === 'closed') return;
    this.counters.framesSent++;
    this.#metrics.framesSent.inc({ role: p.role });
    if (r === 'skipped') this.#metrics.framesDropped.inc({ role: p.role });
  }

  /** The staff frame as the recording keeps it: with the mark of whoever was viewing. */
  forRecording(frame: Uint8Array, viewers: Participant[]): Uint8Array | null {
    return this.#marker
      ? this.#marker.forRecording(
          frame,
          viewers.filter((p) => laneOf(p) === 'staff'),
        )
      : frame;
  }

  withheld(): void {
    this.counters.framesWithheld++;
    this.#metrics.framesWithheld.inc();
  }

  /** Starts input-to-frame measurements on the streams someone watches, unless one is running. */
  inputApplied(lanes: { customer: boolean; staff: boolean }): void {
    const now = Date.now();
    if (!this.#anyInputAt) this.#anyInputAt = now;
    for (const lane of ['customer', 'staff'] as const) if (lanes[lane] && !this.#inputAt[lane]) this.#inputAt[lane] = now;
  }

  /** Forgets the newest staff frame (pause: nothing from before it may reach a new joiner). */
  clearStaff(): void {
    this.#last.staff = null;
  }

  clear(): void {
    this.#last.customer = null;
    this.#last.staff = null;
  }
}
