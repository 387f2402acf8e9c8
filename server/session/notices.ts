/**
 * Notices to participants: each audience in its own wording (views.ts), nothing of what the
 * page did while the customer paused for staff, and the page notices of the last seconds
 * repeated to whoever joins a moment after they happened.
 */
import type { Clock } from '../core/ports.ts';
import type { NoticeCode, NoticeParams } from '../protocol.ts';
import type { Participant } from './participant.ts';
import { CUSTOMER_WORDING, PAGE_NOTICES } from './views.ts';

/** Page notices a participant who joins is still told: those of the last RECENT_NOTICE_MS, at most RECENT_NOTICES. */
const RECENT_NOTICE_MS = 5000;
const RECENT_NOTICES = 5;

export class Notices {
  readonly #deps: { participants(): Iterable<Participant>; paused(): boolean; clock: Clock };
  /**
   * What the page did in the last seconds (a request refused, a dialog dismissed while it loaded):
   * the page runs from the session's start, and a refusal at load would otherwise reach only
   * whoever was there first.
   */
  #recent: { code: NoticeCode; forCustomer: string; forStaff: string | null; at: number }[] = [];

  constructor(deps: { participants(): Iterable<Participant>; paused(): boolean; clock: Clock }) {
    this.#deps = deps;
  }

  /** A notice to everyone, the customer in the customer's wording. */
  notice(code: NoticeCode, message: string): void {
    const forCustomer = CUSTOMER_WORDING[code] ?? message;
    // What the page did while paused is the customer's alone; staff are not told afterwards either.
    const forStaff = this.#deps.paused() && PAGE_NOTICES.has(code) ? null : message;
    this.notify(code, forCustomer, forStaff);
    if (PAGE_NOTICES.has(code)) {
      const now = this.#deps.clock.now();
      this.#recent = [...this.#recent.filter((n) => now - n.at < RECENT_NOTICE_MS), { code, forCustomer, forStaff, at: now }].slice(-RECENT_NOTICES);
    }
  }

  /** A notice in one wording per audience; null: that audience is not told. */
  notify(code: NoticeCode, forCustomer: string | null, forStaff: string | null, except?: string, params?: NoticeParams): void {
    for (const p of this.#deps.participants()) {
      if (p.id === except) continue;
      const message = p.role === 'customer' ? forCustomer : forStaff;
      if (message !== null) p.send({ type: 'notice', code, message, ...(params ? { params } : {}) });
    }
  }

  /** Tells a participant who just joined the page notices of the last seconds. */
  tellRecent(p: Participant): void {
    const now = this.#deps.clock.now();
    for (const n of this.#recent) {
      if (now - n.at >= RECENT_NOTICE_MS) continue;
      const message = p.role === 'customer' ? n.forCustomer : n.forStaff;
      if (message !== null) p.send({ type: 'notice', code: n.code, message });
    }
  }
}
