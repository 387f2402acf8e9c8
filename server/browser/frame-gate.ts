/**
 * The seam between capture and redaction. Every capture tick the capture loop asks the gate to
 * switch the masks off in every document (the customer's capture), on again (staff's capture),
 * and then whether they stayed on: a staff frame exists only when that last answer is yes. The
 * redaction controller (server/browser/redaction/) implements this interface for real policies;
 * the capture loop and everything that forwards frames depend only on it.
 */
import type { PolicyStamp } from '../core/ports.ts';

export type { PolicyStamp };

/** What the documents said before a tick. */
export interface ProbeResult {
  /** Something changed since the last probe that a capture may show (DOM, fields, scroll). */
  changed: boolean;
  /** Something masked or hidden is painted in the viewport: staff and customer frames differ. */
  masked: boolean;
  /**
   * Asked with `probe(true)`: every document with something masked in view switched its masks
   * off in the same call (those with nothing masked in view look the same either way), so the
   * customer's capture needs no `unmask()` first. Absent or false: call `unmask()`.
   */
  unmasked?: boolean;
}

/** Proof that every document had its masks on at one moment; checked again by `confirm`. */
export interface MaskSeal {
  readonly epoch: number;
}

export interface FrameGate {
  /** The policy in force; stamped into every frame header. */
  readonly policy: PolicyStamp;
  /** Why staff get no frames right now, or null when every document is confirmed or covered. */
  closedReason(): string | null;
  /** Before a tick; never throws (a document that does not answer counts as changed and masked). */
  probe(unmaskIfMasked?: boolean): Promise<ProbeResult>;
  /** Masks off in every confirmed document, for the customer's capture; false if any did not answer. */
  unmask(): Promise<boolean>;
  /**
   * Masks on in every document. A seal only when the gate is open and every document answered
   * that its masks are on and intact; null otherwise (no staff frame this tick).
   */
  mask(): Promise<MaskSeal | null>;
  /**
   * After the staff capture: true only if, since `mask()` sealed, no document switched its masks
   * or lost them, and no frame was created, navigated or destroyed.
   */
  confirm(seal: MaskSeal): Promise<boolean>;
  /** True when the focused element in the page is masked (or unknown); agents may not type then. */
  focusIsMasked(): Promise<boolean>;
  /** Called whenever closedReason() may have changed; returns an unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Called when a document says it changed (a change staff may not see can still be the customer's). */
  onActivity(listener: () => void): () => void;
  /**
   * Text a person copied or cut in the page (kept out of the browser's shared clipboard); the
   * session gives it to the customer alone. A gate without in-page scripts reports none.
   */
  onCopy(listener: (text: string) => void): () => void;
  close(): Promise<void>;
}

/**
 * A gate with no policy: one capture serves everybody. Only for pages that no policy covers,
 * such as the benchmark's raw baseline and tests of the recording path; sessions with a
 * policy always run behind the redaction gate.
 */
export function createOpenGate(policy: PolicyStamp = { name: 'none', version: '0' }): FrameGate {
  return {
    policy,
    closedReason: () => null,
    probe: async () => ({ changed: false, masked: false }),
    unmask: async () => true,
    mask: async () => ({ epoch: 0 }),
    confirm: async () => true,
    focusIsMasked: async () => false,
    onChange: () => () => undefined,
    onActivity: () => () => undefined,
    onCopy: () => () => undefined,
    close: async () => undefined,
  };
}
