/**
 * What each audience of a session sees: frames from the page to the customer (unmasked) and to
 * staff and the recording (masked, only while staff may see), the audiences the page is asked
 * to capture for, the latest frame handed to whoever may see it, and the recording itself.
 */
import type { Audience, CapturedFrame, SessionPage, SessionRecorder } from '../core/ports.ts';
import type { Logger } from '../log.ts';
import type { SessionMetrics } from '../metrics.ts';
import type { SessionState, Viewport } from '../protocol.ts';
import { FrameFanout, laneOf } from './frame-fanout.ts';
import type { Participant } from './participant.ts';
import { DEFAULT_WATERMARK, StaffWatermark, type WatermarkMode, type WatermarkStats } from './watermark.ts';

export interface ScreensDeps {
  id: string;
  viewport: Viewport;
  metrics: SessionMetrics;
  watermark?: WatermarkMode;
  page: SessionPage;
  log: Logger;
  participants(): Participant[];
  state(): SessionState;
  paused(): boolean;
  verified(): boolean;
}

export class Screens {
  readonly frames: FrameFanout;
  readonly #deps: ScreensDeps;
  readonly #watermark: StaffWatermark | null = null;
  #recorder: SessionRecorder | null = null;

  constructor(deps: ScreensDeps) {
    this.#deps = deps;
    this.frames = new FrameFanout(deps.viewport, deps.metrics);
    const watermark = deps.watermark ?? DEFAULT_WATERMARK;
    if (watermark !== 'off') {
      this.#watermark = new StaffWatermark(watermark, deps.id);
      this.#watermark.onError = (e) => deps.log.error({ err: String(e) }, 'a staff frame could not be watermarked; not sent');
      this.frames.setStaffMarker(this.#watermark);
    }
  }

  /** What marking staff frames cost so far; null when the policy turns marks off. */
  get watermarkStats(): WatermarkStats | null {
    return this.#watermark?.stats ?? null;
  }

  /** The open recording, from consent (a recorded session) to the end. */
  get recorder(): SessionRecorder | null {
    return this.#recorder;
  }

  record(recorder: SessionRecorder): SessionRecorder {
    return (this.#recorder = recorder);
  }

  /** Staff see frames only when the customer accepted, is sharing, and the code was confirmed. */
  staffMaySee(): boolean {
    return this.#deps.state() === 'live' && !this.#deps.paused() && this.#deps.verified();
  }

  maySee(p: Participant): boolean {
    return p.role === 'customer' ? this.#deps.state() === 'live' : this.staffMaySee();
  }

  /**
   * A frame from the page for one audience. Customer frames (unmasked) go to the customer's
   * socket and nowhere else; staff frames (captured with every mask confirmed) go to staff and
   * to the recording. `both` was captured masked with nothing masked in view.
   */
  frame(frame: CapturedFrame, to: Audience | 'both'): void {
    if (this.#deps.state() !== 'live') return;
    const policy = this.#deps.page.policy;
    const participants = this.#deps.participants();
    if (to !== 'staff') {
      const encoded = this.frames.encode(frame, policy, 'customer');
      for (const p of participants) if (p.role === 'customer') this.frames.deliver(p, encoded);
    }
    if (to !== 'customer' && this.staffMaySee()) {
      const encoded = this.frames.encode(frame, policy, 'staff');
      for (const p of participants) if (p.role !== 'customer') this.frames.deliver(p, encoded);
      // The recording holds exactly what staff were shown: masked frames, never while paused,
      // with the mark of whoever was viewing (frame-fanout.ts forRecording).
      const recorded = this.#recorder ? this.frames.forRecording(encoded, participants) : null;
      if (recorded) this.#recorder?.frame(recorded);
    }
  }

  /**
   * Tells the page whom to capture for: nothing before consent; the customer's view while the
   * customer is connected; the staff view only while staff may see and someone takes it (a staff
   * participant, or the recording). Called after every change of who may see what.
   */
  updateAudiences(): void {
    const participants = this.#deps.participants();
    const customer = this.#deps.state() === 'live' && participants.some((p) => p.role === 'customer');
    const staff = this.staffMaySee() && (this.#recorder !== null || participants.some((p) => p.role !== 'customer'));
    this.#deps.page.setAudiences({ customer, staff });
  }

  /** Everyone who may see now gets the latest frame of their lane, and the page captures afresh. */
  showCurrentToAll(): void {
    this.updateAudiences();
    for (const q of this.#deps.participants()) {
      const last = this.frames.last(laneOf(q));
      if (last && this.maySee(q)) this.frames.deliver(q, last);
    }
    this.#deps.page.refresh();
  }

  showCurrentTo(p: Participant): void {
    const last = this.frames.last(laneOf(p));
    if (last) this.frames.deliver(p, last);
    // A still page sends nothing new; a fresh capture for everyone covers that.
    this.#deps.page.refresh();
  }

  /**
   * A recorded session that ends before any staff frame was made (the customer alone, ending at
   * once) still leaves a recording of the page: one sealed staff capture of it as it is now.
   * Otherwise the recording holds exactly the frames staff were shown, nothing added. Asked for
   * while staff may still see, before the session is marked ended.
   */
  lastLook(): Promise<CapturedFrame | null> | null {
    return this.#recorder && this.#recorder.frames === 0 && this.staffMaySee() ? this.#deps.page.finalStaffFrame() : null;
  }

  /** Seals the recording (with the last look, if any); returns it, or null when there was none. */
  async closeRecording(lastLook: Promise<CapturedFrame | null> | null): Promise<SessionRecorder | null> {
    const r = this.#recorder;
    if (!r) return null;
    this.#recorder = null;
    const last = lastLook ? await lastLook : null;
    const recorded = last ? this.frames.forRecording(this.frames.encode(last, this.#deps.page.policy, 'staff'), this.#deps.participants()) : null;
    if (recorded) r.frame(recorded);
    r.close();
    return r;
  }
}
