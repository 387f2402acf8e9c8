/**
 * Signing in to the agent console: a pasted token is checked with the server at once
 * (GET /api/me, verified exactly like every API call), so a wrong token is refused at the door
 * with the reason, not at the first action; the header then says who is signed in, with which
 * role and until when.
 */
import { StaffMeSchema, type StaffMe } from '../../server/protocol.ts';
import { $, show } from './dom.ts';

export type TokenCheck = { ok: true; me: StaffMe } | { ok: false; message: string };

export async function checkToken(token: string): Promise<TokenCheck> {
  let res: Response;
  try {
    res = await fetch('/api/me', { headers: { authorization: `Bearer ${token}` } });
  } catch {
    return { ok: false, message: 'Could not reach the server to check the token. Try again.' };
  }
  const body = (await res.json().catch(() => null)) as unknown;
  if (res.status === 200) {
    const me = StaffMeSchema.safeParse(body);
    if (!me.success) return { ok: false, message: 'The server answered in a way this console does not understand. Reload the page.' };
    // The console starts sessions, which needs the agent role; say so rather than fail later.
    if (!me.data.roles.includes('agent')) return { ok: false, message: `Not signed in: this token is for ${me.data.roles.join(' and ')} work, and the agent console needs the agent role.` };
    return { ok: true, me: me.data };
  }
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  if (res.status === 401) return { ok: false, message: `Not signed in: the token was refused (${error?.message ?? 'invalid'}). Paste the whole token from your identity provider.` };
  if (res.status === 403) return { ok: false, message: 'Not signed in: this token carries no staff role (agent, supervisor or auditor).' };
  if (res.status === 429) return { ok: false, message: `Not signed in: ${error?.message ?? 'too many attempts'}.` };
  return { ok: false, message: `Not signed in: the server could not check the token (${error?.code ?? `HTTP ${res.status}`}). Try again.` };
}

/** Shows who is signed in (or nobody) in the header. */
export function showWhoami(me: StaffMe | null): void {
  show($('whoami'), me !== null);
  if (!me) return;
  $('whoami-name').textContent = me.name;
  $('whoami-role').textContent = me.roles.join(', ');
  const until = new Date(me.expiresAt);
  const day = (d: Date) => d.toDateString();
  const tomorrow = new Date(Date.now() + 86_400_000);
  const time = until.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const when = day(until) === day(new Date()) ? time : day(until) === day(tomorrow) ? `tomorrow ${time}` : `${until.toLocaleDateString()} ${time}`;
  $('whoami-expiry').textContent = `signed in until ${when}`;
  $('whoami').title = `Signed in as ${me.name} (${me.sub})`;
}

export function showSignInError(message: string | null): void {
  const el = $('signin-error');
  el.textContent = message ?? '';
  show(el, message !== null);
}

/**
 * Single sign-on (server/http/sso-routes.ts): the server keeps the session behind an HttpOnly
 * cookie this script never sees; the page asks for short-lived console tokens with the
 * session's CSRF token and keeps them in memory only, never in storage. Only a person's input
 * (a key, a click, a touch) counts as activity: a token refreshed with none since the last one
 * lets the server's idle clock run, so an abandoned console signs itself out.
 */
export type SsoEnd = 'idle' | 'ended';
const SSO_FAILURES: Record<string, string> = {
  refused: "Single sign-on failed: your identity provider's answer was refused. Try again, or ask your administrator.",
  expired: 'Single sign-on took too long or was already used. Sign in again.',
  'no-role': 'Signed in at your identity provider, but your account has no Vitrine role (agent, supervisor or auditor). Ask your administrator.',
  unavailable: 'Your identity provider cannot be reached right now. Try again in a moment.',
};

