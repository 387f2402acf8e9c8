/**
 * Buttons that give something away (control of the page, a navigation) answer only a deliberate
 * act, never a stray key or a click that was meant for the page.
 *
 * The design, and why:
 * - A request never moves focus. Whoever is typing into the shared page keeps typing into it (the
 *   canvas keeps every key, Tab included, so typing cannot walk focus onto a button either); the
 *   request is announced through a live region and shown in a panel the person can reach.
 * - A pointer click or tap counts, but not in the first ARM_MS after the request appeared: the
 *   panel may pop up right where the person was about to click in the page. The buttons look
 *   inactive meanwhile (data-arming on the panel).
 * - A key press (Enter or Space; the browser reports it as a click with `detail` 0) counts only
 *   when focus was moved onto the button after the request appeared, by the person (nothing in
 *   this client focuses these buttons), and has rested there SETTLE_MS. A focus that was already
 *   on the button when the request came, or a Tab-Enter typed in one burst, is not a decision.
 * A refused activation does nothing but say how to answer.
 */
import { t } from './i18n.ts';

export const ARM_MS = 600;
export const SETTLE_MS = 400;

export class RequestRegion {
  readonly el: HTMLElement;
  #appearedAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(el: HTMLElement) {
    this.el = el;
  }

  get appearedAt(): number {
    return this.#appearedAt;
  }

  /** A new request is shown in this region: its buttons re-arm. */
  appeared(): void {
    this.#appearedAt = performance.now();
    this.el.dataset.arming = '';
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => delete this.el.dataset.arming, ARM_MS);
  }
}

/**
 * Runs `act` when `button` is activated deliberately (see above) for the request shown in
 * `region`; otherwise calls `refused` with what the person should do instead.
 */
export function deliberate(button: HTMLButtonElement, region: RequestRegion, act: () => void, refused: (how: string) => void): void {
  let focusedAt = Number.NEGATIVE_INFINITY;
  let pressedAt = Number.NEGATIVE_INFINITY;
  button.addEventListener('focus', () => (focusedAt = performance.now()));
  button.addEventListener('pointerdown', () => (pressedAt = performance.now()));
  button.addEventListener('click', (e) => {
    const now = performance.now();
    const appeared = region.appearedAt;
    const label = button.textContent?.trim() ?? 'the button';
    if (!e.isTrusted || now - appeared < ARM_MS) {
      refused(t('deliberate.early', { label }));
      return;
    }
    const byPointer = e.detail > 0 || now - pressedAt < 2000;
    const byChosenKey = focusedAt > appeared && now - focusedAt >= SETTLE_MS;
    if (!byPointer && !byChosenKey) {
      refused(t('deliberate.key', { label }));
      return;
    }
    act();
  });
}
