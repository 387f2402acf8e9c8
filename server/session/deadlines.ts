/**
 * Every timer of a session, on the injected clock (a fake one in the unit tier): the invite
 * nobody accepted, the time limit (warned a minute before), idleness (warned, then ended), and
 * the customer's grace period after leaving. All are cleared together when the session ends.
 */
import type { Clock, TimerHandle } from '../core/ports.ts';
import type { EndReason, NoticeCode, SessionState } from '../protocol.ts';

/** Warnings go out this long before an idle or duration limit ends the session. */
export const END_WARNING_MS = 60_000;

export interface DeadlineDeps {
  clock: Clock;
  inviteExpiresAt: number;
  maxDurationMs: number;
  idleMs: number;
  customerGraceMs: number;
  state(): SessionState;
  end(reason: EndReason): void;
  notice(code: NoticeCode, message: string): void;
}

export class Deadlines {
  readonly #deps: DeadlineDeps;
  readonly #timers = new Set<TimerHandle>();
  #lastActivity: number;
  #idleWarned = false;
  #customerGrace: TimerHandle | null = null;

  constructor(deps: DeadlineDeps) {
    this.#deps = deps;
    const { clock } = deps;
    this.#lastActivity = clock.now();
    this.#after(deps.inviteExpiresAt - clock.now(), () => {
      if (deps.state() === 'waiting') deps.end('expired');
    });
    this.#after(deps.maxDurationMs - END_WARNING_MS, () => deps.notice('ENDING_SOON', 'The session reaches its time limit in one minute.'));
    this.#after(deps.maxDurationMs, () => deps.end('expired'));
    this.#timers.add(clock.setInterval(() => this.#checkIdle(), Math.min(5000, Math.max(250, deps.idleMs / 20))));
  }

  /** Someone did something: the idle count starts again. */
  activity(): void {
    this.#lastActivity = this.#deps.clock.now();
    this.#idleWarned = false;
  }

  /** Starts (the customer left) or stops (the customer is back) the grace period, at whose end the session ends. */
  customerGrace(running: boolean): void {
    if (this.#customerGrace) {
      this.#deps.clock.clear(this.#customerGrace);
      this.#timers.delete(this.#customerGrace);
    }
    this.#customerGrace = running ? this.#after(this.#deps.customerGraceMs, () => this.#deps.end('customer_left')) : null;
  }

  clear(): void {
    for (const t of this.#timers) this.#deps.clock.clear(t);
    this.#timers.clear();
  }

  #after(ms: number, fn: () => void): TimerHandle {
    const t = this.#deps.clock.setTimeout(
      () => {
        this.#timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    this.#timers.add(t);
    return t;
  }

  #checkIdle(): void {
    const { state, idleMs, clock } = this.#deps;
    if (state() !== 'live') return;
    const idle = clock.now() - this.#lastActivity;
    if (idle >= idleMs) this.#deps.end('idle');
    else if (idle >= idleMs - Math.min(END_WARNING_MS, idleMs / 2) && !this.#idleWarned) {
      this.#idleWarned = true;
      this.#deps.notice('IDLE_WARNING', 'The session will end soon without activity.');
    }
  }
}
