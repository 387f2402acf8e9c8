/**
 * Four eyes (guarded actions of `mode: confirm`, server/session/guards.ts): an agent clicked an
 * action the policy guards; the server held the click and asks the customer here to confirm it
 * by name. Only a deliberate answer counts (deliberate.ts): a click after the panel has armed,
 * or a key on the Confirm button the customer moved to themselves. A stray key, focus that was
 * already somewhere, a click that was meant for the page: nothing is sent. Declining, the
 * server's timeout, or the page moving on drop the click.
 */
import type { ServerMessage } from '../../server/protocol.ts';
import { deliberate, RequestRegion } from './deliberate.ts';
import { announce, note, show } from './dom.ts';
import { t } from './i18n.ts';

export interface FourEyes {
  message(m: ServerMessage): void;
  /** The connection closed or the session ended: no question stays open. */
  closed(): void;
  /** The language changed: the open question is worded again. */
  render(): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string>, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

/** Builds the panel (after the page proposal panel) and answers `guard/*` messages. */
export function setupFourEyes(send: (m: { type: 'guard/confirm' | 'guard/decline'; id: string }) => void): FourEyes {
  const panel = el('section', { id: 'guard-prompt', class: 'prompt', 'aria-labelledby': 'guard-title', 'aria-describedby': 'guard-text guard-action guard-hint', 'data-testid': 'guard-prompt' });
  panel.hidden = true;
  const title = el('h2', { id: 'guard-title', class: 'prompt-title' });
  const text = el('p', { id: 'guard-text' });
  const action = el('p', { id: 'guard-action', class: 'url' });
  const hint = el('p', { id: 'guard-hint' });
  const decline = el('button', { id: 'guard-decline', type: 'button', class: 'secondary' });
  const confirm = el('button', { id: 'guard-confirm', type: 'button' });
  const actions = el('div', { class: 'actions' });
  actions.append(decline, confirm);
  panel.append(title, text, action, hint, actions);
  const anchor = document.getElementById('nav-prompt');
  if (anchor) anchor.after(panel);
  else document.body.prepend(panel);
  const region = new RequestRegion(panel);
  let pending: { id: string; action: string; by: string } | null = null;

  const render = () => {
    title.textContent = t('guard.title');
    decline.textContent = t('guard.decline');
    confirm.textContent = t('guard.confirm');
    hint.textContent = t('guard.hint');
    if (pending) {
      text.textContent = t('guard.ask', { name: pending.by });
      action.textContent = pending.action;
    }
  };
  const close = () => {
    pending = null;
    show(panel, false);
  };
  render();

  deliberate(
    confirm,
    region,
    () => {
      if (!pending) return;
      send({ type: 'guard/confirm', id: pending.id });
      note(t('guard.confirmed', { action: pending.action }));
      close();
    },
    (how) => note(how, 'error'),
  );
  decline.addEventListener('click', () => {
    if (!pending) return;
    send({ type: 'guard/decline', id: pending.id });
    note(t('guard.declined', { action: pending.action }));
    close();
  });

  return {
    message(m) {
      if (m.type === 'guard/pending') {
        pending = { id: m.id, action: m.action, by: m.by.name };
        render();
        // Shown and announced; focus stays where the customer has it (deliberate.ts).
        show(panel, true);
        region.appeared();
        announce(t('guard.announce', { name: m.by.name, action: m.action }));
        note(t('guard.asked', { name: m.by.name, action: m.action }));
      }
      if (m.type === 'guard/answered' && pending?.id === m.id) {
        if (m.outcome === 'expired') note(t('guard.expired', { action: pending.action }));
        close();
      }
    },
    closed: close,
    render,
  };
}
