/**
 * The seam between the screencast and redaction: a frame reaches participants only when the
 * session's gate allows it. The redaction controller (server/browser/redaction/) implements
 * this interface for real policies; everything that forwards frames depends only on it.
 */
export interface PolicyStamp {
  name: string;
  version: string;
}

export interface FrameGate {
  /** The policy in force; stamped into every frame header. */
  readonly policy: PolicyStamp;
  /**
   * May a frame captured at `capturedAt` (ms since the epoch) be shown? Must be false unless
   * every frame of the page confirmed the policy before that instant and nothing has failed
   * since. Called once per frame, synchronously: keep it cheap.
   */
  allows(capturedAt: number): boolean;
  /** Why frames are withheld right now, or null when the gate is open. */
  closedReason(): string | null;
  /** True when the focused element in the page is masked (or unknown); agents may not type then. */
  focusIsMasked(): Promise<boolean>;
  /** Called whenever allows()/closedReason() may have changed; returns an unsubscribe. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * A gate that lets every frame through. Only for pages that no policy covers, such as the
 * benchmark's raw baseline; sessions always run behind the redaction gate.
 */
export function createOpenGate(policy: PolicyStamp = { name: 'none', version: '0' }): FrameGate {
  return {
    policy,
    allows: () => true,
    closedReason: () => null,
    focusIsMasked: async () => false,
    onChange: () => () => undefined,
    close: async () => undefined,
  };
}

/** The page a gate is built for; other layers name it through here, never through puppeteer. */
export type { Page as BrowserPage } from 'puppeteer';
