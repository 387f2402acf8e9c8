/**
 * The customer's view (/s/<id>#<invite token>): consent first, then the live page with the
 * customer's controls: control, pause, navigation approval, address bar, history, end.
 */
import type { SessionSnapshot } from '../../server/protocol.ts';
import { $, note, show } from './dom.ts';
import { SessionView } from './session-view.ts';

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const fromHash = location.hash.replace(/^#/, '').replace(/^token=/, '');
// The invite must not linger in the address bar, the history or a screenshot.
history.replaceState(null, '', location.pathname);
const storeKey = `vitrine:reconnect:${sessionId}`;
let token = fromHash || sessionStorage.getItem(storeKey) || '';

const buttons = ['grant', 'revoke', 'pause', 'resume', 'back', 'forward', 'reload', 'go', 'address', 'end'].map((id) => $<HTMLButtonElement>(id));

const view = new SessionView({
  onJoined(m) {
    $('company').textContent = m.company;
    if (m.reconnectToken) {
      token = m.reconnectToken;
      sessionStorage.setItem(storeKey, m.reconnectToken);
    }
    show($('verify-box'), !!m.verificationCode);
    if (m.verificationCode) $('verify-code').textContent = m.verificationCode;
  },
  onSnapshot: render,
  onMessage(m) {
    if (m.type === 'control/requested') {
      $('control-text').textContent = `${m.by.name} asks to control the page (click and type for you).`;
      show($('control-prompt'), true);
    }
    if (m.type === 'navigate/answered') show($('nav-prompt'), false);
  },
  onEnded() {
    sessionStorage.removeItem(storeKey);
    void fetch('/session-ended', { method: 'POST' }).catch(() => undefined);
    for (const b of buttons) b.disabled = true;
    for (const id of ['consent', 'control-prompt', 'nav-prompt', 'pause', 'resume', 'grant', 'revoke']) show($(id), false);
    $('banner').textContent = 'Session ended';
  },
});

function render(s: SessionSnapshot): void {
  const live = s.state === 'live';
  show($('consent'), s.state === 'waiting');
  if (s.state === 'waiting') {
    $('consent-company').textContent = s.consent.company;
    $('consent-agents').textContent = s.consent.agents.join(', ') || 'an agent';
    $('consent-url').textContent = s.url;
    $('consent-masked').textContent = s.consent.masked.length ? s.consent.masked.join(', ') : 'passwords and payment card details';
    $('consent-recorded').textContent = s.consent.recorded ? 'This session is recorded (already masked) for quality and compliance.' : 'This session is not recorded.';
    $('accept').focus();
  }
  const staff = s.participants.filter((p) => p.role !== 'customer');
  const holder = s.participants.find((p) => p.id === s.control);
  const watching = staff.length ? staff.map((p) => (p.role === 'supervisor' ? `${p.name} (supervisor)` : p.name)).join(', ') : 'nobody yet';
  $('banner').textContent = !live
    ? 'Waiting for your answer'
    : `${s.paused ? 'Sharing paused' : `Watching: ${watching}`} · ${holder ? `${holder.name} has control` : 'Only you control the page'}`;
  document.body.classList.toggle('control', !!holder);
  show($('grant'), live && !holder && s.controlRequests.length > 0);
  show($('revoke'), live && !!holder);
  show($('pause'), live && !s.paused);
  show($('resume'), live && s.paused);
  if (!s.controlRequests.length || holder) show($('control-prompt'), false);
  for (const b of buttons) b.disabled = !live;
  $<HTMLButtonElement>('end').disabled = s.state === 'ended';
  const address = $<HTMLInputElement>('address');
  if (document.activeElement !== address) address.value = s.url;
  const p = s.pendingNavigation;
  show($('nav-prompt'), live && !!p);
  if (p) $('nav-url').textContent = p.url;
  $('status').textContent = s.title ? `Page: ${s.title}` : '';
}

$('accept').addEventListener('click', () => view.send({ type: 'consent', accept: true }));
$('decline').addEventListener('click', () => view.send({ type: 'consent', accept: false }));
for (const id of ['grant', 'control-accept']) $(id).addEventListener('click', () => view.send({ type: 'control/grant' }));
$('control-refuse').addEventListener('click', () => {
  show($('control-prompt'), false);
  note('You refused control.');
});
$('revoke').addEventListener('click', () => view.send({ type: 'control/revoke' }));
$('pause').addEventListener('click', () => view.send({ type: 'pause' }));
$('resume').addEventListener('click', () => view.send({ type: 'resume' }));
$('nav-approve').addEventListener('click', () => {
  const p = view.snapshot?.pendingNavigation;
  if (p) view.send({ type: 'navigate/approve', id: p.id });
});
$('nav-decline').addEventListener('click', () => {
  const p = view.snapshot?.pendingNavigation;
  if (p) view.send({ type: 'navigate/decline', id: p.id });
});
$('address-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $<HTMLInputElement>('address').value.trim();
  if (url) view.send({ type: 'navigate', url: /^https?:\/\//i.test(url) ? url : `https://${url}` });
});
for (const action of ['back', 'forward', 'reload'] as const) $(action).addEventListener('click', () => view.send({ type: 'history', action }));
$('end').addEventListener('click', () => view.send({ type: 'end' }));

if (!sessionId || !token) view.viewer.showMessage('This link is incomplete. Ask your agent for a new one.');
else view.connect(sessionId, token);
