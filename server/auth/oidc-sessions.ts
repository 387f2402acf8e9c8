/**
 * Staff single sign-on, the session part: the server-side session a signed-in browser holds by
 * its cookie, the pending sign-ins (state, nonce, PKCE verifier), and the short-lived console
 * tokens a session hands to its page for the bearer-only API.
 *
 * Why console tokens rather than cookies on the API: the REST API and the WebSocket never read a
 * cookie, so no cross-site request (CSRF) or cross-site WebSocket (CSWSH) can ride on a staff
 * member's sign-in; only the few /auth routes read the cookie, and the one that hands out a
 * token needs the session's CSRF token in a header and a same-origin Origin. A console token
 * lives a few minutes and dies with its session (logout, idle timeout), since each use asks this
 * store whether its session is still alive.
 *
 * Everything is in memory, per node: a restart signs everyone out (they sign in again at the
 * provider, usually without typing anything), and in cluster mode /auth/* must reach the node
 * that holds the session (sticky routing; docs/SECURITY.md).
 */
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT, decodeJwt, errors as joseErrors } from 'jose';
import { VitrineError } from '../errors.ts';
import type { LoginTransaction } from './oidc.ts';
import type { StaffIdentity, StaffRole } from './identity.ts';

/** The audience of console tokens: only this store's key verifies them, never an IdP's. */
export const CONSOLE_AUDIENCE = 'vitrine:console';
const ISSUER = 'vitrine';
/** How long a console token works at most; the page asks for a new one well before. */
export const CONSOLE_TOKEN_SECONDS = 300;
/** A sign-in started and not finished within this is forgotten (its callback is refused). */
export const LOGIN_TTL_MS = 10 * 60_000;
/** Bounds on memory: pending sign-ins and sessions beyond these drop the oldest. */
const MAX_LOGINS = 10_000;
const MAX_SESSIONS = 50_000;

export interface SsoSession {
  /** A handle for tokens and the audit trail; not the cookie value, which never leaves the cookie. */
  handle: string;
  csrf: string;
  who: StaffIdentity;
  idToken: string;
  createdAt: number;
  lastActive: number;
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

export class SsoSessions {
  readonly #key: Uint8Array;
  readonly #idleMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;
  /** By sha256 of the cookie value: a memory dump does not hand out working cookies. */
  readonly #sessions = new Map<string, SsoSession>();
  readonly #byHandle = new Map<string, string>();
  /** By sha256 of the login cookie value. */
  readonly #logins = new Map<string, LoginTransaction>();

  constructor(opts: { jwtSecret: Uint8Array; idleMs: number; maxMs: number; now?: () => number }) {
    // A key of its own, derived from the server's secret: a console token is no staff token
    // signed with the shared secret (and in cluster mode every node derives the same key).
    this.#key = new Uint8Array(hkdfSync('sha256', opts.jwtSecret, 'vitrine', 'console-token', 32));
    this.#idleMs = opts.idleMs;
    this.#maxMs = opts.maxMs;
    this.#now = opts.now ?? Date.now;
  }

  get idleMs(): number {
    return this.#idleMs;
  }

