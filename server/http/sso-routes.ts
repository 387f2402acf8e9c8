/**
 * /auth/*: staff single sign-on for the agent console and the replay page (docs/SECURITY.md#staff-single-sign-on).
 *
 *   GET  /auth/login?return=/agent   starts the code flow (state, nonce, PKCE) at the issuer
 *   GET  /auth/callback              finishes it; sets the session cookie; back to the page
 *   GET  /auth/session               who is signed in, and the session's CSRF token
 *   POST /auth/token                 a console token for the bearer-only API (CSRF-protected)
 *   POST /auth/logout                ends the session; answers the issuer's logout URL (CSRF-protected)
 *
 * These are the only routes that read a cookie. The session cookie is `__Host-` (this origin
 * only, path /, no Domain), HttpOnly, Secure and SameSite=Strict. The login cookie, which binds
 * a pending sign-in to the browser that started it (no login CSRF), is SameSite=Lax: the
 * callback is a top-level navigation coming from the issuer's site, and a Strict cookie would
 * not be sent on it. Cookie-authenticated POSTs need the session's CSRF token in a header and an
 * Origin of this server (and a Sec-Fetch-Site of same-origin where the browser sends it).
 */
import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import type { AuditSink } from '../audit/audit.ts';
import { describe, OidcClient, OidcRefusal } from '../auth/oidc.ts';
import { SsoSessions } from '../auth/oidc-sessions.ts';
import { claimAt, rolesFrom, STAFF_ROLES, type IdentityVerifier, type StaffIdentity } from '../auth/identity.ts';
import type { Config } from '../config.ts';
import { VitrineError, hasCode } from '../errors.ts';
import type { Logger } from '../log.ts';

export const SESSION_COOKIE = '__Host-vitrine-sso';
export const LOGIN_COOKIE = '__Host-vitrine-login';
export const CSRF_HEADER = 'x-vitrine-csrf';
/** Pages that sign in with SSO and may be returned to (never an address from the request). */
const RETURN_PAGES = ['/agent', '/replay'] as const;

export interface SsoDeps {
  oidc: OidcClient;
  sessions: SsoSessions;
  audit: AuditSink;
  log: Logger;
  /** The public base URL (redirect URIs and the expected Origin are built on it). */
  publicUrl: () => string;
  roleClaim: string;
  nameClaim: string;
}

const LoginQuery = z.object({ return: z.enum(RETURN_PAGES).default('/agent') }).strict();
const CallbackQuery = z.union([
  z.object({ code: z.string().min(1).max(4096), state: z.string().min(1).max(512), iss: z.string().max(2048).optional(), session_state: z.string().max(2048).optional() }).strict(),
  z.object({ error: z.string().max(200), error_description: z.string().max(2000).optional(), state: z.string().max(512).optional(), iss: z.string().max(2048).optional() }).strict(),
]);
const TokenBody = z.object({ active: z.boolean() }).strict();

/** Why a sign-in failed, as the page is told (a short code in the URL fragment, never details). */
type SignInFailure = 'refused' | 'expired' | 'no-role' | 'unavailable';

