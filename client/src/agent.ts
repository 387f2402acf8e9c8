/**
 * The agent console (/agent): sign in with a token from the identity provider, start a session
 * on a URL, hand the customer link over, then watch, ask for control and propose pages.
 */
import type { SessionSnapshot } from '../../server/protocol.ts';
import { $, note, setState, show } from './dom.ts';
import { SessionView } from './session-view.ts';

const TOKEN_KEY = 'vitrine:agent-token';
const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
if (hash.get('token')) sessionStorage.setItem(TOKEN_KEY, hash.get('token')!);
// The token must not stay in the address bar or the history.
if (location.hash) history.replaceState(null, '', location.pathname);

let sessionId: string | null = null;

const view = new SessionView({
  onSnapshot: render,
  onEnded() {
    sessionId = null;
    show($('session-bar'), false);
    show($('verify-form'), false);
    show($('start-form'), true);
    show($('link-box'), false);
    $<HTMLButtonElement>('start').disabled = false;
    $('banner').textContent = 'Session ended';
  },
});

function render(s: SessionSnapshot): void {
  const me = view.you;
  const customer = s.participants.find((p) => p.role === 'customer');
  const state =
    s.state === 'waiting'
      ? customer ? 'The customer is reading the consent screen…' : 'Waiting for the customer to open the link…'
      : s.paused ? 'The customer paused sharing' : s.control === me ? 'You have control' : 'Viewing (the customer has control)';
  $('banner').textContent = state;
  document.body.classList.toggle('control', s.control === me);
  show($('verify-form'), !s.verified);
  const live = s.state === 'live' && s.verified;
  $<HTMLButtonElement>('request-control').disabled = !live || s.control === me || s.controlRequests.includes(me);
  $<HTMLButtonElement>('propose').disabled = !live;
  $('status').textContent = s.title ? `Page: ${s.title} — ${s.url}` : s.url;
  if (s.state === 'waiting') view.viewer.showMessage(state);
}

function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

function renderSignedIn(): void {
  const signedIn = !!token();
  setState(signedIn ? 'signed-in' : 'signed-out');
  show($('signin-panel'), !signedIn);
  show($('start-panel'), signedIn);
  show($('signout'), signedIn);
  $('banner').textContent = signedIn ? 'Signed in' : 'Signed out';
}

$('signin').addEventListener('click', () => {
  const t = $<HTMLTextAreaElement>('token').value.trim();
  if (!t) return;
  sessionStorage.setItem(TOKEN_KEY, t);
  $<HTMLTextAreaElement>('token').value = '';
  renderSignedIn();
});
$('signout').addEventListener('click', () => {
  if (sessionId) view.send({ type: 'end' });
  sessionStorage.removeItem(TOKEN_KEY);
  renderSignedIn();
});

$('start-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const url = $<HTMLInputElement>('url').value.trim();
  const start = $<HTMLButtonElement>('start');
  start.disabled = true;
  try {
    const res = await fetch('/api/sessions', {
      method: 'POST',
      headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    });
    const body = await res.json();
    if (!res.ok) {
      note(`Could not start: ${body.error?.message ?? res.status}`);
      if (res.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        renderSignedIn();
      }
      start.disabled = false;
      return;
    }
    sessionId = body.id;
    $<HTMLInputElement>('customer-link').value = body.customerUrl;
    show($('link-box'), true);
    show($('start-form'), false);
    show($('session-bar'), true);
    view.connect(body.id, body.agentToken);
  } catch {
    note('Could not reach the server.');
    start.disabled = false;
  }
});

$('copy').addEventListener('click', async () => {
  const input = $<HTMLInputElement>('customer-link');
  try {
    await navigator.clipboard.writeText(input.value);
    note('Customer link copied.');
  } catch {
    input.select();
    note('Select the link and copy it.');
  }
});
$('verify-form').addEventListener('submit', (e) => {
  e.preventDefault();
  view.send({ type: 'verify', code: $<HTMLInputElement>('verify-code').value.trim() });
});
$('request-control').addEventListener('click', () => {
  view.send({ type: 'control/request' });
  note('Control requested; waiting for the customer.');
});
$('propose-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $<HTMLInputElement>('propose-url').value.trim();
  if (!url) return;
  view.send({ type: 'navigate/propose', url });
  note(`Proposed ${url}; waiting for the customer.`);
});
$('end').addEventListener('click', () => view.send({ type: 'end' }));

fetch('/api/info')
  .then((r) => r.json())
  .then((info: { demoUrl: string | null }) => {
    const url = $<HTMLInputElement>('url');
    if (info.demoUrl && !url.value) url.value = info.demoUrl;
  })
  .catch(() => undefined);
renderSignedIn();