  /** Keeps a pending sign-in; returns the value for the login cookie that binds it to this browser. */
  addLogin(t: LoginTransaction): string {
    const cookie = randomBytes(32).toString('base64url');
    bounded(this.#logins, MAX_LOGINS);
    this.#logins.set(digest(cookie), t);
    return cookie;
  }

  /** Takes a pending sign-in out (single use: a replayed callback finds nothing). */
  takeLogin(cookie: string | undefined): LoginTransaction | null {
    if (!cookie) return null;
    const key = digest(cookie);
    const t = this.#logins.get(key);
    this.#logins.delete(key);
    if (!t || this.#now() - t.createdAt > LOGIN_TTL_MS) return null;
    return t;
  }

  /** Starts a session for a verified sign-in; returns the cookie value and the session. */
  create(who: StaffIdentity, idToken: string): { cookie: string; session: SsoSession } {
    const cookie = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session: SsoSession = { handle: randomBytes(16).toString('base64url'), csrf: randomBytes(32).toString('base64url'), who, idToken, createdAt: now, lastActive: now };
    bounded(this.#sessions, MAX_SESSIONS, (s) => this.#byHandle.delete(s.handle));
    this.#sessions.set(digest(cookie), session);
    this.#byHandle.set(session.handle, digest(cookie));
    return { cookie, session };
  }

  /** The live session of a cookie, or null (unknown, idle too long, or past its lifetime). */
  get(cookie: string | undefined): SsoSession | null {
    if (!cookie) return null;
    return this.#alive(digest(cookie));
  }

  /** The user did something: the idle clock starts again. */
  touch(session: SsoSession): void {
    session.lastActive = this.#now();
  }

  /** When the session ends at the latest, whatever the user does (ms since the epoch). */
  endsAt(session: SsoSession): number {
    return session.createdAt + this.#maxMs;
  }

  end(cookie: string | undefined): SsoSession | null {
    if (!cookie) return null;
    const key = digest(cookie);
    const s = this.#sessions.get(key) ?? null;
    this.#sessions.delete(key);
    if (s) this.#byHandle.delete(s.handle);
    return s;
  }

  #alive(key: string): SsoSession | null {
    const s = this.#sessions.get(key);
    if (!s) return null;
    const now = this.#now();
    if (now - s.lastActive > this.#idleMs || now - s.createdAt > this.#maxMs) {
      this.#sessions.delete(key);
      this.#byHandle.delete(s.handle);
      return null;
    }
    return s;
  }

  /** True when `csrf` is this session's CSRF token (compared in constant time). */
  csrfMatches(session: SsoSession, csrf: string | undefined): boolean {
    if (!csrf) return false;
    const a = Buffer.from(digest(csrf));
    const b = Buffer.from(digest(session.csrf));
    return timingSafeEqual(a, b);
  }

  /** A console token for the session's page: the staff identity, a few minutes, this session only. */
  async mint(session: SsoSession): Promise<{ token: string; expiresAt: number }> {
    const now = this.#now();
    const exp = Math.floor(Math.min(now + CONSOLE_TOKEN_SECONDS * 1000, now + this.#idleMs, this.endsAt(session)) / 1000);
    const token = await new SignJWT({ name: session.who.name, roles: session.who.roles, sso: session.handle })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(CONSOLE_AUDIENCE)
      .setSubject(session.who.sub)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp)
      .sign(this.#key);
    return { token, expiresAt: exp * 1000 };
  }

  /**
   * For IdentityVerifier: null when the token is not a console token (another verifier's), the
   * identity when it is one and its session is alive; throws UNAUTHENTICATED otherwise.
   */
  async verifyToken(token: string): Promise<StaffIdentity | null> {
    let aud: unknown;
    try {
      aud = decodeJwt(token).aud;
    } catch {
      return null;
    }
    if (aud !== CONSOLE_AUDIENCE) return null;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: CONSOLE_AUDIENCE,
        requiredClaims: ['exp', 'sub', 'sso'],
        currentDate: new Date(this.#now()),
      }));
    } catch (e) {
      throw new VitrineError('UNAUTHENTICATED', e instanceof joseErrors.JWTExpired ? 'token has expired' : 'token is invalid');
    }
    const key = this.#byHandle.get(String(payload.sso));
    if (!key || !this.#alive(key)) throw new VitrineError('UNAUTHENTICATED', 'the sign-in of this token has ended');
    const roles = Array.isArray(payload.roles) ? (payload.roles.filter((r) => typeof r === 'string') as StaffRole[]) : [];
    return { sub: String(payload.sub), name: typeof payload.name === 'string' ? payload.name : String(payload.sub), roles, expiresAt: Number(payload.exp) * 1000 };
  }
}

function bounded<V>(map: Map<string, V>, max: number, onDrop?: (v: V) => void): void {
  while (map.size >= max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) return;
    const v = map.get(oldest);
    map.delete(oldest);
    if (v !== undefined) onDrop?.(v);
  }
}
