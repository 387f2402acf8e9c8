/**
 * What the SDK throws. A refusal from the server keeps its stable code (server/contract/errors.ts, the
 * same catalogue the server uses), so callers branch on `err.code`, never on the message.
 */
import type { WireErrorCode as ErrorCode } from '../../server/contract/errors.ts';

export type { ErrorCode };

/** The server refused: `{"error":{"code","message"}}` with its HTTP status. */
export class VitrineApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, status: number, message: string) {
    super(message);
    this.name = 'VitrineApiError';
    this.code = code;
    this.status = status;
  }
}

/** No answer at all (DNS, connection refused, timeout): nothing is known about the request's effect. */
export class VitrineNetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VitrineNetworkError';
  }
}

/** The server answered something the contract does not describe (a version mismatch, or a proxy in the way). */
export class VitrineContractError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'VitrineContractError';
    this.status = status;
  }
}

/** A webhook whose signature, timestamp or body did not check out: answer it 4xx and drop it. */
export class WebhookVerificationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebhookVerificationError';
  }
}