export function ssoRoutes(deps: SsoDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: '1kb', type: () => true });
  let warnedPlainHttp = false;
  const redirectUri = () => `${deps.publicUrl()}/auth/callback`;
  const secureCookie = { httpOnly: true, secure: true, path: '/' } as const;

  router.get('/login', async (req, res, next) => {
    try {
      const q = LoginQuery.safeParse(req.query);
      if (!q.success) throw new VitrineError('BAD_REQUEST', 'return: one of /agent, /replay');
      if (!warnedPlainHttp && deps.publicUrl().startsWith('http:')) {
        warnedPlainHttp = true;
        // Config validation allows plain http only on loopback; browsers keep Secure cookies there.
        deps.log.warn({ publicUrl: deps.publicUrl() }, 'SINGLE SIGN-ON OVER PLAIN HTTP: loopback development only; serve https in production');
      }
      let started;
      try {
        started = await deps.oidc.begin(redirectUri(), q.data.return);
      } catch (e) {
        if (hasCode(e, 'NODE_UNAVAILABLE')) return void res.redirect(303, `${q.data.return}#sso-error=unavailable`);
        throw e;
      }
      const cookie = deps.sessions.addLogin(started.transaction);
      res.cookie(LOGIN_COOKIE, cookie, { ...secureCookie, sameSite: 'lax', maxAge: 10 * 60_000 });
      res.redirect(303, started.url.href);
    } catch (e) {
      next(e);
    }
  });

  router.get('/callback', async (req, res, next) => {
    const fail = (page: string, why: SignInFailure, reason: string) => {
      deps.audit.record({ type: 'sso.refused', details: { reason: reason.slice(0, 200) } });
      deps.log.warn({ reason }, 'single sign-on refused');
      res.redirect(303, `${page}#sso-error=${why}`);
    };
    try {
      res.clearCookie(LOGIN_COOKIE, { ...secureCookie, sameSite: 'lax' });
      // Single use: whatever happens next, this browser's pending sign-in is gone.
      const transaction = deps.sessions.takeLogin(cookieOf(req, LOGIN_COOKIE));
      const q = CallbackQuery.safeParse(req.query);
      if (!transaction) return fail('/agent', 'expired', 'no sign-in in progress in this browser (no login cookie, already used, or expired)');
      if (!q.success) return fail(transaction.returnTo, 'refused', 'malformed callback');
      if ('error' in q.data) return fail(transaction.returnTo, 'refused', `provider answered ${q.data.error}`);
      let login;
      try {
        const callback = new URL(`${redirectUri()}?${new URLSearchParams(q.data as Record<string, string>)}`);
        login = await deps.oidc.finish(callback, transaction);
      } catch (e) {
        if (e instanceof OidcRefusal) return fail(transaction.returnTo, 'refused', e.why);
        if (hasCode(e, 'NODE_UNAVAILABLE')) return fail(transaction.returnTo, 'unavailable', 'provider unreachable');
        return fail(transaction.returnTo, 'refused', describe(e));
      }
      const roles = rolesFrom(claimAt(login.claims, deps.roleClaim));
      if (!roles.length) return fail(transaction.returnTo, 'no-role', `no staff role in claim ${deps.roleClaim}`);
      const rawName = claimAt(login.claims, deps.nameClaim);
      const sub = login.sub.slice(0, 200);
      const who: StaffIdentity = { sub, name: typeof rawName === 'string' && rawName.trim() ? rawName.trim().slice(0, 100) : sub, roles };
      const { cookie, session } = deps.sessions.create(who, login.idToken);
      res.cookie(SESSION_COOKIE, cookie, { ...secureCookie, sameSite: 'strict', maxAge: deps.sessions.endsAt(session) - Date.now() });
      deps.audit.record({ type: 'sso.signed_in', actor: { sub, role: roles[0]! }, details: { roles: roles.join(','), handle: session.handle } });
      res.redirect(303, transaction.returnTo);
    } catch (e) {
      next(e);
    }
  });

  router.get('/session', (req, res, next) => {
    try {
      const session = deps.sessions.get(cookieOf(req, SESSION_COOKIE));
      if (!session) throw new VitrineError('UNAUTHENTICATED', 'not signed in');
      // Opening a page is activity; what the page does later by itself is not (POST /token).
      deps.sessions.touch(session);
      const roles = STAFF_ROLES.filter((r) => session.who.roles.includes(r));
      res.json({
        // The fields of GET /api/me (StaffMeSchema); expiresAt is the session's end at the latest.
        sub: session.who.sub,
        name: session.who.name,
        role: roles[0],
        roles,
        expiresAt: new Date(deps.sessions.endsAt(session)).toISOString(),
        idleSeconds: Math.round(deps.sessions.idleMs / 1000),
        csrf: session.csrf,
      });
    } catch (e) {
      next(e);
    }
  });

  /** A cookie-authenticated state change: the session, its CSRF token, and a request from this origin. */
  const sameOriginSession = (req: Request) => {
    const expected = new URL(deps.publicUrl()).origin;
    const site = req.headers['sec-fetch-site'];
    if (req.headers.origin !== expected || (site !== undefined && site !== 'same-origin')) {
      deps.audit.record({ type: 'sso.refused', details: { reason: 'cross-origin request to a cookie-authenticated route', path: req.path } });
      throw new VitrineError('FORBIDDEN', 'cross-origin request refused');
    }
    const cookie = cookieOf(req, SESSION_COOKIE);
    const session = deps.sessions.get(cookie);
    if (!session) throw new VitrineError('UNAUTHENTICATED', 'not signed in, or the sign-in has ended');
    const csrf = req.headers[CSRF_HEADER];
    if (!deps.sessions.csrfMatches(session, typeof csrf === 'string' ? csrf : undefined)) {
      deps.audit.record({ type: 'sso.refused', actor: { sub: session.who.sub, role: session.who.roles[0]! }, details: { reason: 'missing or wrong CSRF token', path: req.path } });
      throw new VitrineError('FORBIDDEN', 'missing or wrong CSRF token');
    }
    return { session, cookie };
  };

  router.post('/token', json, async (req, res, next) => {
    try {
      const { session } = sameOriginSession(req);
      const body = TokenBody.safeParse(req.body);
      if (!body.success) throw new VitrineError('BAD_REQUEST', 'body: {"active": boolean}');
      // Only a person's input restarts the idle clock; a page refreshing its token by itself does not.
      if (body.data.active) deps.sessions.touch(session);
      const { token, expiresAt } = await deps.sessions.mint(session);
      res.json({ token, expiresAt: new Date(expiresAt).toISOString() });
    } catch (e) {
      next(e);
    }
  });

  router.post('/logout', async (req, res, next) => {
    try {
      const { session, cookie } = sameOriginSession(req);
      deps.sessions.end(cookie);
      res.clearCookie(SESSION_COOKIE, { ...secureCookie, sameSite: 'strict' });
      deps.audit.record({ type: 'sso.signed_out', actor: { sub: session.who.sub, role: session.who.roles[0]! }, details: { handle: session.handle } });
      // RP-initiated logout: the issuer ends its own session too, then sends the browser back.
      const redirect = await deps.oidc.endSessionUrl(session.idToken, `${deps.publicUrl()}/agent`);
      res.json({ redirect: redirect ?? '/agent' });
    } catch (e) {
      next(e);
    }
  });
  return router;
}

/** One cookie's value from the Cookie header (no cookie-parsing middleware for the rest of the app). */
function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,100}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/**
 * Single sign-on from the configuration, or undefined without VITRINE_OIDC_ISSUER: the routes,
 * with the identity verifier told to accept the console tokens they hand out. Discovery starts
 * at once so a misconfigured issuer is in the log at start, but a sign-in retries it.
 */
export function ssoFromConfig(
  config: Pick<Config, 'oidc' | 'jwtSecret' | 'identity'>,
  deps: { identity: IdentityVerifier; audit: AuditSink; log: Logger; publicUrl: () => string },
): Router | undefined {
  if (!config.oidc) return undefined;
  const sessions = new SsoSessions({ jwtSecret: config.jwtSecret, idleMs: config.oidc.idleMs, maxMs: config.oidc.maxSessionMs });
  deps.identity.acceptConsoleTokens(sessions);
  const oidc = new OidcClient(config.oidc, deps.log);
  oidc.configuration().catch(() => undefined);
  return ssoRoutes({ oidc, sessions, audit: deps.audit, log: deps.log, publicUrl: deps.publicUrl, roleClaim: config.identity.roleClaim, nameClaim: config.identity.nameClaim });
}
