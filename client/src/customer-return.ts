/**
 * The customer's way back into a session after closing or reloading the tab: the single-use
 * reconnect token of the last join, kept in this browser's localStorage for this origin and
 * session only. The invite link stays single-use (a forwarded link is refused as used); the
 * reconnect token never leaves this browser and the server accepts it only within the grace
 * window after the customer left. It is dropped when the session ends or refuses it.
 */

/** Kept a little longer than the server's grace window (30 s), then treated as gone. */
const KEEP_MS = 10 * 60_000;

export function returnToken(key: string): string {
  try {
    // A token from before this change (sessionStorage) still brings a reload back.
    const legacy = sessionStorage.getItem(key);
    if (legacy) return legacy;
    const v = JSON.parse(localStorage.getItem(key) ?? 'null') as { token?: unknown; at?: unknown } | null;
    if (!v || typeof v.token !== 'string' || typeof v.at !== 'number' || Date.now() - v.at > KEEP_MS) return '';
    return v.token;
  } catch {
    return '';
  }
}

export function keepReturn(key: string, token: string): void {
  try {
    sessionStorage.removeItem(key);
    localStorage.setItem(key, JSON.stringify({ token, at: Date.now() }));
  } catch {
    // storage off: a reload cannot come back, the session itself is unaffected
  }
}

export function forgetReturn(key: string): void {
  try {
    sessionStorage.removeItem(key);
    localStorage.removeItem(key);
  } catch {
    // nothing kept
  }
}
