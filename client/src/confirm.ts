/**
 * An accessible confirmation (the page's <dialog id="confirm">), for actions that cannot be
 * undone such as ending a session. A native modal dialog: focus moves into it and is kept there,
 * Escape cancels, the rest of the page is inert meanwhile. Focus starts on the safe answer, so a
 * stray Enter keeps the session; focus goes back where it was afterwards. window.confirm() is
 * not used: it cannot be styled or worded, blocks the page's connection handling, and some
 * browsers suppress it.
 */
import { $ } from './dom.ts';

export interface ConfirmText {
  title: string;
  text: string;
  confirm: string;
  cancel: string;
}

let open: Promise<boolean> | null = null;

export function confirmAction(t: ConfirmText): Promise<boolean> {
  // A second request while one is open (a double click) gets the same answer.
  if (open) return open;
  const dialog = $<HTMLDialogElement>('confirm');
  const ok = $<HTMLButtonElement>('confirm-ok');
  const cancel = $<HTMLButtonElement>('confirm-cancel');
  $('confirm-title').textContent = t.title;
  $('confirm-text').textContent = t.text;
  ok.textContent = t.confirm;
  cancel.textContent = t.cancel;
  const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  open = new Promise<boolean>((resolve) => {
    const done = (answer: boolean) => {
      ok.removeEventListener('click', yes);
      cancel.removeEventListener('click', no);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      open = null;
      if (before?.isConnected && !before.hidden) before.focus();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = () => done(false);
    const onCancel = (e: Event) => {
      e.preventDefault();
      done(false);
    };
    ok.addEventListener('click', yes);
    cancel.addEventListener('click', no);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    cancel.focus();
  });
  return open;
}

/** Closes an open confirmation without an answer (the session ended meanwhile). */
export function dismissConfirm(): void {
  const dialog = document.getElementById('confirm') as HTMLDialogElement | null;
  if (dialog?.open) $('confirm-cancel').click();
}
