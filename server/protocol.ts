/**
 * The whole wire contract between the Vitrine server and its clients, in one module that both
 * the server and the web client import. Client messages are validated with these schemas and
 * nothing else; server messages are typed by the unions below. docs/protocol.md describes the
 * same contract in prose: change both together.
 *
 * This module must stay free of Node-only imports: the client bundle includes it.
 */
import { z } from 'zod';
import type { WireErrorCode } from './contract/errors.ts';

/** Text messages larger than this are refused with MESSAGE_TOO_LARGE (the socket stays open). */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** Messages larger than this close the socket (1009): nobody legitimate sends them. */
export const HARD_MAX_MESSAGE_BYTES = 256 * 1024;
export const MAX_TEXT_INPUT = 4096;
export const MAX_URL_LENGTH = 2048;

const finite = z.number().finite();
const coordinate = finite.min(-1e6).max(1e6);
const id = z.string().min(1).max(128);

export const ModifiersSchema = z
  .object({
    alt: z.boolean().optional(),
    ctrl: z.boolean().optional(),
    meta: z.boolean().optional(),
    shift: z.boolean().optional(),
  })
  .strict();

export const PointerInputSchema = z
  .object({
    kind: z.literal('pointer'),
    action: z.enum(['down', 'up', 'move']),
    x: coordinate,
    y: coordinate,
    button: z.enum(['left', 'middle', 'right', 'none']).optional(),
    clickCount: z.number().int().min(0).max(3).optional(),
    modifiers: ModifiersSchema.optional(),
  })
  .strict();

export const WheelInputSchema = z
  .object({
    kind: z.literal('wheel'),
    x: coordinate,
    y: coordinate,
    dx: finite.min(-10000).max(10000),
    dy: finite.min(-10000).max(10000),
    modifiers: ModifiersSchema.optional(),
  })
  .strict();

export const KeyInputSchema = z
  .object({
    kind: z.literal('key'),
    action: z.enum(['down', 'up']),
    key: z.string().min(1).max(32),
    code: z.string().max(32),
    modifiers: ModifiersSchema.optional(),
  })
  .strict();

export const TextInputSchema = z
  .object({
    kind: z.literal('text'),
    text: z.string().min(1).max(MAX_TEXT_INPUT),
  })
  .strict();

/**
 * Text the participant pasted from their own device's clipboard (never the browser's: the
 * server replays no paste shortcut). Inserted at the focus like `text`, under the policy's
 * `clipboard.paste`; the page sees it typed, without a paste event.
 */
export const PasteInputSchema = z
  .object({
    kind: z.literal('paste'),
    text: z.string().min(1).max(MAX_TEXT_INPUT),
  })
  .strict();

/** Most fingers one touch input carries (the session page emulates five touch points). */
export const MAX_TOUCH_POINTS = 5;

/**
 * Touch on a touch-emulated page: replayed as real touch events (CDP Input.dispatchTouchEvent),
 * so pages with touch-only handlers work, and Chromium makes the taps, long presses and scrolls
 * of them itself. `points` are the fingers still down (none on `end` / `cancel`).
 */
export const TouchInputSchema = z
  .object({
    kind: z.literal('touch'),
    action: z.enum(['start', 'move', 'end', 'cancel']),
    points: z.array(z.object({ x: coordinate, y: coordinate, id: z.number().int().min(0).max(1000) }).strict()).max(MAX_TOUCH_POINTS),
    modifiers: ModifiersSchema.optional(),
  })
  .strict()
  .refine((t) => t.action === 'end' || t.action === 'cancel' || t.points.length > 0, { message: 'start and move need at least one point', path: ['points'] });

export const InputSchema = z.discriminatedUnion('kind', [PointerInputSchema, WheelInputSchema, KeyInputSchema, TextInputSchema, PasteInputSchema, TouchInputSchema]);

const url = z.string().min(1).max(MAX_URL_LENGTH);

/** Bounds of a customer's device viewport (CSS pixels) the session page may be emulated at. */
export const DEVICE_LIMITS = { minSide: 200, maxSide: 2048, minDpr: 0.5, maxDpr: 8 } as const;

/**
 * The customer's device, as its browser reports it: the CSS-pixel area the shared page gets on
 * its screen, its pixel ratio, whether it has touch and whether it is a phone or tablet. Only the
 * customer sends it; the server emulates the session page as that device.
 */
