/**
 * The customer's view (/s/<id>#<invite token>): consent first, then the live page with the
 * customer's controls: control, pause, navigation approval, address bar, history, end. Every
 * word the customer reads comes from words.ts or from messages the server words for them.
 */
import { CloseCodes } from '../../server/contract/errors.ts';
import type { NavigationProposal, SessionSnapshot } from '../../server/protocol.ts';
import { confirmAction } from './confirm.ts';
import { deliberate, RequestRegion } from './deliberate.ts';
import { $, announce, note, show } from './dom.ts';
import { SessionView } from './session-view.ts';
import { customerCloseText, customerEnded, customerError, customerNotice, listOf, siteName } from './words.ts';
import { currentLanguage, fillText, t, translatePage, wireLanguageSwitch } from './i18n.ts';
import { PresenceLayer, wireTools } from './presence.ts';
import { forgetReturn, keepReturn, returnToken } from './customer-return.ts';
import { setupPhone, type Phone } from './phone.ts';
import { setupFourEyes } from './four-eyes.ts';
import { handleFileMessage } from './file-handoff.ts';

const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
// #<invite>, or for a customer-started session #<invite>&join=<code>&until=<ms> (embed.ts).
const [hashToken = '', ...hashRest] = location.hash.replace(/^#/, '').split('&');
const fromHash = hashToken.replace(/^token=/, '');
const joinKey = `vitrine:join:${sessionId}`;
/** The join code to read to the agent until one joins (kept for a reload of this tab). */
const join = ((): { code: string; until: number } | null => {
  const p = new URLSearchParams(hashRest.join('&'));
  const code = p.get('join');
  if (code && /^\d{6}$/.test(code)) {
    const j = { code, until: Number(p.get('until')) || 0 };
    sessionStorage.setItem(joinKey, JSON.stringify(j));
    return j;
  }
  try {
    return JSON.parse(sessionStorage.getItem(joinKey) ?? 'null') as { code: string; until: number } | null;
  } catch {
    return null;
  }
})();
// The invite must not linger in the address bar, the history or a screenshot.
history.replaceState(null, '', location.pathname + location.search);
const storeKey = `vitrine:reconnect:${sessionId}`;
// After a reload (or a closed tab reopened within the grace window) the invite is spent; the
// single-use reconnect token from the last join, kept in this browser only, takes over.
const stored = returnToken(storeKey);
let token = stored || fromHash || '';
let returning = !!stored;
let retried = false;
let presence: PresenceLayer | undefined;
/** Phones and tablets: device emulation, touch, the soft keyboard, compact bars (phone.ts). */
let phone: Phone | null = null;
translatePage();
let proposal: NavigationProposal | null = null;
let verificationCode: string | null = null;
/** "our support team" until the server names the company (VITRINE_COMPANY_NAME). */
let company = '';

const controls = ['grant', 'revoke', 'pause', 'resume', 'back', 'forward', 'reload', 'go', 'address', 'end'].map((id) => $<HTMLButtonElement | HTMLInputElement>(id));
const prompts = ['consent', 'join-box', 'control-prompt', 'nav-prompt', 'pause', 'resume', 'grant', 'revoke', 'verify-box'];
const controlRegion = new RequestRegion($('control-prompt'));
const navRegion = new RequestRegion($('nav-prompt'));
/** Guarded actions held for the customer's confirmation (four-eyes.ts). */
const fourEyes = setupFourEyes((m) => view.send(m));

const view = new SessionView({
  showPolicy: false,
  words: {
    // A way back that no longer works is, to the customer, a link that expired.
    close: (c) =>
      returning && !c.joined && (c.code === CloseCodes.BAD_TOKEN || c.code === CloseCodes.NO_SUCH_SESSION)
        ? { text: t('This link has expired. Ask your agent for a new one.'), final: true }
        : customerCloseText(c),
    ended: customerEnded,
    notice: customerNotice,
    error: customerError,
    text: (key) => t(key),
  },
  onJoined(m) {
    company = m.company;
    $('company').textContent = company || t('Shared session');
    if (company) document.title = `Shared session · ${company}`;
    if (m.reconnectToken) {
      token = m.reconnectToken;
      returning = true;
      keepReturn(storeKey, m.reconnectToken);
    }
    verificationCode = m.verificationCode ?? null;
    $('verify-code').textContent = verificationCode ?? '';
    $('consent-code').textContent = verificationCode ?? '';
    phone?.joined();
  },
  onSnapshot(s) {
    proposal = s.pendingNavigation;
    render(s);
    presence?.update(s);
  },
  onMessage(m) {
    handleFileMessage(m);
    presence?.handle(m);
    phone?.message(m);
    fourEyes.message(m);
    const s = view.snapshot;
    if (m.type === 'control/requested' && s?.state === 'live') {
      const text = t('{name} asks to control the page: they could click and type in it for you.', { name: m.by.name });
      $('control-text').textContent = text;
      // Shown and announced; focus stays where the customer has it (see deliberate.ts).
      show($('control-prompt'), true);
      controlRegion.appeared();
      announce(t('control.announce', { text }));
      note(t('control.asked', { name: m.by.name }));
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
  onClosed(kind, _text, info) {
    presence?.reset();
    phone?.closed();
    fourEyes.closed();
    // Reloaded faster than the server saw the old tab go: once more, a moment later.
    if (info?.code === CloseCodes.CONFLICT && returning && !retried) {
      retried = true;
      setTimeout(() => $('reconnect').click(), 1000);
    }
    // Replaced (CloseCodes.REPLACED): the newer window holds this browser's way back; it must stay.
    if (kind === 'ended' || kind === 'refused') {
      forgetReturn(storeKey);
      sessionStorage.removeItem(joinKey);
    }
    if (kind === 'ended') {
      token = '';
      // The server answers with Clear-Site-Data: nothing of the session stays in this browser.
      void fetch('/session-ended', { method: 'POST' }).catch(() => undefined);
    }
    proposal = null;
    verificationCode = null;
    shownProposal = null;
    for (const c of controls) c.disabled = true;
    for (const id of prompts) show($(id), false);
    for (const id of ['consent-url', 'consent-site', 'nav-url', 'verify-code', 'consent-code']) $(id).textContent = '';
    $<HTMLInputElement>('address').value = '';
    const why = info?.refusal?.reason;
    $('banner').textContent = t(
      kind === 'replaced'
        ? 'replaced.banner'
        : kind === 'ended'
          ? 'Session ended'
          : why === 'invite_used'
            ? 'Link already used'
            : why === 'expired' || (returning && kind === 'refused')
              ? 'Link expired'
              : kind === 'refused'
                ? 'Could not join'
                : 'Connection lost',
    );
    document.body.classList.remove('control');
  },
});

function name(s: SessionSnapshot, id: string): string {
  return s.participants.find((p) => p.id === id)?.name ?? 'Your agent';
}

/** The elements the consent sentences are built around (kept, with their ids, across languages). */
const consentParts = {
  company: $('consent-company'),
  companyTitle: $('consent-company-title'),
  agents: $('consent-agents'),
  masked: $('consent-masked'),
};

/** The proposal id last shown, so that the same proposal is not re-armed on every snapshot. */
let shownProposal: string | null = null;

function renderConsent(s: SessionSnapshot, agents: string[]): void {
  const who = s.consent.agents.length ? s.consent.agents : agents;
  const team = company || t('our support team');
  // One sentence per language with placeholders, so that each orders its words its own way.
  consentParts.company.textContent = team;
  consentParts.companyTitle.textContent = team;
  consentParts.agents.textContent = listOf(who) || t('An agent');
  fillText($('consent-title'), 'consent.title', { company: consentParts.companyTitle });
  fillText($('consent-ask'), who.length > 1 ? 'consent.ask.many' : 'consent.ask.one', { agents: consentParts.agents, company: consentParts.company });
  $('consent-site').textContent = siteName(s.url);
  $('consent-url').textContent = s.url;
  consentParts.masked.textContent = s.consent.masked.length ? s.consent.masked.map((m) => t(m)).join(', ') : t('passwords, card numbers');
  fillText($('consent-hidden'), 'consent.hidden', { masked: consentParts.masked });
  $('consent-recorded').textContent = t(s.consent.recorded ? 'This session is recorded (already masked) for quality and compliance.' : 'This session is not recorded.');
  // The dialog itself takes focus (screen readers read it); Accept is one deliberate Tab away,
  // never pre-focused, so no key pressed while the page opens can accept.
  if (!$('consent').contains(document.activeElement)) $('consent-dialog').focus();
}

function renderJoin(j: { code: string; until: number }): void {
  $('join-code').textContent = `${j.code.slice(0, 3)} ${j.code.slice(3)}`;
  $('join-code').setAttribute('aria-label', j.code.split('').join(' '));
  const time = new Date(j.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  $('join-hint').textContent = t('Your agent types this code to join you. It works once, until {time}.', { time });
  if (!$('join-box').contains(document.activeElement)) $('join-dialog').focus();
}

function render(s: SessionSnapshot): void {
  const live = s.state === 'live';
  const agents = s.participants.filter((p) => p.role === 'agent').map((p) => p.name);
  // Customer-started: the code first; consent once an agent joined, so that it names them.
  const awaitingAgent = !!join && s.state === 'waiting' && !s.participants.some((p) => p.role !== 'customer');
  show($('join-box'), awaitingAgent);
  if (awaitingAgent && join) renderJoin(join);
  show($('consent'), s.state === 'waiting' && !awaitingAgent);
  if (s.state === 'waiting' && !awaitingAgent) renderConsent(s, agents);
  const staff = s.participants.filter((p) => p.role !== 'customer');
  const holder = s.control ? (s.participants.find((p) => p.id === s.control) ?? null) : null;
  const watching = staff.length ? listOf(staff.map((p) => (p.role === 'supervisor' ? t('supervisor.name', { name: p.name }) : p.name))) : t('nobody yet');
  $('banner').textContent = !live
    ? t('Waiting for your answer')
    : [s.paused ? t('Sharing paused') : t('Viewing: {who}', { who: watching }), holder ? t('{name} has control', { name: holder.name }) : t('Only you control the page')].join(' · ');
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
    $('nav-text').textContent = t('{name} proposes to open this page:', { name: name(s, proposal.by) });
    $('nav-url').textContent = proposal.url;
    if (shownProposal !== proposal.id) {
      shownProposal = proposal.id;
      navRegion.appeared();
      note(t('proposal.noted', { name: name(s, proposal.by), site: siteName(proposal.url) }));
      announce(t('proposal.announce', { name: name(s, proposal.by), site: siteName(proposal.url) }));
    }
  } else shownProposal = null;
  $('status').textContent = live && s.title ? t('Page: {title}', { title: s.title }) : '';
}

/**
 * What the consent screen says, sent with the answer for the audit trail and evidence packs
 * (server/audit/evidence.ts): the text as shown, except the address without query or fragment
 * (they may carry tokens) and no verification code.
 */
function shownConsent(): { shown?: { lang: string; text: string } } {
  const url = $('consent-url').textContent ?? '';
  const code = $('consent-code').textContent ?? '';
  let text = $('consent-dialog').innerText || $('consent-dialog').textContent || '';
  if (url) text = text.split(url).join(url.replace(/[?#].*$/, ''));
  if (code) text = text.split(code).join('······');
  text = text.replace(/\s+/g, ' ').trim().slice(0, 4000);
  return text ? { shown: { lang: currentLanguage(), text } } : {};
}

$('accept').addEventListener('click', () => view.send({ type: 'consent', accept: true, ...shownConsent() }));
$('decline').addEventListener('click', () => view.send({ type: 'consent', accept: false, ...shownConsent() }));
const grant = () => {
  show($('control-prompt'), false);
  view.send({ type: 'control/grant' });
};
deliberate($<HTMLButtonElement>('control-accept'), controlRegion, grant, (how) => note(how, 'error'));
// "Give control" in the bar answers a pending request too: the same rule holds for it.
deliberate($<HTMLButtonElement>('grant'), controlRegion, grant, (how) => note(how, 'error'));
$('control-refuse').addEventListener('click', () => {
  show($('control-prompt'), false);
  // The protocol has no refusal message; with nobody in control, a revoke clears the request
  // so the agent sees it was not granted. With someone in control it would take control away.
  if (view.snapshot && !view.snapshot.control) view.send({ type: 'control/revoke' });
  note(t('control.refused'));
});
$('revoke').addEventListener('click', () => view.send({ type: 'control/revoke' }));
$('pause').addEventListener('click', () => view.send({ type: 'pause' }));
$('resume').addEventListener('click', () => view.send({ type: 'resume' }));
deliberate(
  $<HTMLButtonElement>('nav-approve'),
  navRegion,
  () => {
    if (proposal) view.send({ type: 'navigate/approve', id: proposal.id });
  },
  (how) => note(how, 'error'),
);
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
$('end').addEventListener('click', async () => {
  const yes = await confirmAction({
    title: t('End the session?'),
    text: t('Your agent will stop seeing this page, and this link will stop working.'),
    confirm: t('End session'),
    cancel: t('Continue session'),
  });
  if (yes) view.send({ type: 'end' });
});

if (!sessionId || !token) {
  document.body.dataset.state = 'ended';
  view.viewer.showMessage(t('This link is incomplete. Ask your agent for a new one.'));
  $('banner').textContent = t('Link incomplete');
  $('status').textContent = t('This link is incomplete. Ask your agent for a new one.');
} else {
  view.connect(sessionId, () => token);
}

phone = setupPhone(view);

// Branding from the server's settings: logo (VITRINE_BRAND_LOGO_URL) and accent colour
// (VITRINE_BRAND_ACCENT, refused by the server unless white text on it reaches WCAG AA).
fetch('/api/info')
  .then((r) => r.json())
  .then((info: { logo?: string; accent?: string }) => {
    if (info.logo) {
      const img = $<HTMLImageElement>('brand-logo');
      img.src = info.logo;
      img.hidden = false;
    }
    if (info.accent && /^#[0-9a-f]{6}$/i.test(info.accent)) document.documentElement.style.setProperty('--accent', info.accent);
  })
  .catch(() => undefined);

presence = new PresenceLayer({
  send: (p) => view.send({ type: 'presence', presence: p }),
  ping: (at) => view.send({ type: 'ping', t: at }),
  snapshot: () => view.snapshot,
  you: () => view.you,
  maySend: () => view.snapshot?.state === 'live',
});
wireTools(presence);
wireLanguageSwitch($<HTMLSelectElement>('lang'), () => {
  if (view.snapshot) render(view.snapshot);
  presence?.renderPeople();
  fourEyes.render();
});
