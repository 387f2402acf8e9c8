/**
 * The customer's view (/s/<id>#<invite token>): consent first, then the live page with the
 * customer's controls: control, pause, navigation approval, address bar, history, end.
 */
import type { NavigationProposal, SessionSnapshot } from '../../server/protocol.ts';
import { $, note, show } from './dom.ts';
import { SessionView } from './session-view.ts';

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const fromHash = location.hash.replace(/^#/, '').replace(/^token=/, '');
// The invite must not linger in the address bar, the history or a screenshot.
history.replaceState(null, '', location.pathname + location.search);
const storeKey = `vitrine:reconnect:${sessionId}`;
// After a reload the invite is spent; the single-use reconnect token from the last join takes over.
let token = fromHash || sessionStorage.getItem(storeKey) || '';
let proposal: NavigationProposal | null = null;
let verificationCode: string | null = null;

const controls = ['grant', 'revoke', 'pause', 'resume', 'back', 'forward', 'reload', 'go', 'address', 'end'].map((id) => $<HTMLButtonElement | HTMLInputElement>(id));
const prompts = ['consent', 'control-prompt', 'nav-prompt', 'pause', 'resume', 'grant', 'revoke', 'verify-box'];

const view = new SessionView({
  onJoined(m) {
    $('company').textContent = m.company;
    if (m.reconnectToken) {
      token = m.reconnectToken;
      sessionStorage.setItem(storeKey, m.reconnectToken);
    }
    verificationCode = m.verificationCode ?? null;
    $('verify-code').textContent = verificationCode ?? '';
    $('consent-code').textContent = verificationCode ?? '';
  },
  onSnapshot(s) {
    proposal = s.pendingNavigation;
    render(s);
  },
  onMessage(m) {
    const s = view.snapshot;
    if (m.type === 'control/requested' && s?.state === 'live') {
      $('control-text').textContent = `${m.by.name} asks to control the page: they could click and type in it for you.`;
      show($('control-prompt'), true);
      $('control-accept').focus();
    }
    if (m.type === 'navigate/proposed' && s) {
      proposal = m.proposal;
      render(s);
    }
    if (m.type === 'navigate/answered') {
      proposal = null;
      show($('nav-prompt'), false);
    }
  },
  onClosed(kind) {
    if (kind === 'ended') {
      sessionStorage.removeItem(storeKey);
      token = '';
      // The server answers with Clear-Site-Data: nothing of the session stays in this browser.
      void fetch('/session-ended', { method: 'POST' }).catch(() => undefined);
    }
    proposal = null;
    verificationCode = null;
    for (const c of controls) c.disabled = true;
    for (const id of prompts) show($(id), false);
    for (const id of ['consent-url', 'nav-url', 'verify-code', 'consent-code']) $(id).textContent = '';
    $<HTMLInputElement>('address').value = '';
    $('banner').textContent = kind === 'ended' ? 'Session ended' : kind === 'refused' ? 'Could not join' : 'Connection lost';
    document.body.classList.remove('control');
  },
});

function name(s: SessionSnapshot, id: string): string {
  return s.participants.find((p) => p.id === id)?.name ?? 'Your agent';
}

function render(s: SessionSnapshot): void {
  const live = s.state === 'live';
  const agents = s.participants.filter((p) => p.role === 'agent').map((p) => p.name);
  show($('consent'), s.state === 'waiting');
  if (s.state === 'waiting') {
    $('consent-company').textContent = s.consent.company;
    $('consent-company-title').textContent = s.consent.company;
    $('consent-agents').textContent = (s.consent.agents.length ? s.consent.agents : agents).join(', ') || 'an agent';
    $('consent-url').textContent = s.url;
    $('consent-masked').textContent = s.consent.masked.length ? s.consent.masked.join(', ') : 'passwords, card numbers';
    $('consent-recorded').textContent = s.consent.recorded
      ? 'This session is recorded (already masked) for quality and compliance.'
      : 'This session is not recorded.';
    if (!$('consent').contains(document.activeElement)) $('accept').focus();
  }
  const staff = s.participants.filter((p) => p.role !== 'customer');
  const holder = s.control ? s.participants.find((p) => p.id === s.control) ?? null : null;
  const watching = staff.length ? staff.map((p) => (p.role === 'supervisor' ? `${p.name} (supervisor)` : p.name)).join(', ') : 'nobody yet';
  $('banner').textContent = !live
    ? 'Waiting for your answer'
    : [s.paused ? 'Sharing paused' : `Viewing: ${watching}`, holder ? `${holder.name} (agent) has control` : 'Only you control the page'].join(' · ');
  document.body.classList.toggle('control', !!holder);
  show($('verify-box'), live && !s.verified && !!verificationCode);
  show($('consent-verify'), !s.verified && !!verificationCode);

  for (const c of controls) c.disabled = !live;
  show($('grant'), live && !holder);
  $<HTMLButtonElement>('grant').disabled = !live || agents.length === 0;
  show($('revoke'), live && !!holder);
  show($('pause'), live && !s.paused);
  show($('resume'), live && s.paused);
  if (!live || s.controlRequests.length === 0) show($('control-prompt'), false);
  const address = $<HTMLInputElement>('address');
  if (document.activeElement !== address) address.value = live ? s.url : '';

  show($('nav-prompt'), live && !!proposal);
  if (live && proposal) {
    $('nav-text').textContent = `${name(s, proposal.by)} proposes to open this page:`;
    $('nav-url').textContent = proposal.url;
  }
  $('status').textContent = live && s.title ? `Page: ${s.title}` : '';
}

$('accept').addEventListener('click', () => view.send({ type: 'consent', accept: true }));
$('decline').addEventListener('click', () => view.send({ type: 'consent', accept: false }));
for (const id of ['grant', 'control-accept']) {
  $(id).addEventListener('click', () => {
    show($('control-prompt'), false);
    view.send({ type: 'control/grant' });
  });
}
$('control-refuse').addEventListener('click', () => {
  show($('control-prompt'), false);
  // The protocol has no refusal message; with nobody in control, a revoke clears the request
  // so the agent sees it was not granted. With someone in control it would take control away.
  if (view.snapshot && !view.snapshot.control) view.send({ type: 'control/revoke' });
  note('You refused control.');
});
$('revoke').addEventListener('click', () => view.send({ type: 'control/revoke' }));
$('pause').addEventListener('click', () => view.send({ type: 'pause' }));
$('resume').addEventListener('click', () => view.send({ type: 'resume' }));
$('nav-approve').addEventListener('click', () => {
  if (proposal) view.send({ type: 'navigate/approve', id: proposal.id });
});
$('nav-decline').addEventListener('click', () => {
  if (proposal) view.send({ type: 'navigate/decline', id: proposal.id });
});
$('address-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const address = $<HTMLInputElement>('address');
  const url = address.value.trim();
  if (!url) return;
  view.send({ type: 'navigate', url: /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}` });
  $('screen').focus();
});
for (const action of ['back', 'forward', 'reload'] as const) $(action).addEventListener('click', () => view.send({ type: 'history', action }));
$('end').addEventListener('click', () => view.send({ type: 'end' }));

if (!sessionId || !token) {
  document.body.dataset.state = 'ended';
  view.viewer.showMessage('This link is incomplete. Ask your agent for a new one.');
  $('banner').textContent = 'Link incomplete';
  $('status').textContent = 'This link is incomplete. Ask your agent for a new one.';
} else {
  view.connect(sessionId, () => token);
}
