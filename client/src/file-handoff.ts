/**
 * The customer's side of document handoff (server/files/handoff.ts): when the shared page asks
 * for a file, a picker on the customer's own device; the chosen file is sent straight to the
 * server over HTTP with the chooser's one-time ticket (never through the WebSocket, never to
 * staff), and the server scans it before the page gets it. Downloads the page started arrive
 * here alone, as a one-time link, and so does text the customer copied in the page.
 */
import type { ClipboardMessage, FileChooserMessage, FileDownloadMessage, ServerMessage } from '../../server/protocol.ts';
import { announce, note } from './dom.ts';
import { t } from './i18n.ts';

let panel: HTMLElement | null = null;

function box(): HTMLElement {
  if (panel) return panel;
  panel = document.createElement('section');
  panel.id = 'file-handoff';
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-live', 'polite');
  Object.assign(panel.style, {
    position: 'fixed',
    right: '1rem',
    bottom: '1rem',
    zIndex: '50',
    maxWidth: '22rem',
    padding: '1rem',
    background: '#fff',
    color: '#111',
    border: '1px solid #888',
    borderRadius: '8px',
    boxShadow: '0 4px 16px rgba(0,0,0,.25)',
  });
  panel.hidden = true;
  document.body.append(panel);
  return panel;
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  // Buttons side by side must not touch: each is its own target, on a phone too.
  b.style.margin = '0.25rem 0.5rem 0.25rem 0';
  b.addEventListener('click', onClick);
  return b;
}

function close(): void {
  if (!panel) return;
  panel.hidden = true;
  panel.replaceChildren();
}

function chooser(m: FileChooserMessage): void {
  if (m.closed) return close();
  const p = box();
  p.replaceChildren();
  const text = document.createElement('p');
  text.textContent = t('notice.FILE_REQUESTED');
  const input = document.createElement('input');
  input.type = 'file';
  input.id = 'file-handoff-input';
  if (m.accept.length) input.accept = m.accept.join(',');
  input.setAttribute('aria-label', t('file.choose'));
  const cancel = button(t('file.cancel'), close);
  const status = document.createElement('p');
  status.setAttribute('role', 'status');
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > m.maxBytes) {
      status.textContent = t('notice.FILE_REFUSED');
      return;
    }
    status.textContent = t('file.sending');
    input.disabled = true;
    try {
      const r = await fetch(m.upload, {
        method: 'POST',
        headers: { authorization: `Bearer ${m.ticket}`, 'content-type': file.type || 'application/octet-stream', 'x-file-name': encodeURIComponent(file.name) },
        body: file,
      });
      if (r.ok) {
        close();
        announce(t('notice.FILE_ATTACHED'));
        return;
      }
      // The coded refusal also arrives as a FILE_REFUSED notice with its reason.
      status.textContent = t('notice.FILE_REFUSED');
    } catch {
      status.textContent = t('notice.FILE_REFUSED');
    }
    input.disabled = false;
    input.value = '';
  });
  p.append(text, input, cancel, status);
  p.hidden = false;
  input.focus();
}

function download(m: FileDownloadMessage): void {
  const p = box();
  p.replaceChildren();
  const text = document.createElement('p');
  text.textContent = t('notice.DOWNLOAD_OFFERED');
  const a = document.createElement('a');
  a.href = m.url;
  a.download = m.name;
  a.rel = 'noopener';
  a.textContent = t('file.download', { name: m.name });
  a.style.marginRight = '0.75rem';
  // The link works once: after the click it is gone.
  a.addEventListener('click', () => setTimeout(close, 500));
  const cancel = button(t('file.cancel'), close);
  p.append(text, a, cancel);
  p.hidden = false;
  note(t('notice.DOWNLOAD_OFFERED'));
}

/** Writes to the device's clipboard; false when the browser refuses (no recent gesture, no permission). */
async function write(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // The older way, inside a click of the customer's: a selected off-screen field, copied.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    Object.assign(area.style, { position: 'fixed', left: '-9999px', top: '0' });
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/**
 * Text the customer copied in the page (server/session/clipboard.ts): straight onto the device's
 * clipboard while the key press that copied it still counts as a gesture; otherwise one click
 * of the customer's puts it there. The text itself is never shown, logged or kept.
 */
async function copied(m: ClipboardMessage): Promise<void> {
  if (await write(m.text)) {
    note(t('clipboard.copied'));
    return;
  }
  const p = box();
  p.replaceChildren();
  const text = document.createElement('p');
  text.textContent = t('clipboard.offer');
  const copy = button(t('clipboard.copy'), async () => {
    close();
    const ok = await write(m.text);
    note(t(ok ? 'clipboard.copied' : 'clipboard.failed'), ok ? 'info' : 'error');
  });
  copy.id = 'clipboard-copy';
  const cancel = button(t('file.cancel'), close);
  p.append(text, copy, cancel);
  p.hidden = false;
}

/** Handles the handoff messages (customer view only); everything else is ignored. */
export function handleFileMessage(m: ServerMessage): void {
  if (m.type === 'file/chooser') chooser(m);
  else if (m.type === 'file/download') download(m);
  else if (m.type === 'clipboard') void copied(m);
  else if (m.type === 'ended') close();
}
