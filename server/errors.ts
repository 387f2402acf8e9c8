/**
 * The one catalogue of coded errors. Every refusal the server makes, over HTTP or over the
 * WebSocket, carries one of these codes; clients and integrators match on the code, never on
 * the message. Codes are part of the public contract (docs/protocol.md): add, never rename.
 */
import type { JoinRefusalReason } from './protocol.ts';

export const ErrorCodes = {
  // protocol / input validation
  BAD_JSON: { status: 400, message: 'message is not valid JSON' },
  BAD_MESSAGE: { status: 400, message: 'message does not match the protocol schema' },
  UNKNOWN_TYPE: { status: 400, message: 'unknown message type' },
  MESSAGE_TOO_LARGE: { status: 413, message: 'message exceeds the size limit' },
  BINARY_NOT_ALLOWED: { status: 400, message: 'binary messages are not accepted from clients' },
  NOT_JOINED: { status: 400, message: 'the first message must be a join' },
  ALREADY_JOINED: { status: 409, message: 'this connection has already joined' },
  RATE_LIMITED: { status: 429, message: 'too many messages; slow down' },
  OUT_OF_VIEWPORT: { status: 400, message: 'coordinates are outside the session viewport' },
  // authentication / authorization
  UNAUTHENTICATED: { status: 401, message: 'missing or invalid credentials' },
  BAD_TOKEN: { status: 401, message: 'token is invalid, expired or for another session' },
  FORBIDDEN: { status: 403, message: 'your role may not do this' },
  NOT_CUSTOMER: { status: 403, message: 'only the customer may do this' },
  NOT_AGENT: { status: 403, message: 'only an agent may do this' },
  CONTROL_NOT_GRANTED: { status: 403, message: 'the customer has not granted you control' },
  VERIFICATION_REQUIRED: { status: 403, message: 'confirm the customer\'s verification code first' },
  BAD_CODE: { status: 403, message: 'the verification code is wrong' },
  BAD_JOIN_CODE: { status: 403, message: 'no session is waiting with this code (wrong, used, expired or locked)' },
  ORIGIN_REFUSED: { status: 403, message: 'this site may not start sessions (its origin is not in VITRINE_EMBED_ORIGINS)' },
  DELIVERY_UNAVAILABLE: { status: 503, message: 'no customer link delivery is configured on this server' },
  PAUSED: { status: 409, message: 'the customer has paused sharing' },
  MASKED_FIELD: { status: 403, message: 'agents may not type into a protected field' },
  GUARDED_ACTION: { status: 403, message: 'this action is guarded by the session\'s policy: only the customer may take it' },
  PASTE_REFUSED: { status: 403, message: 'this session\'s policy does not let you paste into the page' },
  NO_SUCH_CONFIRMATION: { status: 404, message: 'no such held action, or it was already answered' },
  // session lifecycle
  NO_SUCH_SESSION: { status: 404, message: 'no such session' },
  NOT_LIVE: { status: 409, message: 'the session is not live (waiting for consent, or ended)' },
  ALREADY_DECIDED: { status: 409, message: 'consent has already been given' },
  NO_SUCH_PROPOSAL: { status: 404, message: 'no such navigation proposal, or it was already answered' },
  CUSTOMER_PRESENT: { status: 409, message: 'the customer is already connected' },
  POOL_FULL: { status: 503, message: 'no browser capacity is free; retry later' },
  RECORDING_UNAVAILABLE: { status: 503, message: 'this policy records sessions, but no recording key is configured' },
  NO_SUCH_RECORDING: { status: 404, message: 'no such recording' },
  RECORDING_TAMPERED: { status: 422, message: 'the recording failed its integrity check' },
  AUDIT_CHAIN_BROKEN: { status: 422, message: 'the audit trail fails verification; no evidence can be signed from it' },
  SHUTTING_DOWN: { status: 503, message: 'the server is shutting down' },
  NODE_UNAVAILABLE: { status: 503, message: 'the node running this session cannot be reached; retry later' },
  // navigation
  BAD_URL: { status: 400, message: 'URL is not an absolute http(s) URL' },
  URL_REFUSED: { status: 403, message: 'this address may not be reached from the session browser' },
  NAVIGATION_FAILED: { status: 502, message: 'the page could not be loaded' },
  // browser
  INPUT_FAILED: { status: 500, message: 'the input could not be replayed into the page' },
  BROWSER_ERROR: { status: 500, message: 'the session browser failed' },
  // document handoff (server/files/)
  UPLOAD_NOT_ALLOWED: { status: 403, message: 'this session\'s policy does not allow uploads' },
  NO_SUCH_CHOOSER: { status: 404, message: 'the page is not asking for a file now (no such chooser, or it was answered)' },
  FILE_TOO_LARGE: { status: 413, message: 'the file is larger than the policy allows' },
  FILE_TYPE_REFUSED: { status: 415, message: 'the policy does not allow this type of file' },
  FILE_INFECTED: { status: 422, message: 'the file failed the malware scan' },
  SCANNER_UNAVAILABLE: { status: 503, message: 'the malware scanner could not check the file; it was not passed on' },
  NO_SUCH_DOWNLOAD: { status: 404, message: 'no such download, or its link was used already' },
  // HTTP
  BAD_REQUEST: { status: 400, message: 'request body does not match the schema' },
  NOT_FOUND: { status: 404, message: 'not found' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error that knows its stable code; thrown inside the server, turned into a wire refusal. */
export class VitrineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /**
   * Why a join was refused, finer than the code (`invite_used`, `expired`): a client tells a
   * person "ask for a new link" instead of "connection lost". The code stays what it always was.
   */
  readonly reason: JoinRefusalReason | undefined;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; reason?: JoinRefusalReason }) {
    super(message ?? ErrorCodes[code].message, options);
    this.name = 'VitrineError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.reason = options?.reason;
  }
}

export function isVitrineError(e: unknown): e is VitrineError {
  return e instanceof VitrineError;
}

/** WebSocket close codes the server uses (4000–4999 is the application range). */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  TOO_BIG: 1009,
  BAD_REQUEST: 4400,
  BAD_TOKEN: 4401,
  NO_SUCH_SESSION: 4404,
  JOIN_TIMEOUT: 4408,
  CONFLICT: 4409,
  /** The customer came back on a new connection with its reconnect token; this older one is closed. */
  REPLACED: 4410,
  ABUSE: 4429,
  /** Standard "service restart": the node in between is going away; reconnect through another. */
  RECONNECT: 1012,
} as const;
