/**
 * The one catalogue of coded errors, shared by the server, the web client and the SDK. Every
 * refusal the server makes over HTTP or the WebSocket, and every reason a command or the server
 * itself stops, is one of these codes; clients, integrators and scripts match on the code (or
 * the close code, or the exit status), never on the message.
 *
 * Each code carries its HTTP status, the WebSocket close code a refused join ends with (where
 * it is not the generic 4400), and the exit status of a process that stops on it. Codes that
 * only ever stop a process (a bad configuration, a port in use) are marked `wire: false`: they
 * never reach a client, so the protocol and the OpenAPI document do not list them.
 *
 * Codes, close codes and exit statuses are part of the public contract (docs/protocol.md,
 * docs/cli.md): add, never rename or renumber. Node-free: the client and SDK bundles include it.
 */

/** WebSocket close codes the server uses (4000–4999 is the application range). */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  TOO_BIG: 1009,
  /** Standard "service restart": the node in between is going away; reconnect through another. */
  RECONNECT: 1012,
  BAD_REQUEST: 4400,
  BAD_TOKEN: 4401,
  NO_SUCH_SESSION: 4404,
  JOIN_TIMEOUT: 4408,
  CONFLICT: 4409,
  /** The customer came back on a new connection with its reconnect token; this older one is closed. */
  REPLACED: 4410,
  ABUSE: 4429,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/**
 * Exit statuses of `vitrine` commands and of the server process (docs/cli.md). Few and coarse
 * on purpose: a script or an orchestrator branches on them, a person reads the message.
 */
export const ExitStatus = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  UNAVAILABLE: 3,
} as const;
export type ExitStatusCode = (typeof ExitStatus)[keyof typeof ExitStatus];

/** What each exit status means (`vitrine --help`, docs/cli.md). */
export const EXIT_STATUS_MEANINGS: Record<ExitStatusCode, string> = {
  0: 'done; a check passed',
  1: 'a check failed, or an unexpected error',
  2: 'bad usage (unknown command or option, missing argument) or an invalid configuration',
  3: 'something the server needs is missing or broken (browser, policies, audit trail, port)',
};

/**
 * One code. Close codes and exit statuses are written as numbers, checked against CloseCodes
 * and ExitStatus by their types: a named constant here would make bundlers keep the whole
 * catalogue in the web client, which needs only the close codes.
 */
interface Entry {
  readonly status: number;
  readonly message: string;
  /** Close code of a join refused with this code; otherwise a refused join closes with 4400. */
  readonly close?: CloseCode;
  /** Exit status of a process stopped by this code; otherwise FAILED. */
  readonly exit?: ExitStatusCode;
  /** False: only ever stops a process; never sent to a client. */
  readonly wire?: false;
}

