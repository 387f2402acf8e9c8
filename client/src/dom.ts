/** Tiny DOM helpers: elements by id (failing loudly when a page lacks one) and the event log. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el as T;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** Adds a line to the log (the page shows the newest; the list keeps 50 for screen readers). */
export function note(text: string, kind: 'info' | 'error' = 'info'): void {
  const log = document.getElementById('log');
  if (!log) return;
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  log.append(li);
  while (log.children.length > 50) log.firstElementChild?.remove();
}

export function setState(state: string): void {
  document.body.dataset.state = state;
}