/** The sign-in error a failed SSO callback put in the address (#sso-error=...), as a sentence. */
export function ssoErrorFrom(hash: string): string | null {
  const code = new URLSearchParams(hash.replace(/^#/, '')).get('sso-error');
  return code ? (SSO_FAILURES[code] ?? SSO_FAILURES.refused!) : null;
}

export class SsoSignIn {
  /** The current console token (for `authorization: Bearer`), or null once the session ended. */
  current: string | null = null;
  readonly me: StaffMe;
  readonly idleSeconds: number;
  readonly #csrf: string;
  #active = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onEnded: (why: SsoEnd) => void = () => undefined;

  private constructor(me: StaffMe, idleSeconds: number, csrf: string) {
    this.me = me;
    this.idleSeconds = idleSeconds;
    this.#csrf = csrf;
    const mark = () => (this.#active = true);
    for (const type of ['keydown', 'pointerdown', 'touchstart']) document.addEventListener(type, mark, { capture: true, passive: true });
  }

  /**
   * Whether this server offers SSO ('off' when it does not), and the signed-in session if the
   * browser has one, with its first console token.
   */
  static async start(onEnded: (why: SsoEnd) => void): Promise<SsoSignIn | 'signed-out' | 'off'> {
    const res = await fetch('/auth/session', { credentials: 'same-origin' }).catch(() => null);
    if (!res || res.status === 404) return 'off';
    if (res.status !== 200) return 'signed-out';
    const body = (await res.json().catch(() => null)) as { sub?: unknown; name?: unknown; role?: unknown; roles?: unknown; expiresAt?: unknown; idleSeconds?: unknown; csrf?: unknown } | null;
    // The identity fields are those of GET /api/me; the session's own ride along.
    const me = StaffMeSchema.safeParse({ sub: body?.sub, name: body?.name, role: body?.role, roles: body?.roles, expiresAt: body?.expiresAt });
    if (!me.success || typeof body?.csrf !== 'string' || typeof body.idleSeconds !== 'number') return 'signed-out';
    const sso = new SsoSignIn(me.data, body.idleSeconds, body.csrf);
    sso.#onEnded = onEnded;
    return (await sso.#refresh(true)) ? sso : 'signed-out';
  }

  async #refresh(active: boolean): Promise<boolean> {
    clearTimeout(this.#timer);
    const res = await fetch('/auth/token', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-vitrine-csrf': this.#csrf },
      body: JSON.stringify({ active }),
    }).catch(() => null);
    if (res && (res.status === 401 || res.status === 403)) {
      this.#end(active ? 'ended' : 'idle');
      return false;
    }
    const body = res?.ok ? ((await res.json().catch(() => null)) as { token?: unknown; expiresAt?: unknown } | null) : null;
    if (typeof body?.token !== 'string' || typeof body.expiresAt !== 'string') {
      // The server is away for a moment: try again soon, with the token held until it expires.
      this.#timer = setTimeout(() => void this.#refresh(this.#take()), 5000);
      return this.current !== null;
    }
    this.current = body.token;
    const left = Date.parse(body.expiresAt) - Date.now();
    this.#timer = setTimeout(() => void this.#refresh(this.#take()), Math.max(1000, left * 0.6));
    return true;
  }

  #take(): boolean {
    const was = this.#active;
    this.#active = false;
    return was;
  }

  #end(why: SsoEnd): void {
    clearTimeout(this.#timer);
    if (this.current === null) return;
    this.current = null;
    this.#onEnded(why);
  }

  /** Ends the session here and, where the provider offers it, at the provider too (the browser goes there). */
  async logout(): Promise<void> {
    clearTimeout(this.#timer);
    this.current = null;
    const res = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-vitrine-csrf': this.#csrf } }).catch(() => null);
    const body = res?.ok ? ((await res.json().catch(() => null)) as { redirect?: unknown } | null) : null;
    location.assign(typeof body?.redirect === 'string' ? body.redirect : location.pathname);
  }
}

/** Puts "Sign in with your company account" at the top of the sign-in panel (SSO is on). */
export function offerSso(panel: HTMLElement, returnTo: '/agent' | '/replay'): void {
  if (document.getElementById('sso-signin')) return;
  const p = document.createElement('p');
  const a = document.createElement('a');
  a.id = 'sso-signin';
  a.className = 'button';
  a.href = `/auth/login?return=${encodeURIComponent(returnTo)}`;
  a.textContent = 'Sign in with your company account';
  p.append(a);
  const or = document.createElement('p');
  or.className = 'muted';
  or.textContent = 'Or, for an integration or a test, paste a token:';
  const heading = panel.querySelector('h1');
  if (heading) heading.after(p, or);
  else panel.prepend(p, or);
}
