/**
 * The protected-content banner: while the redaction gate holds frames back, participants are
 * told why they see the placeholder. Brief closures (every navigation closes it for a moment)
 * are not worth a banner; only one that lasts SHIELD_AFTER_MS is shown.
 */
import type { Clock, TimerHandle } from '../core/ports.ts';
import type { Logger } from '../log.ts';

const SHIELD_AFTER_MS = 750;

export class Shield {
  readonly #deps: { clock: Clock; log: Logger; closedReason(): string | null; ended(): boolean; changed(): void };
  #reason: string | null = null;
  #timer: TimerHandle | null = null;

  constructor(deps: { clock: Clock; log: Logger; closedReason(): string | null; ended(): boolean; changed(): void }) {
    this.#deps = deps;
  }

  /** Why frames are withheld, once that has lasted; null otherwise (the snapshot's `shielded`). */
  get reason(): string | null {
    return this.#reason;
  }

  /** The gate opened (null) or closed (its reason). */
  gate(reason: string | null): void {
    const { clock } = this.#deps;
    if (reason === null) {
      this.stop();
      if (this.#reason !== null) {
        this.#reason = null;
        this.#deps.changed();
      }
      return;
    }
    this.#timer ??= clock.setTimeout(() => {
      this.#timer = null;
      const now = this.#deps.closedReason();
      if (now === null || this.#deps.ended()) return;
      this.#reason = now;
      this.#deps.log.warn({ reason: now }, 'frames withheld: showing the protected-content placeholder');
      this.#deps.changed();
    }, SHIELD_AFTER_MS);
  }

  stop(): void {
    this.#deps.clock.clear(this.#timer);
    this.#timer = null;
  }
}
