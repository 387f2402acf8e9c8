/**
 * A rate limiter whose counts are shared by every node through Redis, so that a token guesser
 * or a runaway script gains nothing by spreading its requests over the nodes behind a load
 * balancer. While Redis is unreachable it counts locally: limits then hold per node, which is
 * weaker but never stops the service.
 */
import { createHash } from 'node:crypto';
import { FailureLimiter, type Limiter } from '../auth/failure-limiter.ts';
import type { ClusterDirectory } from './directory.ts';

/** What a shared limiter needs of the directory: sliding-window counts. */
export type LimitCounts = Pick<ClusterDirectory, 'connected' | 'hit' | 'count'>;

export class SharedLimiter implements Limiter {
  readonly #name: string;
  readonly #directory: LimitCounts;
  readonly #local: FailureLimiter;
  readonly #onFallback: (err: unknown) => void;

  constructor(name: string, directory: LimitCounts, local: FailureLimiter, onFallback: (err: unknown) => void) {
    this.#name = name;
    this.#directory = directory;
    this.#local = local;
    this.#onFallback = onFallback;
  }

  // Keys are addresses and staff subjects: hashed so Redis holds no personal data in clear.
  #key(key: string): string {
    return `${this.#name}:${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;
  }

  async blocked(key: string): Promise<boolean> {
    if (this.#directory.connected) {
      try {
        return (await this.#directory.count(this.#key(key), this.#local.windowMs)) >= this.#local.max;
      } catch (e) {
        this.#onFallback(e);
      }
    }
    return this.#local.blocked(key);
  }

  /** Counts and answers in one round trip: the caller needs no blocked() before or after. */
  async fail(key: string): Promise<boolean> {
    const overLocally = this.#local.fail(key);
    // Over on this node alone means over everywhere: a flood costs Redis nothing more.
    if (overLocally || !this.#directory.connected) return overLocally;
    try {
      return (await this.#directory.hit(this.#key(key), this.#local.windowMs)) > this.#local.max;
    } catch (e) {
      this.#onFallback(e);
      return overLocally;
    }
  }
}
