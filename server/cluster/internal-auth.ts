/**
 * Authentication of the internal node-to-node hop. Each request carries an HMAC over the
 * sending node, a timestamp, the method and the path, keyed by the shared cluster secret, so the
 * secret itself never crosses the wire and a captured header is only good for that one request
 * target for a short window. The internal port must still never be reachable from outside.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const INTERNAL_AUTH_HEADER = 'x-vitrine-internal';
/** The original client address of a forwarded request (trusted only after the HMAC checks). */
export const CLIENT_ADDRESS_HEADER = 'x-vitrine-client-address';
export const INTERNAL_SKEW_SECONDS = 30;

function mac(secret: string, node: string, ts: number, method: string, path: string): Buffer {
  return createHmac('sha256', secret).update(`vitrine-internal-v1\n${node}\n${ts}\n${method.toUpperCase()}\n${path}`).digest();
}

export function signInternal(secret: string, node: string, method: string, path: string, now = Date.now()): string {
  const ts = Math.floor(now / 1000);
  return `v1 ${node} ${ts} ${mac(secret, node, ts, method, path).toString('base64url')}`;
}

/** The calling node's id when the header is valid for this request; null otherwise. */
export function verifyInternal(secret: string, header: string | undefined, method: string, path: string, now = Date.now()): string | null {
  if (!header || header.length > 300) return null;
  const m = /^v1 ([A-Za-z0-9][A-Za-z0-9._-]{0,62}) (\d{1,12}) ([A-Za-z0-9_-]{43})$/.exec(header);
  if (!m) return null;
  const [, node, tsText, given] = m as unknown as [string, string, string, string];
  const ts = Number(tsText);
  if (Math.abs(now / 1000 - ts) > INTERNAL_SKEW_SECONDS) return null;
  const expected = mac(secret, node, ts, method, path);
  const actual = Buffer.from(given, 'base64url');
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? node : null;
}
