/**
 * The resources a server is made of, in the order they were built, each with the one way to
 * undo it. Start-up pushes every resource as soon as it exists; if a later step fails, what was
 * built is unwound in reverse order (nothing leaks, and the first failure is the one reported);
 * `close()` unwinds the same way on shutdown. One list, so teardown is written once.
 */
import type { Logger } from './log.ts';

interface Entry {
  name: string;
  close: () => unknown;
}

export class ResourceStack {
  readonly #entries: Entry[] = [];
  readonly #log: Logger | undefined;
  #closing: Promise<void> | null = null;

  constructor(log?: Logger) {
    this.#log = log;
  }

  /** Registers how to undo `value` and hands it back, so building and registering read as one. */
  use<T>(name: string, value: T, close: (value: T) => unknown): T {
    this.defer(name, () => close(value));
    return value;
  }

  /**
   * Registers a step of the unwinding at this position. A step may stand for something built
   * later (it then checks whether it was): its place in the order is what it waits for.
   */
  defer(name: string, close: () => unknown): void {
    if (this.#closing) throw new Error(`resource "${name}" added to a stack that is closing`);
    this.#entries.push({ name, close });
  }

  /** Names in the order they will be undone (tests and logs). */
  get order(): string[] {
    return this.#entries.map((e) => e.name).reverse();
  }

  /**
   * Undoes everything, last first; every step runs even when one before it failed. Rejects with
   * the first failure once all have run. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      let first: unknown = null;
      for (const e of this.#entries.splice(0).reverse()) {
        try {
          await e.close();
        } catch (err) {
          this.#log?.error({ resource: e.name, err: String((err as Error)?.message ?? err) }, 'a resource did not close cleanly');
          first ??= err;
        }
      }
      if (first !== null) throw first;
    })();
    return this.#closing;
  }

  /**
   * Runs `build` against this stack; when it throws, unwinds what it had built and rethrows its
   * error (a failure while unwinding is logged, not allowed to hide the cause).
   */
  async build<T>(build: (stack: this) => Promise<T>): Promise<T> {
    try {
      return await build(this);
    } catch (e) {
      await this.close().catch(() => undefined);
      throw e;
    }
  }
}
