/**
 * Who may come in as the customer of one session: the invite works once; afterwards only the
 * reconnect token of the customer's last join, within the grace period after a disconnect; and,
 * when verification is on, staff see nothing until they confirm the code the customer reads out.
 */
import { randomInt, timingSafeEqual } from 'node:crypto';
import type { SessionClaims } from '../auth/session-tokens.ts';
import { VitrineError } from '../errors.ts';

export const MAX_CODE_ATTEMPTS = 5;

export class CustomerAccess {
  readonly #inviteJti: string;
  readonly #graceMs: number;
  #inviteUsed = false;
  #reconnectJti: string | null = null;
  #leftAt = 0;
  #code: string | null;
  #attempts = 0;

  constructor(opts: { inviteJti: string; graceMs: number; verificationCode: boolean }) {
    this.#inviteJti = opts.inviteJti;
    this.#graceMs = opts.graceMs;
    this.#code = opts.verificationCode ? String(randomInt(0, 1_000_000)).padStart(6, '0') : null;
  }

  /**
   * Throws BAD_TOKEN unless these claims may bring the customer in now, without consuming them:
   * checked before "the customer is already here", so a spent link says so (not "try again").
   */
  check(claims: SessionClaims): void {
    if (claims.kind === 'invite') {
      if (claims.jti !== this.#inviteJti) throw new VitrineError('BAD_TOKEN');
      if (this.#inviteUsed) throw new VitrineError('BAD_TOKEN', 'this invite has already been used', { reason: 'invite_used' });
    }
  }

  /**
   * Whether these claims may replace the customer's connection that is still there (maybe
   * half-open): only the reconnect token issued at its latest join, never an invite, so a used
   * link cannot take a customer's place. Does not consume them.
   */
  mayReplace(claims: SessionClaims): boolean {
    return claims.kind === 'reconnect' && this.#reconnectJti !== null && claims.jti === this.#reconnectJti;
  }

  /**
   * Throws BAD_TOKEN unless these claims may bring the customer in now; consumes them. present:
   * the customer's previous connection is still there and is being replaced, so the grace
   * period (which counts from a departure) does not apply.
   */
  admit(claims: SessionClaims, now = Date.now(), present = false): void {
    this.check(claims);
    if (present && !this.mayReplace(claims)) throw new VitrineError('CUSTOMER_PRESENT');
    if (claims.kind === 'invite') this.#inviteUsed = true;
    else if (claims.jti !== this.#reconnectJti || (!present && now - this.#leftAt > this.#graceMs)) {
      throw new VitrineError('BAD_TOKEN', 'this reconnect token is used or expired');
    }
    this.#reconnectJti = null;
  }

  /** The reconnect token issued at the latest join; only it may be used next. */
  issued(jti: string): void {
    this.#reconnectJti = jti;
  }

  left(now = Date.now()): void {
    this.#leftAt = now;
  }

  /** The code to show the customer, or null when none is pending. */
  get code(): string | null {
    return this.#code;
  }

  get verified(): boolean {
    return this.#code === null;
  }

  /** Checks a code from staff; returns the attempts used so far when it is wrong. */
  verify(code: string): { ok: true } | { ok: false; attempts: number; exhausted: boolean } {
    if (this.#code === null) return { ok: true };
    if (code.length === this.#code.length && timingSafeEqual(Buffer.from(code), Buffer.from(this.#code))) {
      this.#code = null;
      return { ok: true };
    }
    this.#attempts++;
    return { ok: false, attempts: this.#attempts, exhausted: this.#attempts >= MAX_CODE_ATTEMPTS };
  }
}
