/**
 * The ports of the session core: every interface the session and its registry depend on, and
 * nothing they would have to know about Chromium, WebSockets, files or the wall clock. Adapters
 * implement them (CdpSessionPage in server/browser/, `ws` sockets, RecordingWriter, the audit
 * sinks, realClock); tests implement them with fakes (test/support/fakes/) so that the core runs
 * without a browser. This module imports only types of the protocol, the policy schema and the
 * audit record, all of which sit below the core; nothing here imports an adapter.
 */
import type { HandoffPage, HandoffSessionDeps } from '../files/handoff.ts';
import type { AuditEvent } from '../audit/audit.ts';
import type { ClipboardPolicy, FilesPolicy, GuardRule } from '../policy/schema.ts';
import type { Device, FocusMessage, Input, NoticeCode, Viewport } from '../protocol.ts';

// ---- the policy in force -------------------------------------------------------------------

/** The policy a session runs under, stamped into every frame header and audit record. */
export interface PolicyStamp {
  name: string;
  version: string;
}

/** What a session needs to know of its policy (the consent screen, limits, recording, files). */
export interface PolicySummary {
  /** Plain words for what stays masked, e.g. "passwords". */
  masked: string[];
  /** The policy's guarded actions for a page address (server/session/guards.ts). */
  guards?: (url: string) => GuardRule[];
  record: boolean;
  retentionDays: number | null;
  /** Per-policy session limits; null uses the server's configured limits. */
  idleMs?: number | null;
  maxDurationMs?: number | null;
  /** Document handoff: uploads and downloads (off unless the policy allows them). */
  files?: FilesPolicy;
  /** Forensic marks in staff frames (server/session/watermark.ts); default corner. */
  watermark?: 'off' | 'corner' | 'tiled';
  /** Who may paste, and where copied text goes (server/session/clipboard.ts); defaults filled in. */
  clipboard?: ClipboardPolicy;
}

/**
 * The policies sessions may be started under. How a policy is applied inside a page (the
 * redaction gate) is the page factory's business, not the catalogue's.
 */
export interface PolicyCatalogue {
  /** Throws a VitrineError (BAD_REQUEST) for an unknown policy name. */
  check(name: string): void;
  /** What the consent screen says about the policy, and whether it records. */
  summary(name: string): PolicySummary;
  /** The policy's allow/deny lists for one URL; null when the policy has none. */
  urlFilter(name: string): ((url: string) => boolean) | null;
}

/** Decides whether an address may be loaded in a session; throws a VitrineError to refuse it. */
export type UrlCheck = (url: string) => Promise<URL>;

// ---- the page ------------------------------------------------------------------------------

export type Audience = 'customer' | 'staff';

export interface CapturedFrame {
  jpeg: Buffer;
  /** ms since the epoch at which the capture began. */
  capturedAt: number;
  width: number;
  height: number;
  /** JPEG quality it was encoded at. */
  quality: number;
  /** The CSS-pixel viewport the picture shows (it changes when the customer's device is emulated). */
  viewport?: Viewport;
}

/** What the capture loop did so far (benchmarks and tests read it). */
export interface CaptureStats {
  ticks: number;
  idleTicks: number;
  customerFrames: number;
  staffFrames: number;
  sharedFrames: number;
  staffWithheld: number;
  /** Begin-frames asked for: with a picture (each a capture, sent or not), and without. */
  captures: number;
  blankFrames: number;
}

/** One element on a guarded action's path, as the browser sees it (server/browser/guard-check.ts). */
export interface GuardPathNode {
  /** Stable for the element's life (its backend node id); a held action is replayed only onto the same one. */
  id: string;
  /** Indexes (into the selectors asked about) that this element matches. */
  selectors: number[];
  /** From the accessibility tree; '' when the element has no node there. */
  role: string;
  name: string;
}

export interface GuardFacts {
  /** Each target's path, target first. A key on a form field has two: the field and the form's default button. */
  paths: GuardPathNode[][];
}

export type GuardWhere = { at: { x: number; y: number } } | { focus: { submit: boolean } };

/**
 * Something the page did that participants are told about. `refused` marks a navigation the
 * session's address checks refused (it is audited as well); the session never reads `message`
 * to find out what happened.
 */
export interface PageNotice {
  code: NoticeCode;
  message: string;
  refused?: 'navigation';
}

export type LostReason = 'browser_crashed' | 'page_crashed' | 'page_unresponsive' | 'page_memory';

/** What the page reports to its session. */
export interface PageEvents {
  /** A frame for the customer, for staff, or for both (captured masked and confirmed). */
  frame(frame: CapturedFrame, to: Audience | 'both'): void;
  /** A staff capture was dropped by the redaction gate. */
  withheld(reason: string): void;
  navigated(info: { url: string; title: string }): void;
  notice(notice: PageNotice): void;
  /** The redaction gate opened (null) or closed (why). */
  gate(reason: string | null): void;
  /** The page or its browser is gone; the session must end. */
  lost(reason: LostReason): void;
  /** Text a person copied or cut in the page; never left in the browser's shared clipboard. */
  copied(text: string): void;
}

