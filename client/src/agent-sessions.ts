/**
 * The console's memory of sessions: the one open in this tab (sessionStorage, so that a reload
 * rejoins it), the ones that ended lately, and "My sessions" from GET /api/sessions (the server
 * lists an agent's own sessions only), each with a Rejoin button.
 */
import type { SessionList } from '../../server/contract/rest.ts';
import { $, show } from './dom.ts';

export interface Started {
  id: string;
  customerUrl: string;
  agentToken: string;
  expiresAt: string;
}

const OPEN_KEY = 'vitrine:agent-session';
const ENDED_KEY = 'vitrine:agent-ended';
const KEPT_ENDED = 5;

interface Ended {
  id: string;
  at: string;
  text: string;
}

/** What is kept of the open session: never the agent token (a rejoin mints a new one). */
export function rememberSession(s: Started): void {
  sessionStorage.setItem(OPEN_KEY, JSON.stringify({ id: s.id, customerUrl: s.customerUrl, expiresAt: s.expiresAt }));
}

export function storedSession(): { id: string; customerUrl: string; expiresAt: string } | null {
  try {
    const v = JSON.parse(sessionStorage.getItem(OPEN_KEY) ?? 'null') as { id?: unknown; customerUrl?: unknown; expiresAt?: unknown } | null;
    return v && typeof v.id === 'string' ? { id: v.id, customerUrl: String(v.customerUrl ?? ''), expiresAt: String(v.expiresAt ?? '') } : null;
  } catch {
    return null;
  }
}

export function forgetSession(): void {
  sessionStorage.removeItem(OPEN_KEY);
}

function ended(): Ended[] {
  try {
    const v = JSON.parse(sessionStorage.getItem(ENDED_KEY) ?? '[]') as Ended[];
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export function rememberEnded(id: string, text: string): void {
  const list = [{ id, at: new Date().toISOString(), text }, ...ended().filter((e) => e.id !== id)].slice(0, KEPT_ENDED);
  sessionStorage.setItem(ENDED_KEY, JSON.stringify(list));
}

const STATE_TEXT: Record<string, string> = { waiting: 'waiting for the customer', live: 'live', ended: 'ended' };

/** Fetches and shows "My sessions": waiting and live ones from the server, recently ended ones from this tab. */
export async function refreshSessions(token: string | null, current: string | null, rejoin: (id: string) => void): Promise<void> {
  const box = $('my-sessions-box');
  if (!token) {
    show(box, false);
    return;
  }
  let listed: SessionList['sessions'] = [];
  try {
    const res = await fetch('/api/sessions', { headers: { authorization: `Bearer ${token}` } });
    if (res.ok) listed = ((await res.json()) as SessionList).sessions;
  } catch {
    // the list stays as it was shown last; the next refresh tries again
  }
  const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const items: HTMLLIElement[] = [];
  for (const s of listed) {
    const li = document.createElement('li');
    li.dataset.session = s.id;
    const label = document.createElement('span');
    const customer = s.participants.some((p) => p.role === 'customer');
    label.textContent = `${time(s.createdAt)} · ${STATE_TEXT[s.state] ?? s.state}${s.state === 'live' && !customer ? ' (customer away)' : ''}`;
    li.append(label);
    if (s.id === current) {
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = 'this one';
      li.append(' ', tag);
    } else {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary';
      b.textContent = 'Rejoin';
      b.setAttribute('aria-label', `Rejoin the session started at ${time(s.createdAt)}`);
      b.addEventListener('click', () => rejoin(s.id));
      li.append(' ', b);
    }
    items.push(li);
  }
  const live = new Set(listed.map((s) => s.id));
  for (const e of ended()) {
    if (live.has(e.id)) continue;
    const li = document.createElement('li');
    li.dataset.session = e.id;
    li.className = 'muted';
    li.textContent = `${time(e.at)} · ${e.text}`;
    items.push(li);
  }
  $('my-sessions').replaceChildren(...items);
  show(box, items.length > 0);
}