export const DeviceSchema = z
  .object({
    width: z.number().int().min(DEVICE_LIMITS.minSide).max(DEVICE_LIMITS.maxSide),
    height: z.number().int().min(DEVICE_LIMITS.minSide).max(DEVICE_LIMITS.maxSide),
    dpr: finite.min(DEVICE_LIMITS.minDpr).max(DEVICE_LIMITS.maxDpr),
    touch: z.boolean(),
    mobile: z.boolean(),
  })
  .strict();
export type Device = z.infer<typeof DeviceSchema>;

/** Most points one stroke message carries; a long stroke is sent in pieces with the same id. */
export const MAX_STROKE_POINTS = 64;
const point = z.tuple([coordinate, coordinate]);

/**
 * Presence: where a participant points, a laser spot, strokes of the drawing tool, and the
 * round trip it measures. Drawn by the other clients over the picture of the page; never
 * replayed into the page. Coordinates are page CSS pixels, checked against the viewport.
 */
export const PresenceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pointer'), x: coordinate, y: coordinate }).strict(),
  z.object({ kind: z.literal('laser'), x: coordinate, y: coordinate }).strict(),
  /** The pointer left the page view. */
  z.object({ kind: z.literal('away') }).strict(),
  z.object({ kind: z.literal('stroke'), id: z.number().int().min(0).max(1e9), points: z.array(point).min(1).max(MAX_STROKE_POINTS) }).strict(),
  /** Removes the sender's own strokes. */
  z.object({ kind: z.literal('clear') }).strict(),
  /** The sender's round trip to the server (from ping/pong), in milliseconds. */
  z.object({ kind: z.literal('rtt'), ms: z.number().int().min(0).max(120_000) }).strict(),
]);
export type Presence = z.infer<typeof PresenceSchema>;

/** Every message a client may send, keyed by `type`. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('join'), session: id, token: z.string().min(1).max(4096) }).strict(),
  // `shown`: what the consent screen said, in which language (kept in the audit for evidence packs).
  z
    .object({
      type: z.literal('consent'),
      accept: z.boolean(),
      shown: z
        .object({ lang: z.string().regex(/^[a-z]{2}$/), text: z.string().min(1).max(4000) })
        .strict()
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('input'), input: InputSchema }).strict(),
  z.object({ type: z.literal('control/request') }).strict(),
  z.object({ type: z.literal('control/grant') }).strict(),
  z.object({ type: z.literal('control/revoke') }).strict(),
  z.object({ type: z.literal('navigate/propose'), url }).strict(),
  z.object({ type: z.literal('navigate/approve'), id }).strict(),
  z.object({ type: z.literal('navigate/decline'), id }).strict(),
  z.object({ type: z.literal('navigate'), url }).strict(),
  z.object({ type: z.literal('history'), action: z.enum(['back', 'forward', 'reload']) }).strict(),
  z.object({ type: z.literal('pause') }).strict(),
  z.object({ type: z.literal('resume') }).strict(),
  z.object({ type: z.literal('verify'), code: z.string().regex(/^\d{6}$/, 'expected a 6-digit code') }).strict(),
  z.object({ type: z.literal('ping'), t: finite.optional() }).strict(),
  z.object({ type: z.literal('device'), device: DeviceSchema }).strict(),
  z.object({ type: z.literal('end') }).strict(),
  z.object({ type: z.literal('presence'), presence: PresenceSchema }).strict(),
  /** The customer's answer to a held guarded action (guard/pending): only a deliberate one is sent. */
  z.object({ type: z.literal('guard/confirm'), id }).strict(),
  z.object({ type: z.literal('guard/decline'), id }).strict(),
]);

export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export type Input = z.infer<typeof InputSchema>;
export type KeyInput = z.infer<typeof KeyInputSchema>;

/**
 * Whether an input, once applied, asks the capture loop for a picture at once. A pointer move
 * does not: moves come in streams, Chromium draws them with the next frame, and the loop's
 * damage flag shows what they change (hover effects, a drag) at its active pace.
 */
export function inputAsksForPicture(i: Input): boolean {
  return i.kind !== 'pointer' || i.action !== 'move';
}
export type Modifiers = z.infer<typeof ModifiersSchema>;

export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = ClientMessageSchema.options.map((o) => o.shape.type.value);

