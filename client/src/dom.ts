/** Tiny DOM helpers: elements by id (failing loudly when a page lacks one), notifications, announcements. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el as T;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** How many notifications the list keeps: enough to scroll back through a session. */
export const KEPT_NOTES = 30;

/**
 * Adds a notification at the top of the list (newest first), keeping the last KEPT_NOTES. The
 * list stays on screen, so a message is not lost when the next one arrives; it is a polite live
 * region, so screen readers hear each one as it comes.
 */
export function note(text: string, kind: 'info' | 'error' = 'info'): void {
  const log = document.getElementById('log');
  if (!log) return;
  const li = document.createElement('li');
  li.className = kind;
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  li.append(time, ' ', text);
  log.prepend(li);
  while (log.children.length > KEPT_NOTES) log.lastElementChild?.remove();
}

/**
 * Says something to assistive technology at once (an assertive live region), for what needs an
 * answer: a control request, a navigation proposal. Focus is never moved to say it.
 */
export function announce(text: string): void {
  const el = document.getElementById('announce');
  if (!el) return;
  // Cleared first so that the same words twice are announced twice.
  el.textContent = '';
  setTimeout(() => (el.textContent = text), 50);
}

export function setState(state: string): void {
  document.body.dataset.state = state;
}
