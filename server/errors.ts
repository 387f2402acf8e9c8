/**
 * Coded errors: the one error class (made from a catalogue code, which fixes its HTTP status,
 * close code and exit status), the one normaliser of anything thrown, and the one function from
 * it to the wire (toWire: a REST status and body, a WebSocket `error` message and close code).
 * The catalogue itself is in server/contract/errors.ts, shared with the client and the SDK.
 *
 * Node-free, like the catalogue: nothing here needs more than plain objects.
 */
import type { JoinRefusalReason, ServerMessage } from './protocol.ts';
import { errorSpec, isWireErrorCode, type CloseCode, type ErrorCode, type ExitStatusCode, type WireErrorCode } from './contract/errors.ts';

// The catalogue's names most server modules need, so that they import errors from one place.
export { CloseCodes, ErrorCodes, ExitStatus, isWireErrorCode, type CloseCode, type ErrorCode, type ExitStatusCode, type WireErrorCode } from './contract/errors.ts';

/**
 * An error that knows its stable code; thrown inside the server, turned into a wire refusal or
 * an exit. Subclasses (ConfigError, PolicyLoadError, …) fix a code and add structured details.
 */
export class VitrineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Close code when this refuses a join. */
  readonly close: CloseCode;
  /** Exit status when this stops a process. */
  readonly exit: ExitStatusCode;
  /**
   * Why a join was refused, finer than the code (`invite_used`, `expired`): a client tells a
   * person "ask for a new link" instead of "connection lost". The code stays what it always was.
   */
  readonly reason: JoinRefusalReason | undefined;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; reason?: JoinRefusalReason }) {
    const spec = errorSpec(code);
    super(message ?? spec.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VitrineError';
    this.code = code;
    this.status = spec.status;
    this.close = spec.close;
    this.exit = spec.exit;
    this.reason = options?.reason;
  }
}

export function isVitrineError(e: unknown): e is VitrineError {
  return e instanceof VitrineError;
}

/** True when `e` is a coded error with one of these codes: how callers tell failures apart. */
export function hasCode(e: unknown, ...codes: ErrorCode[]): e is VitrineError {
  return isVitrineError(e) && codes.includes(e.code);
}

/** body-parser's error types (express.json) and the codes they are refused with. */
const BODY_PARSER_TYPES: Record<string, ErrorCode> = {
  'entity.parse.failed': 'BAD_JSON',
  'entity.too.large': 'MESSAGE_TOO_LARGE',
  'encoding.unsupported': 'BAD_REQUEST',
  'charset.unsupported': 'BAD_REQUEST',
  'request.aborted': 'BAD_REQUEST',
};

/**
 * Anything thrown, as a coded error: coded errors as they are; library errors by their
 * machine-readable fields (body-parser's `type`, an HTTP `status`, Node's `code` for a listen
 * that failed); everything else INTERNAL, with the original as its cause.
 */
export function toVitrineError(err: unknown): VitrineError {
  if (isVitrineError(err)) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { type?: unknown; status?: unknown; code?: unknown; syscall?: unknown; port?: unknown; address?: unknown };
  const byType = typeof e.type === 'string' ? BODY_PARSER_TYPES[e.type] : undefined;
  if (byType) return new VitrineError(byType, undefined, { cause: err });
  if (e.status === 404) return new VitrineError('NOT_FOUND', undefined, { cause: err });
  if (e.syscall === 'listen' && (e.code === 'EADDRINUSE' || e.code === 'EACCES')) {
    const where = `${typeof e.address === 'string' ? e.address : ''}:${typeof e.port === 'number' ? e.port : '?'}`;
    const why = e.code === 'EADDRINUSE' ? 'is in use by another process' : 'may not be bound by this user';
    return new VitrineError('PORT_IN_USE', `cannot listen on ${where}: the address ${why}`, { cause: err });
  }
  return new VitrineError('INTERNAL', undefined, { cause: err });
}

type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

/** An error in every wire form; the code is one a client may see (INTERNAL for a process-only one). */
export interface WireError {
  /** The coded error that was sent (INTERNAL for anything uncoded, with the original as its cause). */
  readonly error: VitrineError & { code: WireErrorCode };
  /** REST: the HTTP status and `{"error":{"code","message"}}` (the contract's ErrorBodySchema). */
  readonly status: number;
  readonly body: { error: { code: WireErrorCode; message: string } };
  /** WebSocket: the `error` message (`ref`: the refused message's type; a join refusal's `reason`)… */
  readonly message: ErrorMessage;
  /** …and the close code, should the refusal end the connection (a refused join). */
  readonly close: CloseCode;
}

/** The one way from anything thrown to what a client is sent, over REST or the WebSocket. */
export function toWire(err: unknown, ref?: string): WireError {
  const coded = toVitrineError(err);
  const error = (isWireErrorCode(coded.code) ? coded : new VitrineError('INTERNAL', undefined, { cause: coded })) as VitrineError & { code: WireErrorCode };
  const reason = error.reason;
  return {
    error,
    status: error.status,
    body: { error: { code: error.code, message: error.message } },
    message: { type: 'error', code: error.code, message: error.message, ...(ref ? { ref } : {}), ...(reason ? { reason } : {}) },
    close: error.close,
  };
}