export type Role = 'customer' | 'agent' | 'supervisor';
export type SessionState = 'waiting' | 'live' | 'ended';
export interface Viewport {
  width: number;
  height: number;
}

export interface ParticipantInfo {
  id: string;
  role: Role;
  name: string;
}

/** A snapshot of everything participants display; sent on join and on every change. */
export interface SessionSnapshot {
  state: SessionState;
  url: string;
  title: string;
  /** Participant id of the agent holding control, or null while the customer alone drives. */
  control: string | null;
  /** Agents that asked for control and have not been answered yet. */
  controlRequests: string[];
  participants: ParticipantInfo[];
  pendingNavigation: NavigationProposal | null;
  policy: { name: string; version: string };
  /** The customer paused sharing: no frames reach agents or supervisors. */
  paused: boolean;
  /** False while a verification code is required and the agent has not confirmed it. */
  verified: boolean;
  /** What the consent screen tells the customer. */
  consent: ConsentInfo;
  /** Why frames are being withheld by the redaction gate right now, or null. */
  shielded: string | null;
}

export interface ConsentInfo {
  company: string;
  /** Display names of the staff who will see the page. */
  agents: string[];
  /** Plain words for what stays masked, e.g. "passwords", "card numbers". */
  masked: string[];
  recorded: boolean;
}

export interface NavigationProposal {
  id: string;
  url: string;
  by: string;
}

/** Every message the server sends as text, keyed by `type`. Frames are binary (see below). */
export type ServerMessage =
  | {
      type: 'joined';
      protocol: number;
      role: Role;
      you: string;
      session: string;
      viewport: Viewport;
      snapshot: SessionSnapshot;
      company: string;
      /** Customer only: a single-use token to rejoin after a dropped connection. */
      reconnectToken?: string;
      /** Customer only, when verification is on: the code to read out to the agent. */
      verificationCode?: string;
    }
  | { type: 'state'; snapshot: SessionSnapshot }
  | { type: 'control/requested'; by: ParticipantInfo }
  | { type: 'navigate/proposed'; proposal: NavigationProposal }
  | { type: 'navigate/answered'; id: string; approved: boolean; url: string }
  /**
   * `message` is English, worded for its reader (staff, integrators); a client that has its own
   * words picks them by `code` and `params` (the customer view's catalogue).
   */
  | { type: 'notice'; code: NoticeCode; message: string; params?: NoticeParams }
  | { type: 'error'; code: WireErrorCode; message: string; ref?: string; reason?: JoinRefusalReason }
  | { type: 'pong'; t?: number; serverTime: number }
  | FocusMessage
  /** Another participant's presence (pointer, laser, stroke, clear, round trip); see Presence. */
  | { type: 'presence'; from: string; presence: Presence }
  /**
   * A staff click on a guarded action of `mode: confirm` is held (docs/protocol.md#guarded-actions):
   * the customer is asked to confirm `action` (the policy's label); staff learn that it waits.
   */
  | { type: 'guard/pending'; id: string; action: string; by: ParticipantInfo; expiresAt: number }
  | { type: 'guard/answered'; id: string; outcome: GuardOutcome }
  | { type: 'ended'; reason: EndReason; message: string }
  | FileChooserMessage
  | FileDownloadMessage
  | ClipboardMessage;

/** How a held guarded action ended: replayed on the customer's confirmation, or dropped. */
export type GuardOutcome = 'confirmed' | 'declined' | 'expired' | 'dropped';

/**
 * To the customer only: whether an editable element of the page has focus, and where it is (CSS
 * pixels of the session viewport), so that a touch device can open its keyboard. Never content.
 */
export interface FocusMessage {
  type: 'focus';
  editable: boolean;
  rect?: { x: number; y: number; width: number; height: number };
  /** The keyboard the field asks for. */
  inputMode?: 'text' | 'email' | 'numeric' | 'decimal' | 'tel' | 'url' | 'search';
  /** Single-line field (Enter submits) or multi-line (Enter breaks the line). */
  multiline?: boolean;
}

/**
 * To the customer only: the page opened a file chooser. The customer may answer it by sending
 * one file to `upload` (HTTP POST, raw body, `Authorization: Bearer <ticket>`, `Content-Type` the
 * file's type, `X-File-Name` its name URI-encoded); the ticket works once, for this chooser.
 * `accept`: the policy's types (MIME or .ext), empty for any; `maxBytes`: the policy's limit.
 */
