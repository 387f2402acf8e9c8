/**
 * Retry timing shared by webhooks and the syslog stream: exponential backoff with "equal
 * jitter" (half the step fixed, half random), so that many senders retrying one receiver that
 * came back do not arrive in lockstep, yet no retry comes sooner than half its step.
 */
import type { RetryConfig } from './integration-config.ts';

/** The wait after failed attempt number `attempt` (1-based). */
export function backoffDelay(attempt: number, retry: RetryConfig, random: () => number = Math.random): number {
  const step = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(40, Math.max(0, attempt - 1)));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Resolves after `ms`, or at once when `signal` aborts (shutdown must not wait out a backoff). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
