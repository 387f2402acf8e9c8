/**
 * The session's clipboard rules (policy `clipboard`, docs/redaction.md#clipboard). The session
 * browser's own clipboard is shared by every session on that browser, so it is never used:
 * in-page scripts keep copies out of it (server/browser/redaction/clipboard.js) and paste
 * shortcuts are never replayed (keys.ts readsBrowserClipboard). What crosses instead:
 * - paste: text from a participant's own device, inserted at the focus, when the policy lets
 *   that participant paste (`control`: whoever may give input; `customer`; `off`);
 * - copy: text copied or cut in the page, to the customer's device alone, and only when the
 *   customer's own input made it (a copy an agent's keys or clicks made reaches nobody: it would
 *   put the customer's data, or anything, on the customer's clipboard behind their back).
 * Nothing copied or pasted is logged or audited beyond its length.
 */
import type { ClipboardPolicy } from '../policy/schema.ts';
import type { NoticeCode, Role } from '../protocol.ts';

/**
 * How long after a participant's input was replayed a copy the page makes counts as theirs: the
 * copy event fires during the replay, but its report crosses the renderer, the browser and this
 * process's event loop, which a loaded machine can hold up for a second or more.
 */
export const COPY_ATTRIBUTION_MS = 3000;
/** At most this many copies reach the customer in one burst, refilled at COPY_RATE a second. */
const COPY_BURST = 5;
const COPY_RATE = 2;

export interface CopyDecision {
  /** Give the text to the customer. */
  deliver: boolean;
  /** Tell the participant whose input made the copy why it did not reach anyone. */
  notice?: { to: 'customer' | 'staff'; participant: string; code: NoticeCode; message: string };
  /** Why nothing was delivered, for the log (never the text). */
  dropped?: 'off' | 'staff_input' | 'no_input' | 'rate';
}

export const DEFAULT_CLIPBOARD: ClipboardPolicy = { paste: 'control', copy: 'customer' };

export class ClipboardRules {
  readonly #policy: ClipboardPolicy;
  readonly #now: () => number;
  #last: { participant: string; role: Role; at: number } | null = null;
  #tokens = COPY_BURST;
  #refilled: number;

  constructor(policy: ClipboardPolicy = DEFAULT_CLIPBOARD, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
    this.#refilled = now();
  }

  get policy(): ClipboardPolicy {
    return this.#policy;
  }

  /** Whether this participant may paste now (input permission is checked before, as for typing). */
  mayPaste(role: Role): boolean {
    if (this.#policy.paste === 'off') return false;
    return this.#policy.paste === 'control' || role === 'customer';
  }

  /** Every input replayed into the page, so that a copy it makes can be attributed. */
  inputFrom(participant: string, role: Role): void {
    this.#last = { participant, role, at: this.#now() };
  }

  /** What to do with text the page copied. */
  copied(): CopyDecision {
    const now = this.#now();
    const last = this.#last && now - this.#last.at <= COPY_ATTRIBUTION_MS ? this.#last : null;
    // A copy nobody's input made (a page's timer) goes nowhere, silently: the page chose it.
    if (!last) return { deliver: false, dropped: 'no_input' };
    if (last.role !== 'customer') {
      return {
        deliver: false,
        dropped: 'staff_input',
        notice: {
          to: 'staff',
          participant: last.participant,
          code: 'COPY_CUSTOMER_ONLY',
          message: "Text copied in the page goes only to the customer's device, and only when the customer copies it; nothing was copied.",
        },
      };
    }
    if (this.#policy.copy === 'off') {
      return {
        deliver: false,
        dropped: 'off',
        notice: { to: 'customer', participant: last.participant, code: 'COPY_REFUSED', message: 'Copying out of the page is turned off in this session.' },
      };
    }
    this.#tokens = Math.min(COPY_BURST, this.#tokens + ((now - this.#refilled) / 1000) * COPY_RATE);
    this.#refilled = now;
    if (this.#tokens < 1) return { deliver: false, dropped: 'rate' };
    this.#tokens -= 1;
    return { deliver: true };
  }
}