export interface FileChooserMessage {
  type: 'file/chooser';
  id: string;
  ticket: string;
  upload: string;
  accept: string[];
  maxBytes: number;
  /** The chooser was answered, or the page moved on: the customer's picker closes. */
  closed?: boolean;
}

/**
 * To the customer only: text the customer copied (or cut) in the page, for their own device's
 * clipboard. Staff never receive it, and it never stays in the session browser's clipboard.
 */
export interface ClipboardMessage {
  type: 'clipboard';
  text: string;
}

/** To the customer only: a download the page started, scanned clean, behind a one-time link. */
export interface FileDownloadMessage {
  type: 'file/download';
  id: string;
  /** Same-origin path with a single-use ticket; it expires with the session (or after 10 minutes). */
  url: string;
  name: string;
  size: number;
  mime: string;
}

/**
 * Sent with a refused join (`ref: "join"`) when the code alone would mislead a person:
 * `invite_used`: the single-use link was opened already; `expired`: the link's time is up.
 */
export type JoinRefusalReason = 'invite_used' | 'expired';

/** `GET /api/me`: who a staff token belongs to, as the server verified it. */
export const StaffMeSchema = z
  .object({
    sub: z.string().min(1).max(200),
    name: z.string().min(1).max(100),
    /** The first of the token's roles in the order agent, supervisor, auditor. */
    role: z.enum(['agent', 'supervisor', 'auditor']),
    roles: z.array(z.enum(['agent', 'supervisor', 'auditor'])).min(1),
    /** When the token stops working (ISO 8601). */
    expiresAt: z.iso.datetime(),
  })
  .strict();
export type StaffMe = z.infer<typeof StaffMeSchema>;

/** `POST /api/customer-sessions` (the embed, from an allow-listed origin): the page the customer is on. */
export const CustomerSessionRequestSchema = z.object({ url: z.string().min(1).max(MAX_URL_LENGTH) }).strict();

/** Its answer, to the customer's browser only: the link holds the customer's invite. */
export interface CustomerSessionStarted {
  id: string;
  /** Opens the consent view; the fragment holds the invite and the join code (never sent to a server). */
  customerUrl: string;
  /** Six digits the customer reads to the agent. */
  code: string;
  codeExpiresAt: string;
}

/** `POST /api/join-codes/claim` (an agent's bearer token): the code the customer read out. */
export const JoinCodeClaimSchema = z.object({ code: z.string().regex(/^\d{6}$/, 'six digits') }).strict();

/** Its answer: a participant token for the claiming agent, never anything of the customer's. */
export interface JoinCodeClaimed {
  id: string;
  agentToken: string;
  expiresAt: string;
}

/** Every notice code, in one list (clients check that each has words; see client/src/i18n.ts). */
export const NOTICE_CODES = [
  'DIALOG_DISMISSED',
  'POPUP_REDIRECTED',
  'POPUP_REFUSED',
  'DOWNLOAD_REFUSED',
  'FILE_CHOOSER_REFUSED',
  'FILE_REQUESTED',
  'FILE_ATTACHED',
  'FILE_REFUSED',
  'DOWNLOAD_OFFERED',
  'NAVIGATION_FAILED',
  'PAGE_PREPARING',
  'PARTICIPANT_JOINED',
  'PARTICIPANT_LEFT',
  'PARTICIPANT_REPLACED',
  'IDLE_WARNING',
  'ENDING_SOON',
  'VERIFIED',
  'PAUSED',
  'RESUMED',
  'GUARDED_ACTION',
  'COPY_REFUSED',
  'COPY_CUSTOMER_ONLY',
] as const;
export type NoticeCode = (typeof NOTICE_CODES)[number];

/**
 * What a notice is about, for clients that word it themselves: who joined or left (their role
 * and display name). Only these fields, bounded; a client checks them with NoticeParamsSchema
 * before it puts them in a sentence.
 */
export const NoticeParamsSchema = z
  .object({
    role: z.enum(['customer', 'agent', 'supervisor']).optional(),
    name: z.string().min(1).max(100).optional(),
  })
  .strict();
export type NoticeParams = z.infer<typeof NoticeParamsSchema>;

