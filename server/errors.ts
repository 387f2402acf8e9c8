/**
 * Coded errors: the one error class (made from a catalogue code, which fixes its HTTP status,
 * close code and exit status), the one normaliser of anything thrown, and the one function to
 * each wire form (a REST body, a WebSocket `error` message and close). The catalogue itself is
 * in server/contract/errors.ts, shared with the client and the SDK.
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

/** A coded error as a client may see it: a code that is not for the wire becomes INTERNAL. */
function forWire(err: unknown): { code: WireErrorCode; status: number; message: string; error: VitrineError } {
  const e = toVitrineError(err);
  if (isWireErrorCode(e.code)) return { code: e.code, status: e.status, message: e.message, error: e };
  const internal = new VitrineError('INTERNAL', undefined, { cause: e });
  return { code: 'INTERNAL', status: internal.status, message: internal.message, error: internal };
}

/** `{"error":{"code","message"}}` and its HTTP status (the contract's ErrorBodySchema). */
export function restError(err: unknown): { status: number; body: { error: { code: WireErrorCode; message: string } }; error: VitrineError } {
  const w = forWire(err);
  return { status: w.status, body: { error: { code: w.code, message: w.message } }, error: w.error };
}

type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

/**
 * The WebSocket form: the `error` message (with `ref`, the refused message's type, and a join
 * refusal's `reason`) and, should the refusal end the connection, its close code.
 */
export function wsError(err: unknown, ref?: string): { message: ErrorMessage; close: CloseCode; error: VitrineError } {
  const w = forWire(err);
  const reason = w.error.reason;
  return {
    message: { type: 'error', code: w.code, message: w.message, ...(ref ? { ref } : {}), ...(reason ? { reason } : {}) },
    close: w.error.close,
    error: w.error,
  };
}
