/**
 * The agent console (/agent): sign in with a token from the identity provider (checked at once,
 * agent-signin.ts), start a session on a URL, hand the customer link over, then watch, ask for
 * control and propose pages.
 */
import type { RejoinToken } from '../../server/contract/rest.ts';
import type { JoinCodeClaimed, SessionSnapshot, StaffMe } from '../../server/protocol.ts';
import { checkToken, offerSso, showSignInError, showWhoami, SsoSignIn, ssoErrorFrom, type SsoEnd } from './agent-signin.ts';
import { setupGuardStatus } from './agent-guard.ts';
import { confirmAction } from './confirm.ts';
import { $, note, setState, show } from './dom.ts';
import { SessionView } from './session-view.ts';
import { PresenceLayer, wireTools } from './presence.ts';
import { forgetSession, refreshSessions, rememberEnded, rememberSession, storedSession, type Started } from './agent-sessions.ts';

const TOKEN_KEY = 'vitrine:agent-token';
const fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
/** `#session=<id>` (a CRM embed, sdk agentConsoleUrl): the session to open once signed in, once. */
let requestedSession = new URLSearchParams(location.hash.replace(/^#/, '')).get('session');
const ssoError = ssoErrorFrom(location.hash);
if (fromHash) sessionStorage.setItem(TOKEN_KEY, fromHash);
// The token must not stay in the address bar or the history.
if (location.hash) history.replaceState(null, '', location.pathname + location.search);

let session: Started | null = null;
let previous: SessionSnapshot | null = null;
// Assigned once the view exists; its hooks only run after that.
let presence: PresenceLayer | undefined;
/** Who the server says the token belongs to; null while signed out or being checked. */
let me: StaffMe | null = null;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

/** Single sign-on, when the browser has a session: its console tokens live in memory only. */
let sso: SsoSignIn | null = null;
const token = () => sso?.current ?? sessionStorage.getItem(TOKEN_KEY);
const button = (id: string) => $<HTMLButtonElement>(id);

const view = new SessionView({
  onSnapshot(s) {
    if (previous?.state !== s.state) void refreshSessions(token(), session?.id ?? null, rejoin);
    tellChanges(previous, s);
    previous = s;
    render(s);
    presence?.update(s);
    // The link has done its work once the customer opened it: it steps out of the page's way.
    document.body.classList.toggle('link-used', s.state !== 'waiting' || s.participants.some((p) => p.role === 'customer'));
  },
  onMessage(m) {
    presence?.handle(m);
    guardStatus.message(m);
    if (m.type === 'navigate/answered') note(`The customer ${m.approved ? 'approved' : 'declined'} ${m.url}`);
  },
  onClosed(kind, text) {
    previous = null;
    presence?.reset();
    guardStatus.reset();
    document.body.classList.remove('link-used');
    if (kind !== 'lost' && session) {
      rememberEnded(session.id, text);
      forgetSession();
    }
    void refreshSessions(token(), session?.id ?? null, rejoin);
    document.body.classList.remove('control', 'paused');
    for (const id of ['request-control', 'propose']) button(id).disabled = true;
    // After a lost connection End still works, over HTTP.
    button('end').disabled = kind !== 'lost';
    show($('verify-form'), false);
    show($('start-form'), true);
    show($('start-title'), true);
    button('start').disabled = false;
    if (kind !== 'lost') {
      session = null;
      show($('link-box'), false);
      $<HTMLInputElement>('customer-link').value = '';
      show($('session-bar'), false);
    }
    $('banner').textContent = kind === 'ended' ? 'Session ended' : kind === 'refused' ? 'Could not join the session' : 'Connection lost';
  },
});

const guardStatus = setupGuardStatus(() => view.you);

/** Says in the log what changed for this agent, since the banner only shows the present. */
function tellChanges(before: SessionSnapshot | null, s: SessionSnapshot): void {
  const me = view.you;
  if (before?.state === 'waiting' && s.state === 'live') note('The customer accepted; the session is live.');
  if (before && before.control !== me && s.control === me) note('The customer granted you control.');
  if (before?.control === me && s.control !== me) note('Control is back with the customer.');
  if (before?.controlRequests.includes(me) && !s.controlRequests.includes(me) && s.control !== me) note('The customer did not grant control.');
}

function render(s: SessionSnapshot): void {
  const me = view.you;
  const customer = s.participants.find((p) => p.role === 'customer');
  const banner =
    s.state === 'waiting'
      ? customer
        ? 'Waiting for the customer to accept (the consent screen is open)'
        : 'Waiting for the customer to accept (the link is not opened yet)'
      : !s.verified
        ? 'Confirm the code the customer reads out'
        : s.paused
          ? 'The customer paused sharing'
          : s.control === me
            ? 'You have control'
            : s.controlRequests.includes(me)
              ? 'Viewing · control requested, waiting for the customer'
              : 'Viewing · the customer has control';
  $('banner').textContent = banner;
  document.body.classList.toggle('control', s.control === me);
  document.body.classList.toggle('paused', s.state === 'live' && s.paused);
  show($('verify-form'), s.state === 'live' && !s.verified);
  const live = s.state === 'live' && s.verified;
  button('request-control').disabled = !live || s.control === me || s.controlRequests.includes(me);
  button('propose').disabled = !live;
  button('end').disabled = false;
  $('status').textContent = s.title ? `Page: ${s.title} — ${s.url}` : s.url;
}

function renderSignedIn(): void {
  const signedIn = !!token() && me !== null;
  setState(signedIn ? 'signed-in' : 'signed-out');
  show($('signin-panel'), !signedIn);
  show($('start-panel'), signedIn);
  show($('signout'), signedIn);
  showWhoami(signedIn ? me : null);
  $('banner').textContent = signedIn ? `Signed in as ${me!.name}` : 'Signed out';
  if (signedIn) $('url').focus();
  else $('token').focus();
}

/** Checks a token with the server; signs in with it only when the server accepts it. */
async function signIn(t: string): Promise<void> {
  const button = $<HTMLButtonElement>('signin');
  button.disabled = true;
  $('banner').textContent = 'Checking your token…';
  const checked = await checkToken(t);
  button.disabled = false;
  if (!checked.ok) {
    if (sso) sso = null;
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    showSignInError(checked.message);
    renderSignedIn();
    return;
  }
  if (!sso) sessionStorage.setItem(TOKEN_KEY, t);
  // A console token lives minutes and is renewed; the sign-in lasts as long as the SSO session.
  me = sso ? { ...checked.me, expiresAt: sso.me.expiresAt } : checked.me;
  showSignInError(null);
  $<HTMLTextAreaElement>('token').value = '';
  clearTimeout(expiryTimer);
  // A token past its expiry opens nothing any more: say so when it happens, not at the next click.
  const left = Date.parse(me.expiresAt) - Date.now();
  expiryTimer = setTimeout(onExpired, Math.min(Math.max(0, left), 2 ** 31 - 1));
  renderSignedIn();
  // A reload (or a new sign-in in this tab) goes back into the session that was open.
  const open = requestedSession ?? storedSession()?.id;
  requestedSession = null;
  if (open && !session) await rejoin(open);
  else void refreshSessions(t, session?.id ?? null, rejoin);
}

/**
 * Back into a session this agent started, with a fresh session token the server mints for the
 * agent's own sign-in (POST /api/sessions/:id/rejoin): after a reload, or from "My sessions".
 */
async function rejoin(id: string): Promise<void> {
  if (session?.id === id) return;
  const res = await fetch(`/api/sessions/${encodeURIComponent(id)}/rejoin`, { method: 'POST', headers: { authorization: `Bearer ${token() ?? ''}` } }).catch(() => null);
  if (!res || res.status !== 201) {
    const stored = storedSession();
    if (stored?.id === id && res && res.status !== 503) forgetSession();
    note(`Could not rejoin the session: ${res ? await errorText(res) : 'the server is unreachable'}`, 'error');
    void refreshSessions(token(), session?.id ?? null, rejoin);
    return;
  }
  const { agentToken } = (await res.json()) as RejoinToken;
  if (session) {
    view.disconnect();
    session = null;
  }
  const stored = storedSession();
  session = { id, agentToken, customerUrl: stored?.id === id ? stored.customerUrl : '', expiresAt: stored?.id === id ? stored.expiresAt : '' };
  rememberSession(session);
  $<HTMLInputElement>('customer-link').value = session.customerUrl;
  show($('link-box'), true);
  show($('link-row'), !!session.customerUrl);
  show($('start-form'), false);
  show($('start-title'), false);
  show($('session-bar'), true);
  button('end').disabled = false;
  note('Rejoined the session.');
  view.connect(id, () => agentToken);
  void refreshSessions(token(), id, rejoin);
}

function onExpired(): void {
  if (session) {
    note('Your sign-in has expired: you can finish this session, then sign in again with a new token.', 'error');
    return;
  }
  signOut();
  showSignInError('Your sign-in expired. Paste a new token to continue.');
}

function signOut(): void {
  clearTimeout(expiryTimer);
  // Single sign-on: the server ends the session, then the browser visits the provider's logout.
  if (sso) void sso.logout();
  sso = null;
  forgetSession();
  me = null;
  if (session) view.send({ type: 'end' });
  view.disconnect();
  session = null;
  previous = null;
  sessionStorage.removeItem(TOKEN_KEY);
  show($('link-box'), false);
  show($('session-bar'), false);
  show($('start-form'), true);
  show($('start-title'), true);
  button('start').disabled = false;
  $<HTMLInputElement>('customer-link').value = '';
  $('status').textContent = '';
  renderSignedIn();
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $<HTMLTextAreaElement>('token')
    .value.trim()
    .replace(/^Bearer\s+/i, '');
  if (!t) {
    showSignInError('Paste your token first.');
    return;
  }
  void signIn(t);
});
$('signout').addEventListener('click', async () => {
  if (session && !(await confirmAction({ title: 'Sign out and end the session?', text: 'Signing out ends the session for the customer too.', confirm: 'Sign out and end', cancel: 'Stay signed in' })))
    return;
  signOut();
});

async function errorText(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  const what = body?.error ? `${body.error.message ?? ''} (${body.error.code ?? res.status})` : `HTTP ${res.status}`;
  const retry = res.headers.get('retry-after');
  return res.status === 503 && retry ? `${what}. Try again in ${retry} s.` : what;
}

$('start-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const url = $<HTMLInputElement>('url').value.trim();
  const start = button('start');
  start.disabled = true;
  try {
    const res = await fetch('/api/sessions', {
      method: 'POST',
      headers: { authorization: `Bearer ${token() ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    });
    if (res.status !== 201) {
      note(`Could not start the session: ${await errorText(res)}`, 'error');
      start.disabled = false;
      if (res.status === 401) signOut();
      return;
    }
    session = (await res.json()) as Started;
    $<HTMLInputElement>('customer-link').value = session.customerUrl;
    show($('link-box'), true);
    show($('link-row'), true);
    show($('start-form'), false);
    show($('start-title'), false);
    show($('session-bar'), true);
    button('end').disabled = false;
    note(`Session started; the link expires at ${new Date(session.expiresAt).toLocaleTimeString()}.`);
    const agentToken = session.agentToken;
    rememberSession(session);
    view.connect(session.id, () => agentToken);
    void refreshSessions(token(), session.id, rejoin);
  } catch {
    note('Could not reach the server.', 'error');
    start.disabled = false;
  }
});

/**
 * Customer-started sessions: the code the customer reads out gives this agent its own token for
 * their session (POST /api/join-codes/claim); the customer's link never comes here.
 */
$('join-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('join-code');
  const code = input.value.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) {
    note('Type the six digits the customer reads out.', 'error');
    return;
  }
  const join = button('join');
  join.disabled = true;
  try {
    const res = await fetch('/api/join-codes/claim', {
      method: 'POST',
      headers: { authorization: `Bearer ${token() ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    if (res.status !== 201) {
      note(`Could not join with this code: ${await errorText(res)}`, 'error');
      if (res.status === 401) signOut();
      return;
    }
    const claimed = (await res.json()) as JoinCodeClaimed;
    input.value = '';
    session = { id: claimed.id, agentToken: claimed.agentToken, customerUrl: '', expiresAt: claimed.expiresAt };
    rememberSession(session);
    show($('link-box'), true);
    show($('link-row'), false);
    show($('start-form'), false);
    show($('start-title'), false);
    show($('session-bar'), true);
    button('end').disabled = false;
    note("Joined the customer's session: they now see your name and decide whether to share.");
    view.connect(claimed.id, () => claimed.agentToken);
    void refreshSessions(token(), claimed.id, rejoin);
  } catch {
    note('Could not reach the server.', 'error');
  } finally {
    join.disabled = false;
  }
});

$('copy').addEventListener('click', async () => {
  const input = $<HTMLInputElement>('customer-link');
  try {
    await navigator.clipboard.writeText(input.value);
    note('Customer link copied.');
  } catch {
    // Clipboard access needs a secure context and permission; a selection is the fallback.
    input.focus();
    input.select();
    note('The link is selected: copy it with Ctrl+C (⌘C).');
  }
});
$('verify-form').addEventListener('submit', (e) => {
  e.preventDefault();
  view.send({ type: 'verify', code: $<HTMLInputElement>('verify-code').value.trim() });
  $<HTMLInputElement>('verify-code').value = '';
});
$('request-control').addEventListener('click', () => {
  view.send({ type: 'control/request' });
  note('Control requested; waiting for the customer.');
});
$('propose-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('propose-url');
  const raw = input.value.trim();
  if (!raw) return;
  // A bare host gets https:// (the only scheme a customer's site should use), and the agent is
  // told so in as many words rather than finding out from a failed page.
  const bare = !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
  const url = bare ? `https://${raw}` : raw;
  view.send({ type: 'navigate/propose', url });
  input.value = '';
  note(bare ? `No scheme given: proposed ${url} (type http:// yourself for a plain-http site); waiting for the customer.` : `Proposed ${url}; waiting for the customer.`);
});
$('end').addEventListener('click', async () => {
  if (!session) return;
  const yes = await confirmAction({
    title: 'End the session for everyone?',
    text: previous?.state === 'live' ? 'The customer stops sharing their page, and their link stops working.' : 'The customer link stops working.',
    confirm: 'End session',
    cancel: 'Continue session',
  });
  if (!yes || !session) return;
  const { id } = session;
  view.send({ type: 'end' });
  // Over HTTP as well, in case the socket is down: the session must not outlive the agent's intent.
  if (!previous) {
    const res = await fetch(`/api/sessions/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token() ?? ''}` } }).catch(() => null);
    if (res && (res.status === 204 || res.status === 404)) {
      view.disconnect('Session ended');
      rememberEnded(id, 'Session ended: you ended it.');
      forgetSession();
      session = null;
      show($('link-box'), false);
      show($('session-bar'), false);
      setState('ended');
      $('banner').textContent = 'Session ended';
      $('status').textContent = 'Session ended: you ended it.';
    } else note(`Could not end the session: ${res ? await errorText(res) : 'the server is unreachable'}`, 'error');
  }
});

fetch('/api/info')
  .then((r) => r.json())
  .then((info: { demoUrl: string | null; company?: string }) => {
    const url = $<HTMLInputElement>('url');
    if (info.demoUrl && !url.value) url.value = info.demoUrl;
    if (info.company) document.title = `Agent console · ${info.company}`;
  })
  .catch(() => undefined);
presence = new PresenceLayer({
  send: (p) => view.send({ type: 'presence', presence: p }),
  ping: (t) => view.send({ type: 'ping', t }),
  snapshot: () => view.snapshot,
  you: () => view.you,
  maySend: () => {
    const s = view.snapshot;
    return !!s && s.state === 'live' && s.verified && !s.paused;
  },
});
wireTools(presence);
// Shortcuts of the console (listed under "Keyboard shortcuts"); keys typed into the page are the page's.
document.addEventListener('keydown', (e) => {
  if (!e.altKey || e.ctrlKey || e.metaKey || document.activeElement?.id === 'screen') return;
  const target = { KeyR: 'request-control', KeyL: 'copy' }[e.code];
  if (target && !button(target).disabled && !button(target).closest('[hidden]')) {
    e.preventDefault();
    button(target).click();
  } else if (e.code === 'KeyP' && !$('session-bar').hidden) {
    e.preventDefault();
    $('propose-url').focus();
  }
});
setInterval(() => {
  if (me) void refreshSessions(token(), session?.id ?? null, rejoin);
}, 15_000);

/** The SSO session ended by itself (idle, or signed out in another tab): like an expired token. */
function onSsoEnded(why: SsoEnd): void {
  sso = null;
  const text = why === 'idle' ? 'You were signed out after a while without activity.' : 'Your sign-in has ended.';
  if (session) {
    note(`${text} You can finish this session, then sign in again.`, 'error');
    return;
  }
  signOut();
  showSignInError(`${text} Sign in again to continue.`);
}

const stored = token();
if (stored) void signIn(stored);
else
  void SsoSignIn.start(onSsoEnded).then((started) => {
    if (started !== 'off') offerSso($('signin-panel'), '/agent');
    if (typeof started === 'object') {
      sso = started;
      void signIn(started.current!);
      return;
    }
    renderSignedIn();
    if (ssoError) showSignInError(ssoError);
  });
