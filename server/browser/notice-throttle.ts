/**
 * Page events reach participants coalesced: a page can open dialogs, popups or downloads in a
 * loop (an `alert()` loop made about 1,600 notices a second), and each would be a message to
 * every participant. The first of a kind goes out at once; the rest within the window are
 * counted and told once when it closes ("… 1,600 times in the last 2 s"). Pure but for the timer.
 */
import type { NoticeCode } from '../protocol.ts';

export const NOTICE_WINDOW_MS = 2000;

interface Pending {
  count: number;
  message: string;
  timer: NodeJS.Timeout;
}

export class NoticeThrottle {
  readonly #emit: (code: NoticeCode, message: string) => void;
  readonly #windowMs: number;
  readonly #pending = new Map<NoticeCode, Pending>();
  #closed = false;

  constructor(emit: (code: NoticeCode, message: string) => void, windowMs = NOTICE_WINDOW_MS) {
    this.#emit = emit;
    this.#windowMs = windowMs;
  }

  notice(code: NoticeCode, message: string): void {
    if (this.#closed) return;
    const p = this.#pending.get(code);
    if (p) {
      p.count++;
      p.message = message;
      return;
    }
    this.#emit(code, message);
    const entry: Pending = { count: 0, message, timer: setTimeout(() => this.#flush(code), this.#windowMs) };
    entry.timer.unref();
    this.#pending.set(code, entry);
  }

  #flush(code: NoticeCode): void {
    const p = this.#pending.get(code);
    this.#pending.delete(code);
    if (!p || this.#closed || p.count === 0) return;
    // Still going: tell the total once, and keep coalescing in a new window.
    const again = `${p.message} (${p.count.toLocaleString('en')} more time${p.count === 1 ? '' : 's'} in the last ${Math.round(this.#windowMs / 1000)} s)`;
    this.notice(code, again);
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}