export const ErrorCodes = {
  // protocol / input validation
  BAD_JSON: { status: 400, message: 'message is not valid JSON' },
  BAD_MESSAGE: { status: 400, message: 'message does not match the protocol schema' },
  UNKNOWN_TYPE: { status: 400, message: 'unknown message type' },
  MESSAGE_TOO_LARGE: { status: 413, message: 'message exceeds the size limit' },
  BINARY_NOT_ALLOWED: { status: 400, message: 'binary messages are not accepted from clients' },
  NOT_JOINED: { status: 400, message: 'the first message must be a join' },
  ALREADY_JOINED: { status: 409, message: 'this connection has already joined' },
  RATE_LIMITED: { status: 429, message: 'too many messages; slow down', close: 4429 },
  OUT_OF_VIEWPORT: { status: 400, message: 'coordinates are outside the session viewport' },
  // authentication / authorization
  UNAUTHENTICATED: { status: 401, message: 'missing or invalid credentials' },
  BAD_TOKEN: { status: 401, message: 'token is invalid, expired or for another session', close: 4401 },
  FORBIDDEN: { status: 403, message: 'your role may not do this' },
  NOT_CUSTOMER: { status: 403, message: 'only the customer may do this' },
  NOT_AGENT: { status: 403, message: 'only an agent may do this' },
  CONTROL_NOT_GRANTED: { status: 403, message: 'the customer has not granted you control' },
  VERIFICATION_REQUIRED: { status: 403, message: "confirm the customer's verification code first" },
  BAD_CODE: { status: 403, message: 'the verification code is wrong' },
  BAD_JOIN_CODE: { status: 403, message: 'no session is waiting with this code (wrong, used, expired or locked)' },
  ORIGIN_REFUSED: { status: 403, message: 'this site may not start sessions (its origin is not in VITRINE_EMBED_ORIGINS)' },
  DELIVERY_UNAVAILABLE: { status: 503, message: 'no customer link delivery is configured on this server' },
  PAUSED: { status: 409, message: 'the customer has paused sharing' },
  MASKED_FIELD: { status: 403, message: 'agents may not type into a protected field' },
  GUARDED_ACTION: { status: 403, message: "this action is guarded by the session's policy: only the customer may take it" },
  PASTE_REFUSED: { status: 403, message: "this session's policy does not let you paste into the page" },
  NO_SUCH_CONFIRMATION: { status: 404, message: 'no such held action, or it was already answered' },
  // session lifecycle
  NO_SUCH_SESSION: { status: 404, message: 'no such session', close: 4404 },
  NOT_LIVE: { status: 409, message: 'the session is not live (waiting for consent, or ended)' },
  ALREADY_DECIDED: { status: 409, message: 'consent has already been given' },
  NO_SUCH_PROPOSAL: { status: 404, message: 'no such navigation proposal, or it was already answered' },
  CUSTOMER_PRESENT: { status: 409, message: 'the customer is already connected', close: 4409 },
  POOL_FULL: { status: 503, message: 'no browser capacity is free; retry later' },
  RECORDING_UNAVAILABLE: { status: 503, message: 'this policy records sessions, but no recording key is configured' },
  NO_SUCH_RECORDING: { status: 404, message: 'no such recording' },
  RECORDING_TAMPERED: { status: 422, message: 'the recording failed its integrity check' },
  // At start-up: the trail the server would continue fails verification.
  AUDIT_CHAIN_BROKEN: { status: 422, message: 'the audit trail fails verification; no evidence can be signed from it', exit: 3 },
  SHUTTING_DOWN: { status: 503, message: 'the server is shutting down' },
  NODE_UNAVAILABLE: { status: 503, message: 'the node running this session cannot be reached; retry later' },
  // navigation
  BAD_URL: { status: 400, message: 'URL is not an absolute http(s) URL' },
  URL_REFUSED: { status: 403, message: 'this address may not be reached from the session browser' },
  NAVIGATION_FAILED: { status: 502, message: 'the page could not be loaded' },
  // browser
  INPUT_FAILED: { status: 500, message: 'the input could not be replayed into the page' },
  // At start-up: the browser could not be started as configured (its message says why, e.g. BROWSER_USER_SWITCH_FAILED).
  BROWSER_ERROR: { status: 500, message: 'the session browser failed', exit: 3 },
  // document handoff (server/files/)
  UPLOAD_NOT_ALLOWED: { status: 403, message: "this session's policy does not allow uploads" },
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
  // process only: why a command or the server stopped (never on the wire)
  USAGE: { status: 400, message: 'unknown command or option, or a missing argument', exit: 2, wire: false },
  CONFIG_INVALID: { status: 500, message: 'invalid configuration', exit: 2, wire: false },
  FILE_INACCESSIBLE: { status: 500, message: 'a file named on the command line cannot be read or written', exit: 1, wire: false },
  BROWSER_NOT_FOUND: { status: 500, message: 'no browser to run sessions in was found', exit: 3, wire: false },
  POLICY_INVALID: { status: 500, message: 'a policy file is invalid', exit: 3, wire: false },
  OUTBOX_CORRUPT: { status: 500, message: 'an integration outbox file is corrupt', exit: 3, wire: false },
  PORT_IN_USE: { status: 500, message: 'the address to listen on is in use or not allowed', exit: 3, wire: false },
} as const satisfies Record<string, Entry>;

/** Every code of the catalogue. */
export type ErrorCode = keyof typeof ErrorCodes;

/** The codes a client can receive: in `error` messages and `{"error":{"code"}}` bodies. */
export type WireErrorCode = { [C in ErrorCode]: (typeof ErrorCodes)[C] extends { wire: false } ? never : C }[ErrorCode];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ErrorCodes, code);
}

export function isWireErrorCode(code: unknown): code is WireErrorCode {
  return isErrorCode(code) && (ErrorCodes[code] as Entry).wire !== false;
}

/** The wire codes in catalogue order (the OpenAPI error enum). A function: bundles that only need the close codes leave the catalogue out. */
export function wireErrorCodes(): [WireErrorCode, ...WireErrorCode[]] {
  return (Object.keys(ErrorCodes) as ErrorCode[]).filter(isWireErrorCode) as [WireErrorCode, ...WireErrorCode[]];
}

/** What a code means everywhere: HTTP status, join close code, exit status. */
export function errorSpec(code: ErrorCode): { status: number; message: string; close: CloseCode; exit: ExitStatusCode; wire: boolean } {
  const e: Entry = ErrorCodes[code];
  return { status: e.status, message: e.message, close: e.close ?? CloseCodes.BAD_REQUEST, exit: e.exit ?? ExitStatus.FAILED, wire: e.wire !== false };
}