/** Every end reason, in one list. */
export const END_REASONS = [
  'ended_by_customer',
  'ended_by_agent',
  'declined',
  'deleted',
  'expired',
  'customer_left',
  'idle',
  'verification_failed',
  'browser_crashed',
  'page_crashed',
  'page_unresponsive',
  'page_memory',
  'server_shutdown',
  'node_lost',
  'error',
] as const;
export type EndReason = (typeof END_REASONS)[number];

// ---------------------------------------------------------------------------------------------
// Binary frames
//
//   offset 0  2 bytes  magic "VF" (0x56 0x46)
//   offset 2  1 byte   header format version (1)
//   offset 3  1 byte   payload kind: 1 = JPEG of the whole viewport
//   offset 4  4 bytes  N, length of the JSON header, unsigned big-endian
//   offset 8  N bytes  UTF-8 JSON FrameHeader
//   then               the payload (a JPEG starts FF D8 FF)
// ---------------------------------------------------------------------------------------------

export const FRAME_MAGIC_0 = 0x56;
export const FRAME_MAGIC_1 = 0x46;
export const FRAME_FORMAT_VERSION = 1;
export const FRAME_KIND_JPEG = 1;

export interface FrameHeader {
  /** Increases by one per frame of the session's stream for this audience. */
  seq: number;
  /** Server time (ms since epoch) when the frame was captured. */
  ts: number;
  /** Size of the image in pixels. */
  width: number;
  height: number;
  /** The page viewport in CSS pixels that the image covers (input coordinates use it). */
  viewport: Viewport;
  /** Redaction policy in force when this frame was captured. */
  policy: string;
  policyVersion: string;
  /**
   * Whose view it is: `customer` frames show the page as it is and go to the customer only;
   * `staff` frames were captured with every mask confirmed on (agents, supervisors, recordings).
   * Each audience has its own sequence.
   */
  audience: 'customer' | 'staff';
  /** JPEG quality the image was encoded at (lower while the server adapts to load). */
  quality: number;
}

export function encodeFrame(header: FrameHeader, jpeg: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + jpeg.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = FRAME_MAGIC_0;
  out[1] = FRAME_MAGIC_1;
  out[2] = FRAME_FORMAT_VERSION;
  out[3] = FRAME_KIND_JPEG;
  view.setUint32(4, json.length, false);
  out.set(json, 8);
  out.set(jpeg, 8 + json.length);
  return out;
}

export interface DecodedFrame {
  header: FrameHeader;
  jpeg: Uint8Array;
}

/** Decodes a binary frame; throws on anything that is not a well-formed frame. */
export function decodeFrame(data: Uint8Array): DecodedFrame {
  if (data.length < 8 || data[0] !== FRAME_MAGIC_0 || data[1] !== FRAME_MAGIC_1) {
    throw new Error('not a Vitrine frame');
  }
  if (data[2] !== FRAME_FORMAT_VERSION || data[3] !== FRAME_KIND_JPEG) {
    throw new Error(`unsupported frame format ${data[2]}/${data[3]}`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = view.getUint32(4, false);
  if (8 + n > data.length) throw new Error('truncated frame header');
  const header = JSON.parse(new TextDecoder().decode(data.subarray(8, 8 + n))) as FrameHeader;
  return { header, jpeg: data.subarray(8 + n) };
}

export type ParseResult =
  { ok: true; message: ClientMessage } | { ok: false; code: Extract<WireErrorCode, 'BAD_JSON' | 'BAD_MESSAGE' | 'UNKNOWN_TYPE' | 'MESSAGE_TOO_LARGE'>; message: string; ref?: string };

/** Parses and validates one text message from a client. Never throws. */
export function parseClientMessage(text: string): ParseResult {
  if (text.length > MAX_MESSAGE_BYTES) {
    return { ok: false, code: 'MESSAGE_TOO_LARGE', message: `messages are limited to ${MAX_MESSAGE_BYTES} bytes` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_JSON', message: 'message is not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: 'BAD_MESSAGE', message: 'message must be a JSON object' };
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    return { ok: false, code: 'UNKNOWN_TYPE', message: 'unknown message type', ref: typeof type === 'string' ? type.slice(0, 64) : undefined };
  }
  const parsed = ClientMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    return { ok: false, code: 'BAD_MESSAGE', message: `${where}: ${issue?.message ?? 'invalid'}`, ref: type };
  }
  return { ok: true, message: parsed.data };
}
