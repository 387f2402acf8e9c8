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
