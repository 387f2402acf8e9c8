/**
 * /embed.js: the "Get help from an agent" button for the company's own site.
 *
 *   <script src="https://cobrowse.example.com/embed.js" async></script>
 *   (optional: data-label="…" for the button's text)
 *
 * It runs on a foreign page, so it keeps to itself: one IIFE (no globals), its DOM in a
 * shadow root (the page's CSS cannot reach it, it cannot reach the page's; open, since the page's
 * scripts share this realm anyway and a closed root would only hide it from assistive tooling
 * and tests), styles through a
 * constructed stylesheet and the CSSOM (no inline <style> or style attributes for a strict CSP to
 * refuse), no cookies (credentials: "omit"). The page's CSP needs connect-src for Vitrine.
 *
 * On a click it asks Vitrine for a session on this page (POST /api/customer-sessions; Vitrine
 * checks this origin and the page's address), then shows the join code to read to the agent and
 * a button that opens the consent view in a new window. The customer link holds the customer's
 * invite: it stays in this browser, between this page and that window, and reaches no agent.
 */
import type { CustomerSessionStarted } from '../../server/protocol.ts';
import { t } from './i18n.ts';

const CSS = `
:host { all: initial; }
.wrap { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; }
button { font: inherit; cursor: pointer; border-radius: 8px; border: 2px solid #1f5fd1; padding: 10px 16px; min-height: 44px; }
.help { background: #1f5fd1; color: #fff; font-weight: 600; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.help:focus-visible, button:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.panel { width: min(320px, calc(100vw - 32px)); box-sizing: border-box; background: #fff; border: 1px solid #c9d1db; border-radius: 12px; padding: 16px; box-shadow: 0 8px 28px rgba(0,0,0,.25); }
.panel[hidden], .help[hidden], p[hidden], button[hidden] { display: none; }
h2 { font-size: 17px; margin: 0 0 8px; }
p { margin: 0 0 12px; }
.code { font: 700 34px/1.2 ui-monospace, "SF Mono", Menlo, Consolas, monospace; letter-spacing: .12em; margin: 4px 0 12px; color: #0b3d91; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; }
.open { background: #1f5fd1; color: #fff; }
.close { background: #fff; color: #1f5fd1; }
.error { color: #a4161a; }
`;

(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  // Loaded twice, or not as a classic script: nothing to do (no second button).
  if (!script?.src || document.querySelector('[data-vitrine-embed]')) return;
  const base = new URL(script.src).origin;
  const label = script.dataset.label?.slice(0, 60) || t('Get help from an agent');

  const host = document.createElement('div');
  host.setAttribute('data-vitrine-embed', '');
  const root = host.attachShadow({ mode: 'open' });
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet !== 'undefined' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = CSS;
    root.append(style);
  }
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text = ''): HTMLElementTagNameMap[K] => {
    const e = document.createElement(tag);
    e.className = cls;
    e.textContent = text;
    return e;
  };
  const wrap = el('div', 'wrap');
  const help = el('button', 'help', label);
  help.type = 'button';
  const panel = el('section', 'panel');
  panel.hidden = true;
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', t('Your code for the agent'));
  const title = el('h2', '', t('Your code for the agent'));
  const code = el('p', 'code');
  code.setAttribute('aria-live', 'polite');
  const hint = el('p', '');
  const error = el('p', 'error');
  error.setAttribute('role', 'alert');
  error.hidden = true;
  const actions = el('div', 'actions');
  const open = el('button', 'open', t('Open the sharing window'));
  open.type = 'button';
  const close = el('button', 'close', t('Close'));
  close.type = 'button';
  actions.append(open, close);
  panel.append(title, code, hint, error, actions);
  wrap.append(help, panel);
  root.append(wrap);

  let started: CustomerSessionStarted | null = null;

  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = false;
    open.hidden = true;
  };

  help.addEventListener('click', async () => {
    panel.hidden = false;
    help.hidden = true;
    // The code shown a moment ago still works: show it again rather than start a second session.
    if (started && Date.parse(started.codeExpiresAt) > Date.now()) {
      open.focus();
      return;
    }
    help.disabled = true;
    error.hidden = true;
    title.textContent = t('Your code for the agent');
    code.textContent = '…';
    hint.textContent = t('Starting…');
    open.hidden = true;
    try {
      const res = await fetch(`${base}/api/customer-sessions`, {
        method: 'POST',
        mode: 'cors',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: location.href }),
      });
      if (res.status !== 201) {
        code.textContent = '';
        hint.textContent = '';
        showError(t('Help cannot start on this page right now. Please try again later.'));
        return;
      }
      started = (await res.json()) as CustomerSessionStarted;
      code.textContent = `${started.code.slice(0, 3)} ${started.code.slice(3)}`;
      code.setAttribute('aria-label', started.code.split('').join(' '));
      const until = new Date(started.codeExpiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      hint.textContent = t('Read this code to your agent. It works once, until {time}. Then open the sharing window: you decide there what they may see.', { time: until });
      open.hidden = false;
      open.focus();
    } catch {
      code.textContent = '';
      hint.textContent = '';
      showError(t('Help cannot start on this page right now. Please try again later.'));
    } finally {
      help.disabled = false;
    }
  });

  open.addEventListener('click', () => {
    // A new top-level window on Vitrine's origin; noopener: this page keeps no handle on it.
    if (started) window.open(started.customerUrl, '_blank', 'noopener');
  });

  close.addEventListener('click', () => {
    panel.hidden = true;
    help.hidden = false;
    help.focus();
  });

  const attach = () => document.body.append(host);
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach, { once: true });
})();