/** One session's page, as the session sees it. */
export interface SessionPage {
  /** The policy the page's redaction gate applies. */
  readonly policy: PolicyStamp;
  /** The address of the page's main document. */
  readonly url: string;
  /** The page's CSS viewport now (the configured one until a device is emulated). */
  readonly viewport: Viewport;
  /** Whether the page emulates a touch device now (touch input is accepted only then). */
  readonly touchEmulated: boolean;
  readonly focus: FocusMessage;
  readonly captureStats: CaptureStats;
  /** Why staff get no frames right now, or null when the redaction gate is open. */
  closedReason(): string | null;
  /** True when the focused element is masked (or unknown); agents may not type then. */
  focusIsMasked(): Promise<boolean>;
  /** Whether an editable element has focus (for a touch client's keyboard); told on change only. */
  onFocus(listener: (f: FocusMessage) => void): () => void;
  /** Who may see frames now; nobody means no captures at all. */
  setAudiences(a: { customer: boolean; staff: boolean }): void;
  /** Fresh frames for everyone watching, even if nothing changed. */
  refresh(): void;
  /** An input was applied: capture at once rather than at the next tick. */
  inputApplied(): void;
  /** Loads an address (checked again); resolves once the request is under way. */
  navigate(url: string): Promise<void>;
  history(action: 'back' | 'forward' | 'reload'): Promise<void>;
  /** Replays one input; coordinates are CSS pixels already checked against the viewport. */
  input(input: Input): Promise<void>;
  emulate(d: Device): Promise<{ viewport: Viewport; userAgentChanged: boolean }>;
  /** What a click at a point or a key at the focus would activate; throws when unsure. */
  guardFacts(where: GuardWhere, selectors: string[], names: boolean): Promise<GuardFacts>;
  /** One sealed staff frame of the page as it is now, or null (the recording's last frame). */
  finalStaffFrame(): Promise<CapturedFrame | null>;
  /** Document handoff: sets the customer's scanned file on the page's file input. */
  setInputFiles(backendNodeId: number, paths: string[]): Promise<void>;
  /** Document handoff: stops a download the handoff refused. */
  cancelDownload(guid: string): Promise<void>;
  /** Stops capturing and destroys the page with all its data; idempotent. */
  close(): Promise<void>;
}

/** What the page tells the session's document handoff; without it choosers and downloads are refused. */
export interface PageFiles {
  /** True when the customer is being asked for the file; false: refused as before. */
  chooserOpened(e: { backendNodeId?: number; mode: string }): boolean;
  /** Where downloads land (the session's directory), or null when the policy does not allow them. */
  downloadDir(): Promise<string | null>;
  downloadWillBegin(e: { guid: string; suggestedFilename?: string; url: string }): void;
  downloadProgress(e: { guid: string; state: 'inProgress' | 'completed' | 'canceled'; receivedBytes: number; totalBytes: number }): void;
  /** Runs once the page's browser context is gone: the files go with it. */
  close(): Promise<void>;
}

/** One session's document handoff (server/files/handoff.ts): the page's side, and its page. */
export interface SessionFiles extends PageFiles {
  attach(page: HandoffPage): void;
}

/** Opens each session's document handoff (FileHandoffs: one per server, shared with the file routes). */
export interface SessionFilesFactory {
  open(deps: HandoffSessionDeps): SessionFiles;
}

export interface PageOpenOptions {
  /** The policy whose redaction gate the page runs behind. */
  policyName: string;
  /** Every document request passes it. */
  checkUrl: UrlCheck;
  /** When set, every subresource request is checked too (policy allow/deny lists). */
  subresourceFilter: ((url: string) => boolean) | null;
  files?: PageFiles;
}

/** Opens a blank, wired page for a new session (a browser lease behind it in production). */
export interface SessionPageFactory {
  open(events: PageEvents, opts: PageOpenOptions): Promise<SessionPage>;
}

// ---- participants --------------------------------------------------------------------------

/** WebSocket ready states (the values of the WebSocket standard). */
export const SocketState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** A participant's connection: a `ws` WebSocket in production, a fake in unit tests. */
export interface ParticipantSocket {
  readonly readyState: number;
  /** Bytes queued and not yet written; a socket far behind gets no more frames for now. */
  readonly bufferedAmount: number;
  send(data: string | Uint8Array, options?: { binary?: boolean }, done?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
}

// ---- what a session leaves behind ----------------------------------------------------------

/** Where a session's audit records go (FileAuditSink and the other sinks of server/audit/). */
export interface AuditTrail {
  record(event: AuditEvent): void;
}

/** An open recording of one session: what staff were shown, and what happened (RecordingWriter). */
export interface SessionRecorder {
  readonly header: { id: string; keyId: string };
  /** Frames written so far. */
  readonly frames: number;
  frame(bytes: Uint8Array): void;
  event(event: Record<string, unknown>): void;
  close(): void;
}

// ---- time ----------------------------------------------------------------------------------

export type TimerHandle = { readonly id: unknown };

/**
 * Time as the core sees it. Timers never keep the process alive (production unrefs them), and
 * tests move a fake clock forward instead of sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timeout or an interval; a handle already fired or cleared is ignored. */
  clear(handle: TimerHandle | null | undefined): void;
  /** Resolves after `ms` (the core's own waits, such as the device emulation gap). */
  sleep(ms: number): Promise<void>;
}

/** The wall clock, with timers that do not hold the process open. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { id: t };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { id: t };
  },
  clear(handle) {
    if (handle) clearTimeout(handle.id as NodeJS.Timeout);
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
};
